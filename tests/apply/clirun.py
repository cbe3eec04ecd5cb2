"""Run the real ``skyplan`` command in a subprocess (as a user would)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def skyplan_argv() -> list[str]:
    script = Path(sys.executable).parent / "skyplan"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from skyplan.cli import main; main()"]


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["NO_COLOR"] = "1"
    e.pop("SKYPLAN_DEBUG", None)
    return e


def run(*args: str, cwd: Path | None = None, input: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(skyplan_argv() + list(args), cwd=cwd, input=input, capture_output=True, text=True,
                          timeout=timeout, env=env(), stdin=None if input is not None else subprocess.DEVNULL)


def popen(*args: str, cwd: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen(skyplan_argv() + list(args), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, env=env())

"""Run the real `skyplan` entry point (cli.main) in-process and capture what it prints."""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path | None = None) -> Ran:
    from skyplan.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    old_env = os.environ.get("NO_COLOR")
    os.environ["NO_COLOR"] = "1"
    code = 0
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(list(args))
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        os.chdir(old)
        if old_env is None:
            os.environ.pop("NO_COLOR", None)
        else:
            os.environ["NO_COLOR"] = old_env
    return Ran(code, out.getvalue(), err.getvalue())

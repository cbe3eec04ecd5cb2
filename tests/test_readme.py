"""The README's commands run as written from the repository root: the set-up command
(apply and status of the quickstart) and every line of the tour, each exiting 0,
on a machine with no cloud credentials and no kubeconfig."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.examples import copy_config

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def _block_after(heading: str) -> str:
    section = README.split(heading, 1)[1]
    return section.split("```bash\n", 1)[1].split("```", 1)[0]


def _commands(block: str) -> list[str]:
    """The lines of a bash block without their trailing # comments."""
    out = []
    for line in block.splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        if line:
            out.append(line)
    return out


@pytest.fixture
def checkout(tmp_path):
    """A repository root holding the configuration the README points at (never the
    user's own state in this checkout's examples/)."""
    root = tmp_path / "repo"
    root.mkdir()
    for folder in ("examples", "modules"):
        copy_config(REPO / folder, root / folder)
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "KUBECONFIG", "SKYPLAN_VAR_"))}
    env.update(HOME=str(home), KUBECONFIG=str(home / "no-kubeconfig"), AWS_EC2_METADATA_DISABLED="true",
               NO_COLOR="1", PYTHONPATH=str(REPO), SKYPLAN_CACHE_DIR=str(tmp_path / "cache"),
               PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    return root, env


def _run(line: str, root: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", "set -e; " + line], cwd=root, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=180)


def test_the_tour_names_a_folder_for_every_command():
    for line in _commands(_block_after("## A tour")):
        for part in line.split("&&"):
            words = part.split()
            assert words[0] == "skyplan", part
            if words[1] == "apply" and words[-1].endswith(".skyplan"):
                continue  # applying a saved plan file
            assert any(w.startswith("examples/") for w in words), f"no folder in: {part}"


@pytest.mark.slow
def test_setup_then_tour_from_the_repository_root(checkout):
    root, env = checkout
    setup = _commands(_block_after("## Set up"))[0]
    skyplan_part = setup[setup.index("skyplan "):]  # after creating the venv and installing
    r = _run(skyplan_part, root, env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Apply complete!" in r.stdout and "workload.train" in r.stdout
    for line in _commands(_block_after("## A tour")):
        r = _run(line, root, env)
        assert r.returncode == 0, f"{line}\n{r.stdout}\n{r.stderr}"
        assert "Traceback" not in r.stderr
    assert not (root / "examples" / "quickstart" / ".skyplan" / "state.db").exists() or \
        "No resources" in _run("skyplan status examples/quickstart", root, env).stdout

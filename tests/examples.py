"""Copying the repository's examples into a test's own folder.

An example folder in a checkout may hold what a user made by running it (the
README's set-up command applies examples/quickstart in place): `.skyplan/` with
state, local node folders and logs, saved plan files. Tests copy the
configuration only and so never read or change state the user made.
"""

from __future__ import annotations

import shutil
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# What running skyplan leaves in a configuration folder (see .gitignore), not configuration.
RUNTIME = (".skyplan", "*.skyplan", "__pycache__", "*.pyc", ".pytest_cache")


def copy_config(src: Path, dest: Path) -> Path:
    """Copy the configuration folder ``src`` to ``dest`` without skyplan's runtime files."""
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(*RUNTIME))
    return dest


def copy_example(name: str, dest: Path, *, examples: Path = EXAMPLES) -> Path:
    """Copy ``examples/<name>`` to ``dest`` (configuration only); returns ``dest``."""
    return copy_config(examples / name, dest)

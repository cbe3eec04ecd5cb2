"""The shipped snapshot is exactly what the facts tables build."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_snapshot_matches_the_facts_tables():
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "catalog" / "build.py"), "--check"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr

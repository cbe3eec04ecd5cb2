"""Backups of the state file: a consistent copy before every apply, the last N kept.

Copies are made with SQLite's online backup API, so a copy taken while another
process writes is still one committed version. They live in ``backups/`` beside
the state file, named ``state-<UTC time>-s<serial>.db``, mode 0600.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path


def backup_dir(state_path: Path) -> Path:
    return state_path.parent / "backups"


def list_backups(state_path: Path) -> list[Path]:
    """Backups of this state, oldest first."""
    d = backup_dir(state_path)
    return sorted(d.glob("state-*.db")) if d.is_dir() else []


def backup(conn: sqlite3.Connection, state_path: Path, serial: int, *, keep: int = 10) -> Path:
    d = backup_dir(state_path)
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    final = d / f"state-{stamp}-s{serial}.db"
    tmp = d / f".{final.name}.tmp"
    os.close(os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600))
    try:
        dst = sqlite3.connect(str(tmp))
        try:
            conn.backup(dst)
        finally:
            dst.close()
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()
    for old in list_backups(state_path)[: -max(1, keep)]:
        old.unlink(missing_ok=True)
    return final

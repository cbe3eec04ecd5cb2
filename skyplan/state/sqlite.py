"""SQLite plumbing for the state file: the header check that tells a foreign or
damaged file from a state file before SQLite touches it, and the translation
of SQLite faults into StateError messages that say what to do."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from skyplan.errors import StateError

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT = 30.0  # seconds a writer waits for another's transaction


def restore_hint(path: Path) -> str:
    return f"restore a copy from {path.parent / 'backups'} (kept before every apply), or use another --state"


def check_header(path: Path) -> None:
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as e:
        raise StateError(f"cannot read state file {path}: {e.strerror}") from None
    if head and head != SQLITE_MAGIC:
        raise StateError(f"{path} is not a skyplan state file (not an SQLite database, or corrupt)",
                         hint=restore_hint(path))


@contextmanager
def translate(path: Path) -> Iterator[None]:
    """Turn SQLite faults into StateError with a message a user can act on."""
    try:
        yield
    except sqlite3.DatabaseError as e:
        text = str(e)
        if "locked" in text or "busy" in text:
            raise StateError(f"state {path} is busy (another process is writing it): {text}",
                             hint="retry in a moment") from None
        if "malformed" in text or "not a database" in text or "corrupt" in text or "no such table" in text:
            raise StateError(f"state file {path} is corrupt: {text}", hint=restore_hint(path)) from None
        raise StateError(f"state file {path}: {text}", hint=restore_hint(path)) from None

"""The state lock: one row naming its holder, kept alive by a heartbeat.

Taking the lock is one ``BEGIN IMMEDIATE`` transaction that finds the lock
table empty and inserts a row, so of two processes racing for it exactly one
wins. The holder refreshes ``heartbeat`` from a background thread on its own
connection. A lock is *stale* when its holder is on this host and its pid is
gone, or when its heartbeat is older than the lease; stale locks are reported,
never taken over silently: ``skyplan force-unlock ID`` removes them.
"""

from __future__ import annotations

import getpass
import os
import socket
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from skyplan.errors import LockError, StateError

HEARTBEAT_SECONDS = 5.0
LEASE_SECONDS = 60.0


def hostname() -> str:
    return socket.gethostname()


def who() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry (containers)
        user = str(os.getuid())
    return f"{user}@{hostname()}"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped) holds nothing.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


@dataclass(frozen=True)
class LockInfo:
    """Who holds the state lock, for what, since when."""

    id: str
    operation: str
    who: str
    host: str
    pid: int
    created: str
    heartbeat: float  # epoch seconds of the last heartbeat
    version: str = ""

    def stale_reason(self, lease: float = LEASE_SECONDS, now: float | None = None) -> str:
        """Why this lock looks abandoned, or "" if its holder seems alive."""
        if self.host == hostname() and not pid_alive(self.pid):
            return f"process {self.pid} is no longer running on {self.host}"
        age = (time.time() if now is None else now) - self.heartbeat
        if age > lease:
            return f"its last heartbeat was {age:.0f}s ago (lease {lease:.0f}s)"
        return ""

    @property
    def heartbeat_iso(self) -> str:
        return datetime.fromtimestamp(self.heartbeat, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def describe(self) -> str:
        return (f'ID:        {self.id}\nOperation: {self.operation}\nWho:       {self.who}\n'
                f'PID:       {self.pid}\nVersion:   {self.version}\nCreated:   {self.created}\n'
                f'Heartbeat: {self.heartbeat_iso}')

    def to_json(self) -> dict:
        return {"id": self.id, "operation": self.operation, "who": self.who, "host": self.host,
                "pid": self.pid, "created": self.created, "heartbeat": self.heartbeat_iso,
                "version": self.version, "stale": self.stale_reason() or None}


_COLUMNS = "id, operation, who, host, pid, created, heartbeat, version"


def read_lock(conn: sqlite3.Connection) -> LockInfo | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM lock WHERE slot = 1").fetchone()
    return LockInfo(*row) if row else None


def held_error(holder: LockInfo, path: str, lease: float = LEASE_SECONDS) -> LockError:
    stale = holder.stale_reason(lease)
    msg = (f"state {path} is locked by {holder.who} (pid {holder.pid}) for {holder.operation!r} "
           f"since {holder.created}, lock ID {holder.id}")
    if stale:
        msg += f"\n  the lock looks stale: {stale}"
        hint = f"if no skyplan is running on it, remove the lock with: skyplan force-unlock {holder.id}"
    else:
        hint = ("wait for that operation to finish, or retry with -lock-timeout=DURATION; "
                f"if it is gone, run: skyplan force-unlock {holder.id}")
    err = LockError(msg, hint=hint)
    err.holder = holder  # type: ignore[attr-defined]
    return err


def check_lock_id(holder: LockInfo, lock_id: str, path: str) -> None:
    """Raise StateError unless ``lock_id`` names the lock ``holder`` holds."""
    if holder.id != lock_id:
        raise StateError(f"lock ID {lock_id!r} does not match the lock held on {path} "
                         f"(ID {holder.id}, {holder.operation!r} by {holder.who})",
                         hint=f"check the ID: skyplan force-unlock {holder.id}")


class Heartbeat:
    """Refreshes the lock row's heartbeat every ``interval`` seconds until stopped."""

    def __init__(self, path: str, lock_id: str, interval: float = HEARTBEAT_SECONDS):
        self.path, self.lock_id, self.interval = path, lock_id, interval
        self.lost = False  # set when the row disappeared (force-unlocked by someone)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="skyplan-lock-heartbeat", daemon=True)

    def start(self) -> "Heartbeat":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        try:
            while not self._stop.wait(self.interval):
                try:
                    cur = conn.execute("UPDATE lock SET heartbeat = ? WHERE id = ?", (time.time(), self.lock_id))
                except sqlite3.Error:
                    continue  # busy or transient: the next beat retries
                if cur.rowcount == 0:
                    self.lost = True
                    return
        finally:
            conn.close()

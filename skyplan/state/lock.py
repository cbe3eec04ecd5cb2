"""The state lock: one row naming its holder, kept alive by a heartbeat.

Taking the lock is one ``BEGIN IMMEDIATE`` transaction that finds the lock
table empty and inserts a row, so of two processes racing for it exactly one
wins. The holder refreshes ``heartbeat`` from a background thread on its own
connection.

A holder on this host is *provably gone* when its pid is no longer running, or
now belongs to a process that started after the lock was taken: its lock is
taken over at once, said, and journaled. A holder on another host cannot be
checked: its lock is *stale* once its heartbeat stopped longer ago than the
lease; that is reported with the age, and a command given ``-lock-timeout``
waits for the lease to run out and then takes the lock over. Each acquisition
gets the next ``generation`` (the fencing token): a holder whose lock row is gone
is refused every later write (``StateStore.check_lock``).
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


def pid_start_ticks(pid: int) -> str:
    """The kernel's start time of ``pid`` (clock ticks since boot, Linux /proc), or ""."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]  # field 22: starttime
    except (OSError, IndexError):
        return ""


def pid_started_at(pid: int) -> float | None:
    """When process ``pid`` started (epoch seconds), where the system says (Linux /proc)."""
    try:
        ticks = int(pid_start_ticks(pid))
        with open("/proc/stat") as f:
            btime = next(int(line.split()[1]) for line in f if line.startswith("btime "))
        return btime + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _epoch(iso: str) -> float | None:
    try:
        return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        try:
            return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None


# A process that started this long after the lock was taken cannot be its holder
# (the boot time /proc gives is whole seconds).
_PID_REUSE_MARGIN = 2.0


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
    generation: int = 0  # the fencing token: meta.lock_generation when it was taken
    pid_start: str = ""  # the holder's start time (pid_start_ticks), "" where unknown

    @property
    def local(self) -> bool:
        """Held by a process on this host (whose pid can be checked)."""
        return self.host == hostname()

    def gone_reason(self) -> str:
        """Why the holder is provably gone (same host only), or ""."""
        if not self.local:
            return ""
        if not pid_alive(self.pid):
            return f"process {self.pid} is no longer running on {self.host}"
        if self.pid_start:
            now = pid_start_ticks(self.pid)
            if now and now != self.pid_start:
                return (f"pid {self.pid} now belongs to another process (started later than the holder), "
                        "so its holder is gone")
            return ""
        started, created = pid_started_at(self.pid), _epoch(self.created)
        if started is not None and created is not None and started > created + _PID_REUSE_MARGIN:
            return (f"pid {self.pid} now belongs to a process that started after the lock was taken "
                    f"({self.created}), so its holder is gone")
        return ""

    def holder_alive(self) -> bool:
        """The holder is a running process on this host."""
        return self.local and not self.gone_reason()

    def heartbeat_age(self, now: float | None = None) -> float:
        return (time.time() if now is None else now) - self.heartbeat

    def stale_reason(self, lease: float = LEASE_SECONDS, now: float | None = None) -> str:
        """Why this lock looks abandoned, or "" if its holder seems alive."""
        gone = self.gone_reason()
        if gone:
            return gone
        age = self.heartbeat_age(now)
        if age > lease:
            return f"its last heartbeat was {age:.0f}s ago (lease {lease:.0f}s)"
        return ""

    def takeover_reason(self, lease: float = LEASE_SECONDS, *, waiting: bool = False, now: float | None = None) -> str:
        """Why this lock may be taken over now, or "": its holder on this host is provably
        gone; or (only for a caller that waits, ``-lock-timeout``) its holder is on another
        host and its heartbeat stopped longer ago than the lease."""
        if self.local:
            return self.gone_reason()
        age = self.heartbeat_age(now)
        if waiting and age > lease:
            return f"its heartbeat from {self.host} stopped {age:.0f}s ago, longer than the lease ({lease:.0f}s)"
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
                "version": self.version, "generation": self.generation, "stale": self.stale_reason() or None}


_COLUMNS = "id, operation, who, host, pid, created, heartbeat, version, generation, pid_start"


def read_lock(conn: sqlite3.Connection) -> LockInfo | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM lock WHERE slot = 1").fetchone()
    return LockInfo(*row) if row else None


def held_error(holder: LockInfo, path: str, lease: float = LEASE_SECONDS) -> LockError:
    stale = holder.stale_reason(lease)
    msg = (f"state {path} is locked by {holder.who} (pid {holder.pid}) for {holder.operation!r} "
           f"since {holder.created}, lock ID {holder.id}")
    if stale:
        msg += f"\n  the lock looks stale: {stale}"
    if holder.holder_alive():
        hint = (f"process {holder.pid} is still running on this host: wait for it to finish (or stop it), "
                "or retry with -lock-timeout=DURATION")
    elif stale:
        hint = (f"if no skyplan is running on {holder.host}, take the lock over with -lock-timeout=DURATION, "
                f"or remove it with: skyplan force-unlock {holder.id}")
    else:
        left = max(0.0, lease - holder.heartbeat_age())
        hint = ("wait for that operation to finish, or retry with -lock-timeout=DURATION; if it was stopped, "
                f"its lock is taken over once its heartbeat is older than the lease ({left:.0f}s from now)")
    err = LockError(msg, hint=hint)
    err.holder = holder  # type: ignore[attr-defined]
    return err


def refuse_live_holder(holder: LockInfo) -> None:
    """Raise LockError when ``holder`` is a running process on this host: removing its
    lock would let a second operation run beside it."""
    if holder.holder_alive():
        raise LockError(
            f"lock {holder.id} is held by process {holder.pid} ({holder.operation!r}), which is still running "
            "on this host; removing its lock would let two operations change state at once",
            hint=f"stop it first (e.g. kill {holder.pid}, or Ctrl-C in its terminal); its lock is then released, "
                 "or taken over by the next command")


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

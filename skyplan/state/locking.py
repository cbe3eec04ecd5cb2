"""The state lock as a StateStore holds it: acquiring (taking over a provably
dead holder's lock), the fencing check every write makes, force-unlock, and the
journal of what a holder that lost its lock did. ``lock.py`` has the lock row,
the staleness rules and the heartbeat; this is the part that needs the store."""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from contextlib import contextmanager
from typing import Iterator, Sequence

from skyplan.errors import LockLostError, StateError
from skyplan.state import schema
from skyplan.state.lock import (Heartbeat, LockInfo, check_lock_id, held_error, hostname, pid_start_ticks, read_lock,
                                refuse_live_holder)
from skyplan.state.model import ResourceRecord
from skyplan.state.redact import redact_record


def _version() -> str:
    from skyplan import __version__

    return __version__


class LockingMixin:
    """The locking half of StateStore (which provides ``_conn``, ``_mutex``, ``_write``,
    ``_journal``, ``path``, ``lease``, ``heartbeat_interval`` and the lock fields)."""

    @contextmanager
    def lock(self, operation: str, *, timeout: float = 0.0) -> Iterator[LockInfo]:
        """Hold the state lock for ``operation``. Re-entrant for this store object."""
        with self._mutex:
            if self._lock_info is not None:
                self._lock_depth += 1
                info = self._lock_info
            else:
                info = None
        if info is not None:
            try:
                yield info
            finally:
                with self._mutex:
                    self._lock_depth -= 1
            return
        info = self._acquire(operation, timeout)
        try:
            yield info
        finally:
            with self._mutex:
                self._release_lock()

    def current_lock(self) -> LockInfo | None:
        with self._mutex, self._translate():
            return read_lock(self._conn)

    def force_unlock(self, lock_id: str) -> None:
        """Remove the lock row with ``lock_id``; refused while its holder runs on this host."""
        with self._write() as conn:
            holder = read_lock(conn)
            if holder is None:
                raise StateError(f"state {self.path} is not locked")
            check_lock_id(holder, lock_id, str(self.path))
            refuse_live_holder(holder)
            conn.execute("DELETE FROM lock WHERE id = ?", (lock_id,))
            self._journal(conn, "lock", "force-unlock", "ok",
                          f"removed lock {lock_id} ({holder.operation!r} by {holder.who}, pid {holder.pid})",
                          holder.to_json(), None, bump=False)

    def _acquire(self, operation: str, timeout: float) -> LockInfo:
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            took_over: tuple[LockInfo, str] | None = None
            with self._mutex, self._translate():
                conn = self._conn
                conn.execute("BEGIN IMMEDIATE")
                try:
                    holder = read_lock(conn)
                    if holder is not None:
                        why = holder.takeover_reason(self.lease, waiting=timeout > 0)
                        if why:
                            conn.execute("DELETE FROM lock WHERE id = ?", (holder.id,))
                            took_over, holder = (holder, why), None
                    if holder is None:
                        generation = conn.execute("UPDATE meta SET lock_generation = lock_generation + 1 "
                                                  "WHERE id = 1 RETURNING lock_generation").fetchone()[0]
                        info = self._insert_lock(conn, operation, generation, took_over)
                    conn.execute("COMMIT")
                except BaseException:
                    self._lock_info = None
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                if holder is None:
                    self._lock_info, self._lock_depth = info, 0
                    self._heartbeat = Heartbeat(str(self.path.absolute()), info.id, self.heartbeat_interval).start()
                    if took_over is not None:
                        old, why = took_over
                        self.on_notice(f"Took over the state lock of {old.operation!r} by {old.who} (pid {old.pid}, "
                                       f"lock ID {old.id}): {why}. Recorded in the state journal.")
                    return info
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise held_error(holder, str(self.path), self.lease)
            time.sleep(min(0.1, remaining))

    def _insert_lock(self, conn, operation: str, generation: int, took_over: tuple[LockInfo, str] | None,
                     **extra: object) -> LockInfo:
        """Write this process's lock row (generation ``generation``; ``extra`` columns a
        backend adds) in the acquiring transaction, journalling a takeover."""
        info = LockInfo(str(uuid.uuid4()), operation, self._who, hostname(), os.getpid(), schema.now_iso(),
                        time.time(), _version(), generation, pid_start_ticks(os.getpid()))
        cols = {"slot": 1, "id": info.id, "operation": info.operation, "who": info.who, "host": info.host,
                "pid": info.pid, "created": info.created, "heartbeat": info.heartbeat, "version": info.version,
                "generation": info.generation, "pid_start": info.pid_start, **extra}
        conn.execute(f"INSERT INTO lock ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                     tuple(cols.values()))
        if took_over is not None:
            self._journal_takeover(conn, info, took_over)
        return info

    def _journal_takeover(self, conn, info: LockInfo, took_over: tuple[LockInfo, str]) -> None:
        """Journal, in the acquiring transaction, whose lock ``info`` took over and why."""
        old, why = took_over
        self._lock_info = info  # the journal row names this operation
        self._journal(conn, "lock", "lock-takeover", "ok",
                      f"took over lock {old.id} ({old.operation!r} by {old.who}, pid {old.pid}, "
                      f"generation {old.generation}): {why}", old.to_json(), None, bump=False)

    def check_lock(self) -> None:
        """Raise LockLostError if this store held the lock and its row is no longer its own
        (force-unlocked, or taken over after its lease ran out). No-op without a lock."""
        info = self._lock_info
        if info is None:
            return
        with self._mutex, self._translate():
            self._check_fence(self._conn, info)

    def _check_fence(self, conn: sqlite3.Connection, info: LockInfo) -> None:
        holder = read_lock(conn)
        if holder is not None and holder.id == info.id:
            return
        if holder is None:
            what = "it was removed (force-unlock)"
        else:
            what = (f"it is now held by {holder.who} (pid {holder.pid}) for {holder.operation!r}, "
                    f"generation {holder.generation}")
        raise LockLostError(f"this {info.operation!r} lost the state lock {info.id} (generation {info.generation}): "
                            f"{what}", hint="nothing more is started or written by it; run plan again to "
                            "see what it left")

    def journal_lost(self, address: str, action: str, detail: str, after: ResourceRecord | None = None,
                     sensitive_paths: Sequence[str] = ()) -> None:
        """Journal (only) what a holder that lost its lock did but could not record; the
        resource rows are left to the current holder. ``sensitive_paths`` of ``after`` are
        redacted, with those state records for the address."""
        paths = sorted(set(self.sensitive_paths(address)) | set(sensitive_paths))
        with self._mutex:
            saved, self._fence = self._fence, False
            try:
                with self._write() as conn:
                    self._journal(conn, address, action, "lock-lost", detail, None,
                                  redact_record(after.to_json(), paths) if after is not None else None, bump=False)
            finally:
                self._fence = saved

    def _release_lock(self) -> None:
        info, hb = self._lock_info, self._heartbeat
        self._lock_info, self._heartbeat, self._lock_depth = None, None, 0
        if hb:
            hb.stop()
        if info:
            with self._translate():
                self._conn.execute("DELETE FROM lock WHERE id = ?", (info.id,))

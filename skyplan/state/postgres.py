"""The PostgreSQL state backend: the StateStore contract on a named state in a
shared database, for a team and its CI runners.

Each state lives in its own schema with the same tables as the SQLite file,
created by named migrations (``pgconn.py``). The store reuses StateStore's SQL
through ``pgconn.PgConn``, which speaks the sqlite3 calls the store makes.

The lock is a session-level ``pg_try_advisory_lock`` on a key derived from the
state's name, taken on a dedicated connection that the heartbeat keeps busy,
plus the lock row naming the holder. When a holder dies its session ends and
PostgreSQL releases the advisory lock: the next acquirer finds the lock free
but a row left, takes it over and journals why. Every write checks, under a
``FOR SHARE`` row lock, that the lock row is still this holder's generation, so
a writer that lost its lock changes nothing. ``force-unlock`` removes the row
and ends the holder's lock session. Two states never share a key, so they never
wait on each other.

A connection dropped during a write is retried with backoff; whether the
interrupted transaction committed is asked of the server (``txid_status``), so a
retry never records twice. If the server stays unreachable the write fails with
StateUnreachable (a LockLostError: the apply starts nothing more).
"""

from __future__ import annotations

import json
import os
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from skyplan.errors import LockError, LockLostError, StateError
from skyplan.state.location import PostgresLocation
from skyplan.state.lock import LockInfo, check_lock_id, read_lock
from skyplan.state.pgconn import (MIGRATIONS, REGISTRY, ConnectionLost, PgConn, _connect, _key, _migrate,  # noqa: F401
                                   _now, _open_conn, schema_name, state_exists)
from skyplan.state.store import StateStore

RETRY_SECONDS = float(os.environ.get("SKYPLAN_STATE_RETRY_SECONDS") or 30.0)  # how long a write retries
# a dropped connection before giving up


class StateUnreachable(LockLostError):
    """The database could not be reached again within RETRY_SECONDS during a write."""

    unreachable = True  # apply says the database, not another holder, stopped it


def _held(holder: LockInfo, where: str) -> LockError:
    """The lock is held by a live database session: say by whom and what ends it."""
    msg = (f"state {where} is locked by {holder.who} (pid {holder.pid}) for {holder.operation!r} "
           f"since {holder.created}, lock ID {holder.id}")
    age = holder.heartbeat_age()
    if holder.holder_alive():
        hint = (f"process {holder.pid} is still running on this host: wait for it to finish (or stop it), "
                "or retry with -lock-timeout=DURATION")
    else:
        hint = ("wait for that operation to finish, or retry with -lock-timeout=DURATION; its database session "
                "holds the lock until that process ends or loses its connection (PostgreSQL then releases it)")
        if age > 60:
            msg += f"\n  its last heartbeat was {age:.0f}s ago: the process may hang"
            hint += f"; if it hangs, end it, or: skyplan force-unlock {holder.id}"
    err = LockError(msg, hint=hint)
    err.holder = holder  # type: ignore[attr-defined]
    return err


class PostgresStore(StateStore):
    """StateStore on PostgreSQL; ``StateStore``'s reading and writing code runs unchanged."""

    backend = "postgres"
    _BEGIN_WRITE = "BEGIN"
    _BEGIN_READ = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
    retry_seconds = RETRY_SECONDS

    def __init__(self, loc: PostgresLocation, conn: PgConn):
        self._lock_conn: PgConn | None = None
        self._txid: int | None = None
        self.unreachable: StateUnreachable | None = None  # set once the database could not be reached again
        self.unrecorded: list[str] = []  # what was done but could not be recorded (said by the CLI)
        super().__init__(loc, conn)  # type: ignore[arg-type]

    @classmethod
    def open(cls, location, *, create: bool = True) -> "PostgresStore":  # type: ignore[override]
        conn = PgConn(location, _connect(location))
        try:
            _migrate(conn, location, create)
            conn.execute(f'SET search_path TO "{schema_name(location.name)}"')
            return cls(location, conn)
        except BaseException:
            conn.close()
            raise

    def close(self) -> None:
        with self._mutex:
            if self._heartbeat:
                try:
                    self._release_lock()
                except StateError:
                    pass
            self._conn.close()
            if self._lock_conn is not None:
                self._lock_conn.close()
                self._lock_conn = None

    @contextmanager
    def _translate(self) -> Iterator[None]:
        yield  # PgConn already turns driver faults into StateError

    def _restore_hint(self) -> str:
        return "restore an earlier version with skyplan state push (state pull keeps a copy), or use another state name"

    # ---- writes survive a dropped connection -------------------------------------------------

    @contextmanager
    def atomic(self):
        with self._mutex:
            outer = self._depth == 0
            if outer:
                self._txid = None  # known once this transaction has begun
            with super().atomic() as conn:
                if outer:
                    self._txid = conn.execute("SELECT txid_current()").fetchone()[0]
                yield conn

    _write = atomic

    def _reconnect(self) -> None:
        # Once the database stayed away for the whole budget, later calls try once.
        deadline = time.monotonic() + (0.0 if self.unreachable else self.retry_seconds)
        wait = 0.2
        while True:
            try:
                conn = _open_conn(self.path)  # type: ignore[arg-type]
            except StateError as e:
                if time.monotonic() + wait > deadline:
                    self.unreachable = StateUnreachable(f"cannot reach the state database {self.path} again "
                                           f"(tried for {self.retry_seconds:.0f}s): {e.message if hasattr(e, 'message') else e}",
                                           hint="nothing more is started; see what was done but not recorded "
                                                "below, and run plan again once the database is back")
                    raise self.unreachable from None
                time.sleep(wait)
                wait = min(wait * 2, 3.0)
                continue
            self._conn.close()
            self._conn, self.unreachable = conn, None
            return

    def _retrying(self, fn, *args, **kwargs):
        """Run the write ``fn``; if the connection drops, reconnect (with backoff) and run it
        again unless the server says the interrupted transaction committed. Inside an
        outer ``atomic()`` the whole outer transaction is lost, so that is not retried."""
        with self._mutex:
            if self._depth:
                return fn(*args, **kwargs)
            while True:
                try:
                    return fn(*args, **kwargs)
                except ConnectionLost:
                    txid = self._txid
                    while True:
                        self._reconnect()
                        try:
                            if txid is not None and self._committed(txid):  # only its answer was lost
                                return self._conn.execute("SELECT serial FROM meta WHERE id = 1").fetchone()[0]
                            break
                        except ConnectionLost:
                            continue

    def _committed(self, txid: int) -> bool:
        """Whether the transaction ``txid`` (interrupted by a dropped connection) committed."""
        try:
            return self._conn.execute("SELECT txid_status(?)", (txid,)).fetchone()[0] == "committed"
        except ConnectionLost:
            raise
        except StateError as e:
            if "in the future" in str(e):  # a server restart forgot it: it never committed
                return False
            raise

    def record(self, *a, **k):
        return self._retrying(super().record, *a, **k)

    def forget(self, *a, **k):
        return self._retrying(super().forget, *a, **k)

    def keep_placements(self, *a, **k):
        return self._retrying(super().keep_placements, *a, **k)

    def journal_event(self, *a, **k):
        return self._retrying(super().journal_event, *a, **k)

    def set_outputs(self, *a, **k):
        return self._retrying(super().set_outputs, *a, **k)

    def move(self, *a, **k):
        return self._retrying(super().move, *a, **k)

    def journal_lost(self, address: str, action: str, detail: str, after=None, sensitive_paths=()) -> None:
        """As StateStore.journal_lost; when the database cannot be reached, what was done is
        kept in ``unrecorded`` for the command to say (the nodes carry their lineage tags)."""
        try:
            self._retrying(super().journal_lost, address, action, detail, after, sensitive_paths)
        except StateUnreachable:
            if after is not None or "not recorded" in detail:
                self.unrecorded.append(f"{address} ({action}): {detail}")

    def _read_one(self, sql: str, args: tuple = ()):
        try:
            return super()._read_one(sql, args)
        except ConnectionLost:
            with self._mutex:
                if self._depth:
                    raise
                self._reconnect()
            return super()._read_one(sql, args)

    def snapshot(self):
        try:
            return super().snapshot()
        except ConnectionLost:
            with self._mutex:
                self._reconnect()
            return super().snapshot()

    # ---- backups: kept in the state's own schema ------------------------------------------------

    def backup(self, keep: int = 10) -> str:
        doc = self.export_json()
        with self._write() as conn:
            conn.execute("INSERT INTO backups (at, serial, document) VALUES (?, ?, ?)",
                         (_now(), doc["serial"], json.dumps(doc)))
            conn.execute("DELETE FROM backups WHERE id NOT IN (SELECT id FROM backups ORDER BY id DESC LIMIT ?)",
                         (max(1, keep),))
        return f"{self.path} backup of serial {doc['serial']}"

    def backups(self) -> list[tuple[str, int]]:
        with self._mutex:
            return [(at, s) for at, s in self._conn.execute("SELECT at, serial FROM backups ORDER BY id")]

    # ---- the lock -------------------------------------------------------------------------------

    def _acquire(self, operation: str, timeout: float) -> LockInfo:
        loc: PostgresLocation = self.path  # type: ignore[assignment]
        key = _key(loc.name)
        deadline = time.monotonic() + max(0.0, timeout)
        lock_conn = _open_conn(loc)
        lock_conn.execute("SET tcp_keepalives_idle = 10")
        lock_conn.execute("SET tcp_keepalives_interval = 5")
        lock_conn.execute("SET tcp_keepalives_count = 3")
        backend_pid = lock_conn.raw.info.backend_pid
        try:
            while not lock_conn.execute("SELECT pg_try_advisory_lock(?)", (key,)).fetchone()[0]:
                remaining = deadline - time.monotonic()
                if remaining > 0:
                    time.sleep(min(0.1, remaining))
                    continue
                # Held: say by whom (its row follows its advisory lock within a transaction).
                for _ in range(40):
                    holder = self.current_lock()
                    if holder is not None:
                        raise _held(holder, str(loc))
                    time.sleep(0.05)
                raise LockError(f"state {loc} is being locked by another process",
                                hint="retry in a moment, or with -lock-timeout=DURATION")
            took_over = None
            with self._mutex:
                conn = self._conn
                conn.execute("BEGIN")
                try:
                    old = read_lock(conn)
                    if old is not None:  # the advisory lock was free: its holder's session is gone
                        conn.execute("DELETE FROM lock WHERE id = ?", (old.id,))
                        took_over = (old, f"its database session ended (holder on {old.host} died or lost its "
                                          "connection), so PostgreSQL released its lock")
                    generation = conn.execute("UPDATE meta SET lock_generation = lock_generation + 1 "
                                              "WHERE id = 1 RETURNING lock_generation").fetchone()[0]
                    info = self._insert_lock(conn, operation, generation, took_over, backend_pid=backend_pid)
                    conn.execute("COMMIT")
                except BaseException:
                    self._lock_info = None
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                self._lock_info, self._lock_depth, self._lock_conn = info, 0, lock_conn
                self._heartbeat = PgHeartbeat(self, info.id, key, self.heartbeat_interval).start()
        except BaseException:
            if self._lock_conn is not lock_conn:
                lock_conn.close()
            raise
        if took_over is not None:
            o, why = took_over
            self.on_notice(f"Took over the state lock of {o.operation!r} by {o.who} (pid {o.pid}, lock ID {o.id}): "
                           f"{why}. Recorded in the state journal.")
        return info

    def _check_fence(self, conn, info: LockInfo) -> None:
        # FOR SHARE: a takeover or force-unlock waits for this write to commit.
        row = conn.execute("SELECT id FROM lock WHERE slot = 1 FOR SHARE").fetchone()
        if row is None or row[0] != info.id:
            super()._check_fence(conn, info)  # says who holds it now, and raises

    def force_unlock(self, lock_id: str) -> None:
        """Remove the lock row ``lock_id`` and end its holder's lock session (which
        releases the advisory lock); refused while the holder runs on this host."""
        from skyplan.state.lock import refuse_live_holder

        with self._write() as conn:
            holder = read_lock(conn)
            if holder is None:
                raise StateError(f"state {self.path} is not locked")
            check_lock_id(holder, lock_id, str(self.path))
            refuse_live_holder(holder)
            backend = conn.execute("SELECT backend_pid FROM lock WHERE id = ?", (lock_id,)).fetchone()[0]
            conn.execute("DELETE FROM lock WHERE id = ?", (lock_id,))
            self._journal(conn, "lock", "force-unlock", "ok",
                          f"removed lock {lock_id} ({holder.operation!r} by {holder.who}, pid {holder.pid})",
                          holder.to_json(), None, bump=False)
        if backend:
            try:
                self._conn.execute("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                                   "AND pid = ? AND granted", (backend,))
            except StateError:
                pass  # not allowed to end it: the holder's writes are refused all the same (its row is gone)

    def _release_lock(self) -> None:
        info, hb, lock_conn = self._lock_info, self._heartbeat, self._lock_conn
        self._lock_info, self._heartbeat, self._lock_depth, self._lock_conn = None, None, 0, None
        if hb:
            hb.stop()
        try:
            if info:
                try:
                    self._conn.execute("DELETE FROM lock WHERE id = ?", (info.id,))
                except ConnectionLost:
                    try:
                        self._reconnect()
                        self._conn.execute("DELETE FROM lock WHERE id = ?", (info.id,))
                    except StateError:
                        pass  # its session ends below: the next holder takes the row over
        finally:
            if lock_conn is not None:
                lock_conn.close()  # ends the session: the advisory lock goes with it


class PgHeartbeat:
    """Refreshes the lock row's heartbeat on the lock connection. If that connection
    drops (server restart), reconnects and takes the advisory lock again while the
    row is still this holder's; ``lost`` once it is not."""

    def __init__(self, store: PostgresStore, lock_id: str, key: int, interval: float):
        self.store, self.lock_id, self.key, self.interval = store, lock_id, key, interval
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="skyplan-lock-heartbeat", daemon=True)

    def start(self) -> "PgHeartbeat":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _beat(self, conn: PgConn) -> bool:
        cur = conn.execute("UPDATE lock SET heartbeat = ? WHERE id = ?", (time.time(), self.lock_id))
        return cur.rowcount > 0

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            conn = self.store._lock_conn
            if conn is None:
                return
            try:
                if not self._beat(conn):
                    self.lost = True
                    return
            except ConnectionLost:
                self._relock()
                if self.lost:
                    return
            except StateError:
                continue

    def _relock(self) -> None:
        loc = self.store.path
        while not self._stop.is_set():
            try:
                conn = _open_conn(loc)  # type: ignore[arg-type]
            except StateError:
                self._stop.wait(0.5)
                continue
            try:
                got = conn.execute("SELECT pg_try_advisory_lock(?)", (self.key,)).fetchone()[0]
                if got and self._beat(conn):
                    pid = conn.raw.info.backend_pid
                    conn.execute("UPDATE lock SET backend_pid = ? WHERE id = ?", (pid, self.lock_id))
                    old, self.store._lock_conn = self.store._lock_conn, conn
                    if old is not None:
                        old.close()
                    return
            except StateError:
                conn.close()
                self._stop.wait(0.5)
                continue
            conn.close()
            self.lost = True  # another holder has it now; our writes are fenced off
            return

"""StateStore: the one SQLite file that says what skyplan has created.

Every change is one transaction that also bumps the serial and writes a journal
row (``synchronous=FULL`` in WAL mode), so a process killed at any moment leaves
each resource at its old or its new version, never a mix. Reads are a single
read transaction and yield an immutable Snapshot. One store object may be used
from several threads (apply runs actions in parallel): calls are serialised.

While this store holds the lock, every write first checks, in its own
transaction, that the lock row is still this holder's (the fencing token, see
``lock.py``): a holder whose lock was force-unlocked or taken over gets
LockLostError and changes nothing more. ``journal_lost`` still records in the
journal what such a holder did, so the next run can account for it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import threading
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from skyplan.addrs import Address
from skyplan.errors import StateError
from skyplan.state import schema
from skyplan.state.codec import RESOURCE_COLUMNS, bulk_decoding, decode_record, dumps, encode_record, resource_row, unpack
from skyplan.state.lock import LEASE_SECONDS, HEARTBEAT_SECONDS, Heartbeat, LockInfo, who
from skyplan.state.locking import LockingMixin
from skyplan.state.model import ResourceRecord, Snapshot
from skyplan.state.redact import SENSITIVE, redact_record
from skyplan.state.sqlite import BUSY_TIMEOUT, check_header, restore_hint, translate

_MARKS = ",".join("?" * 17)

UNUSABLE_PATH_HINT = ('point `skyplan { state { path = "..." } }` (or --state) at a file in a folder you can '
                      'write, or remove the setting to keep state in .skyplan/state.db beside the configuration')


def _why_unusable(path: Path, error: OSError) -> str:
    """Say why ``path`` cannot be created, naming the part of it that is in the way."""
    below = path
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                return f"{parent} is a file, not a folder"
            if below != path:  # a missing folder in a read-only (or virtual, like /proc) one
                return f"the folder {below} cannot be made in {parent} ({error.strerror or error})"
            break
        below = parent
    return error.strerror or str(error)


class StateStore(LockingMixin):
    """Open with ``StateStore.open(path)``; use as a context manager or ``close()``."""

    heartbeat_interval = HEARTBEAT_SECONDS
    lease = LEASE_SECONDS
    backend = "sqlite"
    _BEGIN_WRITE = "BEGIN IMMEDIATE"
    _BEGIN_READ = "BEGIN"

    def __init__(self, path: Path, conn: sqlite3.Connection):
        self.path = path
        self._conn = conn
        self._mutex = threading.RLock()
        self._lock_info: LockInfo | None = None
        self._lock_depth = 0
        self._heartbeat: Heartbeat | None = None
        self._depth = 0  # nesting of atomic()
        self._fence = True  # writes check the lock row while a lock is held
        self._who = who()
        # Where the store says what it did on its own (a lock taken over); the CLI shows it.
        self.on_notice: Callable[[str], None] = lambda text: print(text, file=sys.stderr, flush=True)
        row = self._read_one("SELECT lineage FROM meta WHERE id = 1")
        if not row:
            raise StateError(f"state file {path} has no lineage record; it is damaged",
                             hint=self._restore_hint())
        self._lineage = row[0]

    # ---- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike, *, create: bool = True) -> "StateStore":
        """Open (and with ``create``, create) the state file; migrate it to this schema."""
        path = Path(path).expanduser()
        if not path.exists():
            if not create:
                raise StateError(f"no state at {path}; run skyplan apply first",
                                 hint="or pass --state PATH to use another state file")
            try:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            except OSError as e:
                raise StateError(f"cannot create the state file {path}: {_why_unusable(path, e)}",
                                 hint=UNUSABLE_PATH_HINT) from None
        elif path.is_dir():
            raise StateError(f"state path {path} is a folder, not a state file", hint=UNUSABLE_PATH_HINT)
        check_header(path)
        try:
            conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False,
                                   timeout=BUSY_TIMEOUT)
        except sqlite3.Error as e:
            raise StateError(f"cannot open state file {path}: {e}") from None
        try:
            with translate(path):
                # Refuse a file that is not ours (or is newer) before anything is written to
                # it: switching to WAL rewrites the database header.
                version = schema.check_version(conn, str(path))
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = FULL")
                if version < schema.SCHEMA_VERSION:
                    schema.migrate(conn, str(path))
                store = cls(path, conn)
        except BaseException:
            conn.close()
            raise
        return store

    def close(self) -> None:
        with self._mutex:
            if self._heartbeat:
                self._release_lock()
            self._conn.close()

    def __enter__(self) -> "StateStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- reading -------------------------------------------------------------------------

    @property
    def lineage(self) -> str:
        """Fixed at creation; only a forced ``state push`` of another state replaces it."""
        row = self._read_one("SELECT lineage FROM meta WHERE id = 1")
        self._lineage = row[0]
        return self._lineage

    @property
    def serial(self) -> int:
        return self._read_one("SELECT serial FROM meta WHERE id = 1")[0]

    def snapshot(self) -> Snapshot:
        """Everything in state, read in one read transaction."""
        with self._mutex, self._translate():
            conn = self._conn
            own = not conn.in_transaction  # inside atomic() the open transaction is the snapshot
            if own:
                conn.execute(self._BEGIN_READ)
            try:
                lineage, serial = conn.execute("SELECT lineage, serial FROM meta WHERE id = 1").fetchone()
                rows = conn.execute("SELECT record, sensitive_paths FROM resources").fetchall()
                outs = conn.execute("SELECT name, value, sensitive FROM outputs ORDER BY name").fetchall()
            finally:
                if own:
                    conn.execute("COMMIT")
        loads = json.loads
        resources = {}
        sensitive = {}
        try:
            with bulk_decoding():
                for text, paths in rows:
                    rec = unpack(loads(text))
                    resources[rec.address] = rec
                    if paths and paths != "[]":
                        sensitive[rec.address] = tuple(loads(paths))
                outputs = {name: {"value": loads(value), "sensitive": bool(sens)} for name, value, sens in outs}
        except (ValueError, KeyError, TypeError, IndexError) as e:
            raise StateError(f"state file {self.path} holds a damaged record ({type(e).__name__}: {e})",
                             hint=self._restore_hint()) from None
        return Snapshot(lineage=lineage, serial=serial, resources=resources, outputs=outputs, sensitive=sensitive)

    def get(self, address: str) -> ResourceRecord | None:
        row = self._read_one("SELECT record FROM resources WHERE address = ?", (address,))
        if not row:
            return None
        try:
            return decode_record(row[0])
        except (ValueError, KeyError, TypeError, IndexError) as e:
            raise StateError(f"state file {self.path} holds a damaged record for {address} ({e})",
                             hint=self._restore_hint()) from None

    def sensitive_paths(self, address: str) -> tuple[str, ...]:
        row = self._read_one("SELECT sensitive_paths FROM resources WHERE address = ?", (address,))
        return tuple(json.loads(row[0])) if row else ()

    def history(self, limit: int | None = None, address: str | None = None) -> list[dict]:
        """Journal rows, newest first (before/after already redacted)."""
        sql = ("SELECT id, serial, at, who, pid, operation, address, action, outcome, detail, before, after, generation"
               " FROM journal")
        args: list[Any] = []
        if address:
            sql += " WHERE address = ?"
            args.append(address)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        with self._mutex, self._translate():
            rows = self._conn.execute(sql, args).fetchall()
        keys = ("id", "serial", "at", "who", "pid", "operation", "address", "action", "outcome", "detail")
        out = []
        for r in rows:
            d = dict(zip(keys, r[:10]))
            d["before"] = json.loads(r[10]) if r[10] else None
            d["after"] = json.loads(r[11]) if r[11] else None
            d["generation"] = r[12]
            out.append(d)
        return out

    # ---- writing -------------------------------------------------------------------------

    def record(self, rec: ResourceRecord, *, action: str, before: ResourceRecord | None = None,
               outcome: str = "ok", detail: str = "", sensitive_paths: Sequence[str] = ()) -> int:
        """Upsert one resource and journal it in one transaction; returns the new serial."""
        now = schema.now_iso()
        with self._write() as conn:
            row = conn.execute("SELECT record, sensitive_paths, created_at FROM resources WHERE address = ?",
                               (rec.address,)).fetchone()
            stored_paths = json.loads(row[1]) if row else []
            paths = sorted(set(sensitive_paths)) if sensitive_paths else stored_paths
            created = (row[2] if row else "") or rec.created_at or now
            rec = replace(rec, created_at=created, updated_at=now)
            data = rec.to_json()
            if row:
                conn.execute("DELETE FROM resources WHERE address = ?", (rec.address,))
            conn.execute(f"INSERT INTO resources ({RESOURCE_COLUMNS}) VALUES ({_MARKS})", resource_row(rec, paths))
            before_data = before.to_json() if before is not None else (decode_record(row[0]).to_json() if row else None)
            every = set(paths) | set(stored_paths)
            return self._journal(conn, rec.address, action, outcome, detail,
                                 redact_record(before_data, every), redact_record(data, every), bump=True)

    def forget(self, address: str, *, action: str = "delete", outcome: str = "ok", detail: str = "") -> int:
        """Remove one resource from state (not from the cloud) and journal it."""
        with self._write() as conn:
            row = conn.execute("SELECT record, sensitive_paths FROM resources WHERE address = ?",
                               (address,)).fetchone()
            if not row:
                raise StateError(f"no resource {address} in state {self.path}",
                                 hint="see what state holds with: skyplan state list")
            conn.execute("DELETE FROM resources WHERE address = ?", (address,))
            before = redact_record(decode_record(row[0]).to_json(), json.loads(row[1]))
            return self._journal(conn, address, action, outcome, detail, before, None, bump=True)

    def journal_event(self, address: str, action: str, outcome: str, detail: str = "",
                      before: ResourceRecord | Mapping | None = None,
                      after: ResourceRecord | Mapping | None = None) -> None:
        """Journal something that changed no resource (a failed create, a skipped action)."""
        paths = self.sensitive_paths(address)

        def plain(x):
            return x.to_json() if isinstance(x, ResourceRecord) else (dict(x) if x is not None else None)

        with self._write() as conn:
            self._journal(conn, address, action, outcome, detail,
                          redact_record(plain(before), paths), redact_record(plain(after), paths), bump=False)

    def placement_memo(self) -> dict[str, dict[str, dict]]:
        """The placements the last plan solved, by input digest (skyplan.state.placements)."""
        from skyplan.state import placements

        return placements.load(self)

    def keep_placements(self, memo: Mapping[str, Mapping[str, dict]]) -> None:
        """Replace the placement memo with ``memo``; no serial change."""
        from skyplan.state import placements

        placements.save(self, memo)

    def set_outputs(self, outputs: Mapping[str, Mapping]) -> int:
        """Replace the outputs (name -> {"value", "sensitive"}); serial += 1 if they changed."""
        new = {name: (dumps(o.get("value")), bool(o.get("sensitive", False))) for name, o in outputs.items()}
        with self._write() as conn:
            old = {n: (v, bool(s)) for n, v, s in conn.execute("SELECT name, value, sensitive FROM outputs")}
            if old == new:
                return conn.execute("SELECT serial FROM meta WHERE id = 1").fetchone()[0]
            conn.execute("DELETE FROM outputs")
            conn.executemany("INSERT INTO outputs (name, value, sensitive) VALUES (?, ?, ?)",
                             [(n, v, int(s)) for n, (v, s) in sorted(new.items())])

            def shown(table):
                return {n: SENSITIVE if s else json.loads(v) for n, (v, s) in sorted(table.items())}

            changed = sorted(n for n in set(old) | set(new) if old.get(n) != new.get(n))
            return self._journal(conn, "outputs", "outputs", "ok", "changed: " + ", ".join(changed),
                                 shown(old), shown(new), bump=True)

    def move(self, src: str, dst: str) -> int:
        """Rename ``src`` to ``dst`` in state only; the cloud is not touched."""
        try:
            a, b = Address.parse(src), Address.parse(dst)
        except ValueError as e:
            raise StateError(str(e)) from None
        if a.kind != b.kind:
            raise StateError(f"cannot move {src} to {dst}: a {a.kind} can only move to a {a.kind} address")
        src, dst = str(a), str(b)
        with self._write() as conn:
            row = conn.execute("SELECT record, sensitive_paths FROM resources WHERE address = ?", (src,)).fetchone()
            if not row:
                raise StateError(f"no resource {src} in state {self.path}",
                                 hint="see what state holds with: skyplan state list")
            if conn.execute("SELECT 1 FROM resources WHERE address = ?", (dst,)).fetchone():
                raise StateError(f"cannot move {src} to {dst}: {dst} is already in state",
                                 hint=f"remove it first with: skyplan state rm {dst}")
            old = decode_record(row[0])
            new = replace(old, address=dst, updated_at=schema.now_iso())
            conn.execute("UPDATE resources SET address = ?, record = ?, updated_at = ? WHERE address = ?",
                         (dst, encode_record(new), new.updated_at, src))
            paths = json.loads(row[1])
            return self._journal(conn, dst, "move", "ok", f"moved from {src}",
                                 redact_record(old.to_json(), paths), redact_record(new.to_json(), paths), bump=True)

    # ---- portable JSON and backups (see portable.py, backup.py) ----------------------------

    def export_json(self) -> dict:
        from skyplan.state.portable import export_state

        return export_state(self)

    def import_json(self, data: Mapping, *, force: bool = False) -> int:
        from skyplan.state.portable import import_state

        return import_state(self, data, force=force)

    def backup(self, keep: int = 10) -> Path:
        from skyplan.state.backup import backup

        with self._mutex, self._translate():
            return backup(self._conn, self.path, self.serial, keep=keep)

    # ---- internals -----------------------------------------------------------------------

    def _translate(self):
        return translate(self.path)

    def _restore_hint(self) -> str:
        return restore_hint(self.path)

    def _read_one(self, sql: str, args: tuple = ()) -> tuple | None:
        with self._mutex, self._translate():
            return self._conn.execute(sql, args).fetchone()

    @contextmanager
    def atomic(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; nested calls become savepoints of the outer one."""
        with self._mutex, self._translate():
            conn = self._conn
            name = f"sp{self._depth + 1}"
            conn.execute(self._BEGIN_WRITE if self._depth == 0 else f"SAVEPOINT {name}")
            self._depth += 1  # only once begun: a BEGIN that failed (busy, disconnected) leaves no depth
            try:
                if self._depth == 1 and self._fence and self._lock_info is not None:
                    self._check_fence(conn, self._lock_info)
                yield conn
                conn.execute("COMMIT" if self._depth == 1 else f"RELEASE {name}")
            except BaseException:
                if self._depth == 1:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                else:
                    conn.execute(f"ROLLBACK TO {name}")
                    conn.execute(f"RELEASE {name}")
                raise
            finally:
                self._depth -= 1

    _write = atomic

    def _journal(self, conn: sqlite3.Connection, address: str, action: str, outcome: str, detail: str,
                 before: Any, after: Any, *, bump: bool) -> int:
        if bump:
            serial = conn.execute("UPDATE meta SET serial = serial + 1 WHERE id = 1 RETURNING serial").fetchone()[0]
        else:
            serial = conn.execute("SELECT serial FROM meta WHERE id = 1").fetchone()[0]
        operation = self._lock_info.operation if self._lock_info else ""
        generation = self._lock_info.generation if self._lock_info else 0
        conn.execute(
            "INSERT INTO journal (serial, at, who, pid, operation, address, action, outcome, detail, before, after,"
            " generation) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (serial, schema.now_iso(), self._who, os.getpid(), operation, address, action, outcome, detail,
             dumps(before) if before is not None else None, dumps(after) if after is not None else None,
             generation))
        return serial

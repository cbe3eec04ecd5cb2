"""The state file's schema and its named migrations.

Each migration is a name and a list of SQL statements, applied in its own
transaction together with its row in ``migrations`` and the new
``PRAGMA user_version``, so a state file is always at exactly one schema
version. A file whose version is higher than the last migration this build
knows was written by a newer skyplan and is refused.

Tables (migration ``0001_initial``):

``meta``        one row: lineage (uuid fixed at creation), serial, created_at
``resources``   one row per managed address: flat columns for queries and
                listings plus ``record``, the full ResourceRecord JSON
``journal``     every action: serial, when, who, operation, before/after
                (sensitive values redacted), outcome
``outputs``     name, value JSON, sensitive flag
``lock``        at most one row: the holder of the state lock
``migrations``  the names of the migrations applied, in order

Migration ``0002_lock_generation`` adds the fencing token: ``meta.lock_generation``
counts every acquisition of the lock, ``lock.generation`` is the holder's, and
``journal.generation`` says which holder wrote each row; ``lock.pid_start`` is
the holder's process start time as the kernel gives it, so a reused pid is told
apart from the holder. A write by a holder
whose lock row is gone is refused (see ``StateStore.check_lock``).

Migration ``0003_placement_spec`` adds ``placement_specs``: each self-contained
workload's solved placement under the digest of its inputs, which the next plan
keeps instead of solving again (skyplan.state.placements, skyplan.solver.memo).
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import datetime, timezone

from skyplan.errors import StateError

# migration 0003_placement_spec: the placement memo (skyplan.state.placements)
_PLACEMENT_SPECS = """CREATE TABLE placement_specs (
    digest TEXT NOT NULL, address TEXT NOT NULL, document TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (digest, address))"""

_INITIAL = [
    """CREATE TABLE migrations (
        id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, applied_at TEXT NOT NULL)""",
    """CREATE TABLE meta (
        id INTEGER PRIMARY KEY CHECK (id = 1), lineage TEXT NOT NULL,
        serial INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL)""",
    """CREATE TABLE resources (
        address TEXT PRIMARY KEY, kind TEXT NOT NULL, provider TEXT, region TEXT, zone TEXT,
        instance_type TEXT, pricing TEXT, hourly_price REAL NOT NULL DEFAULT 0,
        provider_ids TEXT NOT NULL DEFAULT '[]', attributes TEXT NOT NULL DEFAULT '{}',
        config_hash TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, tainted INTEGER NOT NULL DEFAULT 0,
        sensitive_paths TEXT NOT NULL DEFAULT '[]', record TEXT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    """CREATE TABLE journal (
        id INTEGER PRIMARY KEY AUTOINCREMENT, serial INTEGER NOT NULL, at TEXT NOT NULL,
        who TEXT NOT NULL, pid INTEGER NOT NULL, operation TEXT NOT NULL DEFAULT '',
        address TEXT NOT NULL, action TEXT NOT NULL, outcome TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '', before TEXT, after TEXT)""",
    "CREATE INDEX journal_address ON journal (address)",
    """CREATE TABLE outputs (
        name TEXT PRIMARY KEY, value TEXT NOT NULL, sensitive INTEGER NOT NULL DEFAULT 0)""",
    """CREATE TABLE lock (
        slot INTEGER PRIMARY KEY CHECK (slot = 1), id TEXT NOT NULL, operation TEXT NOT NULL,
        who TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL, created TEXT NOT NULL,
        heartbeat REAL NOT NULL, version TEXT NOT NULL)""",
]

CAPACITY_MEMORY = """CREATE TABLE capacity_memory (
        address TEXT NOT NULL, provider TEXT NOT NULL, region TEXT NOT NULL, zone TEXT NOT NULL DEFAULT '',
        pricing TEXT NOT NULL DEFAULT 'spot', reason TEXT NOT NULL DEFAULT '',
        observed_at TEXT NOT NULL, expires_at TEXT NOT NULL,
        PRIMARY KEY (address, provider, region, zone, pricing))"""

# (name, statements). Append only; never edit a migration that has shipped.
MIGRATIONS: list[tuple[str, list[str]]] = [
    ("0001_initial", _INITIAL),
    ("0002_lock_generation", [
        "ALTER TABLE meta ADD COLUMN lock_generation INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE lock ADD COLUMN generation INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE lock ADD COLUMN pid_start TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE journal ADD COLUMN generation INTEGER NOT NULL DEFAULT 0",
    ]),
    ("0003_placement_spec", [_PLACEMENT_SPECS]),
    # where spot capacity was lost, remembered across runs until it expires (state/capacity.py)
    ("0004_capacity_memory", [CAPACITY_MEMORY]),
]
SCHEMA_VERSION = len(MIGRATIONS)


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def check_version(conn: sqlite3.Connection, path: str) -> int:
    """Return the file's schema version; refuse files from a newer skyplan or not ours."""
    version = schema_version(conn)
    if version > SCHEMA_VERSION:
        raise StateError(
            f"state file {path} was written by a newer skyplan (state schema version {version}; "
            f"this skyplan understands up to {SCHEMA_VERSION})",
            hint="upgrade skyplan to work with this state; it was left unchanged",
        )
    if version == 0:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        if tables:
            raise StateError(
                f"{path} is an SQLite database but not a skyplan state file (tables: {', '.join(sorted(tables))})",
                hint="point --state (or skyplan { state { path } }) at a skyplan state file",
            )
    else:
        names = [r[0] for r in conn.execute("SELECT name FROM migrations ORDER BY id")]
        known = [name for name, _ in MIGRATIONS[: len(names)]]
        if names != known:
            raise StateError(
                f"state file {path} has migrations this skyplan does not know: {', '.join(names)}",
                hint="it was probably written by another build of skyplan; upgrade skyplan",
            )
    return version


def migrate(conn: sqlite3.Connection, path: str) -> None:
    """Bring the file up to SCHEMA_VERSION, one transaction per migration."""
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = check_version(conn, path)
            if version >= SCHEMA_VERSION:
                conn.execute("COMMIT")
                return
            name, statements = MIGRATIONS[version]
            for sql in statements:
                conn.execute(sql)
            if version == 0:
                conn.execute("INSERT INTO meta (id, lineage, serial, created_at) VALUES (1, ?, 0, ?)",
                             (str(uuid.uuid4()), now_iso()))
            conn.execute("INSERT INTO migrations (name, applied_at) VALUES (?, ?)", (name, now_iso()))
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

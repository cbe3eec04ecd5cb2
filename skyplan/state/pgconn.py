"""The PostgreSQL backend's connection and schema: ``PgConn`` (the sqlite3 calls
StateStore makes, on a psycopg connection in autocommit mode, faults turned into
StateError that never show the password), the per-state schema ``sp_<hash of the
name>`` listed in ``public.skyplan_states``, and its named migrations, each in its
own transaction with its row in ``migrations``, serialised across processes by a
transaction advisory lock on the state's key."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from skyplan.errors import StateError
from skyplan.state.location import PostgresLocation, redact_text
from skyplan.state.schema import CAPACITY_MEMORY

REGISTRY = "public.skyplan_states"

_INITIAL = [
    "CREATE TABLE migrations (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE, applied_at TEXT NOT NULL)",
    """CREATE TABLE meta (
        id INTEGER PRIMARY KEY CHECK (id = 1), lineage TEXT NOT NULL, serial BIGINT NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL, lock_generation BIGINT NOT NULL DEFAULT 0, name TEXT NOT NULL)""",
    """CREATE TABLE resources (
        address TEXT PRIMARY KEY, kind TEXT NOT NULL, provider TEXT, region TEXT, zone TEXT,
        instance_type TEXT, pricing TEXT, hourly_price DOUBLE PRECISION NOT NULL DEFAULT 0,
        provider_ids TEXT NOT NULL DEFAULT '[]', attributes TEXT NOT NULL DEFAULT '{}',
        config_hash TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, tainted INTEGER NOT NULL DEFAULT 0,
        sensitive_paths TEXT NOT NULL DEFAULT '[]', record TEXT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    """CREATE TABLE journal (
        id BIGSERIAL PRIMARY KEY, serial BIGINT NOT NULL, at TEXT NOT NULL,
        who TEXT NOT NULL, pid INTEGER NOT NULL, operation TEXT NOT NULL DEFAULT '',
        address TEXT NOT NULL, action TEXT NOT NULL, outcome TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '', before TEXT, after TEXT, generation BIGINT NOT NULL DEFAULT 0)""",
    "CREATE INDEX journal_address ON journal (address)",
    "CREATE TABLE outputs (name TEXT PRIMARY KEY, value TEXT NOT NULL, sensitive INTEGER NOT NULL DEFAULT 0)",
    """CREATE TABLE lock (
        slot INTEGER PRIMARY KEY CHECK (slot = 1), id TEXT NOT NULL, operation TEXT NOT NULL,
        who TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL, created TEXT NOT NULL,
        heartbeat DOUBLE PRECISION NOT NULL, version TEXT NOT NULL, generation BIGINT NOT NULL DEFAULT 0,
        pid_start TEXT NOT NULL DEFAULT '', backend_pid INTEGER NOT NULL DEFAULT 0)""",
    """CREATE TABLE backups (
        id BIGSERIAL PRIMARY KEY, at TEXT NOT NULL, serial BIGINT NOT NULL, document TEXT NOT NULL)""",
]
# (name, statements). Append only; never edit a migration that has shipped.
MIGRATIONS: list[tuple[str, list[str]]] = [
    ("0001_initial", _INITIAL),
    # the placement memo (skyplan.state.placements); numbered as SQLite's, which needed a 0002
    ("0003_placement_spec", ["""CREATE TABLE placement_specs (
        digest TEXT NOT NULL, address TEXT NOT NULL, document TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (digest, address))"""]),
    # where spot capacity was lost, remembered across runs until it expires (state/capacity.py)
    ("0004_capacity_memory", [CAPACITY_MEMORY]),
]


def _driver():
    try:
        import psycopg
    except ImportError:
        raise StateError("the postgres state backend needs psycopg 3",
                         hint="install it with: pip install 'skyplan[postgres]'") from None
    return psycopg


def _key(name: str) -> int:
    """The advisory lock key of a state: 64 bits of a hash of its name."""
    return int.from_bytes(hashlib.sha256(f"skyplan-state:{name}".encode()).digest()[:8], "big", signed=True)


def schema_name(name: str) -> str:
    return "sp_" + hashlib.sha256(name.encode()).hexdigest()[:24]


def _connect(loc: PostgresLocation, *, timeout: float = 10.0):
    psycopg = _driver()
    try:
        return psycopg.connect(loc.url, autocommit=True, connect_timeout=max(1, int(timeout)),
                               application_name="skyplan", keepalives=1, keepalives_idle=10,
                               keepalives_interval=5, keepalives_count=3)
    except psycopg.Error as e:
        raise StateError(f"cannot connect to the state database {loc}: {_first_line(e, loc)}",
                         hint="check the URL (skyplan { state { url } } or SKYPLAN_STATE_URL), that the server "
                              "runs, and the password (PGPASSWORD, ~/.pgpass or the URL)") from None


def _first_line(e: BaseException, loc: PostgresLocation) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return redact_text(text, loc.url)


class ConnectionLost(StateError):
    pass


class PgConn:
    """The sqlite3-style calls StateStore makes (``execute`` with ``?`` marks,
    ``executemany``, ``in_transaction``) on a psycopg connection in autocommit
    mode, with faults turned into StateError naming the state (never its password)."""

    def __init__(self, loc: PostgresLocation, raw):
        self.loc, self.raw = loc, raw

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s")

    def _fault(self, e: Exception) -> StateError:
        psycopg = _driver()
        if isinstance(e, psycopg.OperationalError) or self.raw.closed or self.raw.broken:
            return ConnectionLost(f"lost the connection to the state database {self.loc}: {_first_line(e, self.loc)}")
        return StateError(f"state {self.loc}: {_first_line(e, self.loc)}")

    def execute(self, sql: str, args: Any = ()):
        psycopg = _driver()
        try:
            return self.raw.execute(self._sql(sql), tuple(args) if args else None)
        except psycopg.Error as e:
            raise self._fault(e) from None

    def executemany(self, sql: str, rows):
        psycopg = _driver()
        rows = list(rows)
        if not rows:
            return None
        try:
            with self.raw.cursor() as cur:
                cur.executemany(self._sql(sql), rows)
        except psycopg.Error as e:
            raise self._fault(e) from None

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        if self.raw.closed or self.raw.broken:
            return False
        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def close(self) -> None:
        try:
            self.raw.close()
        except Exception:
            pass


def state_exists(loc: PostgresLocation) -> bool:
    raw = _connect(loc)
    try:
        conn = PgConn(loc, raw)
        if conn.execute("SELECT to_regclass(?)", (REGISTRY,)).fetchone()[0] is None:
            return False
        return conn.execute(f"SELECT 1 FROM {REGISTRY} WHERE name = ?", (loc.name,)).fetchone() is not None
    finally:
        raw.close()


def _migrate(conn: PgConn, loc: PostgresLocation, create: bool) -> None:
    """Create the state (with ``create``) and bring its schema up to date, one
    transaction per migration, serialised across processes on the state's key."""
    schema = schema_name(loc.name)
    while True:
        conn.execute("BEGIN")
        try:
            conn.execute("SELECT pg_advisory_xact_lock(?)", (_key(loc.name) ^ 1,))
            conn.execute(f"CREATE TABLE IF NOT EXISTS {REGISTRY} (name TEXT PRIMARY KEY, schema TEXT NOT NULL UNIQUE,"
                         " created_at TEXT NOT NULL)")
            known = conn.execute(f"SELECT schema FROM {REGISTRY} WHERE name = ?", (loc.name,)).fetchone()
            if known is None:
                if not create:
                    raise StateError(f"no state {loc.name!r} in {loc}; run skyplan apply first",
                                     hint="or check skyplan { state { name } }")
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                conn.execute(f"INSERT INTO {REGISTRY} (name, schema, created_at) VALUES (?, ?, ?)",
                             (loc.name, schema, _now()))
            conn.execute(f'SET LOCAL search_path TO "{schema}"')
            has = conn.execute("SELECT to_regclass(?)", (f'"{schema}".migrations',)).fetchone()[0] is not None
            names = [r[0] for r in conn.execute("SELECT name FROM migrations ORDER BY id")] if has else []
            if names != [n for n, _ in MIGRATIONS[: len(names)]]:
                raise StateError(f"state {loc} has migrations this skyplan does not know: {', '.join(names)}",
                                 hint="it was written by a newer or another build of skyplan; upgrade skyplan")
            if len(names) >= len(MIGRATIONS):
                conn.execute("COMMIT")
                return
            name, statements = MIGRATIONS[len(names)]
            for sql in statements:
                conn.execute(sql)
            if not names:
                conn.execute("INSERT INTO meta (id, lineage, serial, created_at, name) VALUES (1, ?, 0, ?, ?)",
                             (str(uuid.uuid4()), _now(), loc.name))
            conn.execute("INSERT INTO migrations (name, applied_at) VALUES (?, ?)", (name, _now()))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def _now() -> str:
    from skyplan.state.schema import now_iso

    return now_iso()


def _open_conn(loc: PostgresLocation) -> PgConn:
    conn = PgConn(loc, _connect(loc))
    conn.execute(f'SET search_path TO "{schema_name(loc.name)}"')
    return conn

"""``skyplan state migrate``: copy a whole state to another backend (a SQLite file
or a named state in PostgreSQL): resources, outputs, lineage, serial, and the
journal with its history, in one transaction on the destination. The source is
left as it was; the configuration switches only when the user edits it."""

from __future__ import annotations

from skyplan.errors import StateError
from skyplan.state.codec import RESOURCE_COLUMNS

_JOURNAL = "serial, at, who, pid, operation, address, action, outcome, detail, before, after, generation"


def copy_state(src, dst, *, force: bool = False) -> dict:
    """Copy ``src`` into ``dst`` (both open stores, both locked by the caller).
    Refused, unless ``force``, when ``dst`` already holds a written state."""
    with src.atomic() as conn:  # one consistent read of the source
        lineage, serial = conn.execute("SELECT lineage, serial FROM meta WHERE id = 1").fetchone()
        resources = [tuple(r) for r in conn.execute(f"SELECT {RESOURCE_COLUMNS} FROM resources ORDER BY address")]
        outputs = [tuple(r) for r in conn.execute("SELECT name, value, sensitive FROM outputs ORDER BY name")]
        journal = [tuple(r) for r in conn.execute(f"SELECT {_JOURNAL} FROM journal ORDER BY id")]
    with dst.atomic() as conn:
        had = conn.execute("SELECT serial FROM meta WHERE id = 1").fetchone()[0]
        count = conn.execute("SELECT count(*) FROM resources").fetchone()[0]
        if (had or count) and not force:
            raise StateError(f"cannot migrate: {dst.path} already holds a state (serial {had}, {count} resource(s))",
                             hint="choose another --name or file, or pass --force to replace it")
        for table in ("resources", "outputs", "journal"):
            conn.execute(f"DELETE FROM {table}")
        marks = ",".join("?" * len(RESOURCE_COLUMNS.split(",")))
        conn.executemany(f"INSERT INTO resources ({RESOURCE_COLUMNS}) VALUES ({marks})", resources)
        conn.executemany("INSERT INTO outputs (name, value, sensitive) VALUES (?, ?, ?)", outputs)
        conn.executemany(f"INSERT INTO journal ({_JOURNAL}) VALUES ({','.join('?' * 12)})", journal)
        conn.execute("UPDATE meta SET lineage = ?, serial = ? WHERE id = 1", (lineage, serial))
        dst._lineage = lineage
        dst._journal(conn, "state", "migrate", "ok",
                     f"copied from {src.path}: {len(resources)} resource(s), {len(journal)} journal row(s)",
                     None, None, bump=False)
    return {"lineage": lineage, "serial": serial, "resources": len(resources), "journal": len(journal),
            "outputs": len(outputs)}

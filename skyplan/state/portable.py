"""The portable state JSON of ``state pull`` / ``state push``.

``export_state`` writes every resource (full ResourceRecord JSON plus its
sensitive paths), the outputs, lineage and serial; ``import_state`` validates a
document against ``schemas/state.schema.json`` and replaces the state with it in
one transaction. Pushing is refused, unless forced, when the lineage differs
(another state) or the document's serial is older than the state's (it would
undo changes). A state that has never been written (serial 0) accepts any
lineage. The serial after a push is above both, so plans made before it are
stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from skyplan.errors import StateError
from skyplan.state.codec import RESOURCE_COLUMNS, bulk_decoding, decode_record, dumps, resource_row

if TYPE_CHECKING:
    from skyplan.state.store import StateStore

FORMAT_VERSION = 1
SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schemas" / "state.schema.json"


def export_state(store: "StateStore") -> dict:
    from skyplan import __version__

    with store.atomic() as conn:  # one consistent read
        lineage, serial = conn.execute("SELECT lineage, serial FROM meta WHERE id = 1").fetchone()
        rows = conn.execute("SELECT record, sensitive_paths FROM resources ORDER BY address").fetchall()
        outs = conn.execute("SELECT name, value, sensitive FROM outputs ORDER BY name").fetchall()
    resources = []
    with bulk_decoding():
        for text, paths in rows:
            d = decode_record(text).to_json()
            d["sensitive_paths"] = json.loads(paths)
            resources.append(d)
    return {
        "format_version": FORMAT_VERSION, "skyplan_version": __version__, "lineage": lineage, "serial": serial,
        "resources": resources,
        "outputs": {n: {"value": json.loads(v), "sensitive": bool(s)} for n, v, s in outs},
    }


def validate_document(data: object) -> None:
    """Raise StateError naming the first problem if ``data`` is not portable state JSON."""
    import jsonschema

    schema = json.loads(SCHEMA_FILE.read_text())
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.absolute_path) or "(top level)"
        raise StateError(f"not a skyplan state document: at {where}: {e.message}",
                         hint="state push takes a file written by: skyplan state pull")
    if isinstance(data, dict) and data.get("format_version", 0) > FORMAT_VERSION:
        raise StateError(f"state document format {data['format_version']} is newer than this skyplan "
                         f"understands ({FORMAT_VERSION})", hint="upgrade skyplan")


def import_state(store: "StateStore", data: Mapping, *, force: bool = False) -> int:
    validate_document(data)
    try:
        records = [(decode_record(r), sorted(set(r.get("sensitive_paths", ())))) for r in data["resources"]]
    except (KeyError, TypeError, ValueError) as e:
        raise StateError(f"not a skyplan state document: bad resource entry ({e})") from None
    seen: set[str] = set()
    for rec, _ in records:
        if rec.address in seen:
            raise StateError(f"state document lists {rec.address} twice")
        seen.add(rec.address)
    with store.atomic() as conn:
        lineage, serial = conn.execute("SELECT lineage, serial FROM meta WHERE id = 1").fetchone()
        pushed_lineage, pushed_serial = data["lineage"], int(data["serial"])
        if serial > 0 and not force:
            if pushed_lineage != lineage:
                raise StateError(
                    f"cannot push: the document's lineage {pushed_lineage} differs from this state's {lineage} "
                    "(it is a different state)", hint="pass --force to replace this state with it anyway")
            if pushed_serial < serial:
                raise StateError(
                    f"cannot push: the document's serial {pushed_serial} is older than this state's {serial}; "
                    "pushing it would undo later changes", hint="pull again, or pass --force to overwrite")
        conn.execute("DELETE FROM resources")
        conn.executemany(
            f"INSERT INTO resources ({RESOURCE_COLUMNS}) VALUES ({','.join('?' * 17)})",
            [resource_row(rec, paths) for rec, paths in records])
        conn.execute("DELETE FROM outputs")
        conn.executemany("INSERT INTO outputs (name, value, sensitive) VALUES (?, ?, ?)",
                         [(n, dumps(o.get("value")), int(bool(o.get("sensitive"))))
                          for n, o in sorted(data.get("outputs", {}).items())])
        new_serial = max(serial, pushed_serial) + 1
        conn.execute("UPDATE meta SET lineage = ?, serial = ? WHERE id = 1", (pushed_lineage, new_serial))
        store._lineage = pushed_lineage
        detail = f"pushed {len(records)} resource(s), document serial {pushed_serial}"
        if pushed_lineage != lineage:
            detail += f", lineage {lineage} replaced by {pushed_lineage}"
        store._journal(conn, "state", "push", "ok", detail + (" (forced)" if force else ""),
                       None, None, bump=False)
    return new_serial


__all__ = ["export_state", "import_state", "validate_document", "FORMAT_VERSION"]

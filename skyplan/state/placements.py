"""The placement memo kept in state: each self-contained workload's solved placement
under the digest of everything its solution depends on (skyplan.solver.memo).

Table ``placement_specs`` (migration ``0003_placement_spec``, on both backends):
``digest``, ``address``, ``document`` (the JSON of the placement, its candidate
table and the backend that solved it), ``updated_at``. It lives in the state
database, not beside it, so a team sharing a PostgreSQL state shares it too.
It is a memo, not state: an entry answers exactly the inputs its digest names,
so a stale or foreign one is never wrong, only not found. It changes no serial,
is not in the snapshot, the portable JSON or a state copy, and every plan
replaces it with the entries of its own solve.
"""

from __future__ import annotations

import json
from typing import Mapping

from skyplan.state import schema

def load(store) -> dict[str, dict[str, dict]]:
    """digest -> {address: document}; entries that cannot be read are left out (misses)."""
    with store._mutex, store._translate():
        rows = store._conn.execute("SELECT digest, address, document FROM placement_specs").fetchall()
    out: dict[str, dict[str, dict]] = {}
    loads = json.loads
    for digest, address, text in rows:
        try:
            out.setdefault(digest, {})[address] = loads(text)
        except ValueError:
            continue
    return out


def save(store, memo: Mapping[str, Mapping[str, dict]]) -> None:
    """Replace the memo with ``memo`` in one transaction (no serial change)."""
    now = schema.now_iso()
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    rows = [(digest, address, dumps(doc), now) for digest, members in sorted(memo.items())
            for address, doc in sorted(members.items())]
    with store.atomic() as conn:
        conn.execute("DELETE FROM placement_specs")
        if rows:
            conn.executemany("INSERT INTO placement_specs (digest, address, document, updated_at) VALUES (?, ?, ?, ?)",
                             rows)

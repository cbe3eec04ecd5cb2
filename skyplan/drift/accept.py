"""Refresh-only acceptance: write what the providers report into state.

``accept_refreshed(store, refreshed)`` records every record whose refreshed
form differs from what state holds, one transaction per resource (journalled
as ``refresh``), and touches no cloud object. Unmanaged objects are not
adopted here: adopting needs a configuration to match, which is the planner's
job. Returns the number of records written.
"""

from __future__ import annotations

from skyplan.drift.classify import Refreshed
from skyplan.errors import StalePlanError


def accept_refreshed(store, refreshed: Refreshed) -> int:
    """Write the refreshed records of ``refreshed`` into ``store``; no cloud changes.

    Raises StalePlanError when the state's lineage is not the one refreshed.
    """
    snap = refreshed.snapshot
    if store.lineage and snap.lineage and store.lineage != snap.lineage:
        raise StalePlanError(
            f"the refreshed snapshot belongs to state lineage {snap.lineage}, not {store.lineage}",
            hint="refresh again against this state")
    by_address = {d.address: d for d in refreshed.drift}
    written = 0
    for address in sorted(snap.resources):
        rec = snap.resources[address]
        current = store.get(address)
        if current is None:
            continue  # removed from state since the refresh: nothing to accept
        if _same(current, rec):
            continue
        item = by_address.get(address)
        detail = f"refresh-only: {item.category}" + (f" ({', '.join(item.paths)})" if item and item.paths else "") \
            if item else "refresh-only: provider view recorded"
        store.record(rec, action="refresh", before=current, detail=detail)
        written += 1
    return written


def _same(a, b) -> bool:
    ja, jb = a.to_json(), b.to_json()
    for j in (ja, jb):
        j.pop("updated_at", None)
        j.pop("created_at", None)
    return ja == jb

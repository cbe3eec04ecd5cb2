"""A fleet is destroyed only once nothing runs on it; what a plan says about Capacity Blocks.

A plan that deletes a fleet while a workload recorded as packed onto it stays
(neither deleted in the same plan nor re-placed off the fleet) is refused: the
workload would lose the capacity it runs in. When the workloads go in the same
plan, apply's graph deletes them first (they depend on the fleet), then the
fleet and its cloud reservation. Finished jobs hold nothing and do not count.

Two facts about Capacity Blocks every rendering shows (text, JSON, Markdown):
a workload placed on a block that has not started waits for it (``waits_for``:
the fleet and its start), and deleting a bought block cancels nothing, as EC2
cannot cancel one (``block_kept``: it is forgotten and billed until its end).
"""

from __future__ import annotations

import datetime as dt
from typing import Sequence

from skyplan.errors import FleetInUseError
from skyplan.planner.model import Action, Change
from skyplan.state.model import FAILED, SUCCEEDED, Snapshot


def _on(change: Change, fleet: str) -> bool:
    wp = change.placement
    return wp is not None and any(g.chosen.fleet == fleet for g in wp.groups)


def check_fleet_destroys(changes: Sequence[Change], base: Snapshot) -> None:
    """Raise FleetInUseError (a PlanError) naming each fleet the plan deletes while workloads still run on it."""
    leaving = sorted(c.address for c in changes if c.kind == "fleet" and c.action is Action.DELETE)
    if not leaving:
        return
    by_addr = {c.address: c for c in changes}
    problems, in_use = [], {}
    for fleet in leaving:
        staying = []
        for address, rec in sorted(base.resources.items()):
            if address == fleet or rec.status in (SUCCEEDED, FAILED):
                continue
            if not any(g.placement.fleet == fleet for g in rec.groups):
                continue
            c = by_addr.get(address)
            if c is not None and (c.action is Action.DELETE or
                                  (c.action in (Action.CREATE,) or c.action.is_replace) and not _on(c, fleet)):
                continue
            staying.append(address)
        if staying:
            problems.append(f"{fleet} would be destroyed while {', '.join(staying)} still run on it")
            in_use[fleet] = staying
    if problems:
        raise FleetInUseError("; ".join(problems), in_use=in_use,
                        hint="destroy those workloads in the same plan (workloads go first, then the fleet), "
                             "or place them elsewhere before removing the fleet")


def waits_for(change: Change) -> dict | None:
    """``{"fleet", "starts_at"}`` when a group of ``change`` is placed on a Capacity
    Block that has not started (the latest start when several wait), else None."""
    wp = change.placement
    if wp is None or change.action is Action.DELETE:
        return None
    waiting = [g.chosen for g in wp.groups if g.chosen.starts_at and g.chosen.fleet]
    if not waiting:
        return None
    p = max(waiting, key=lambda x: _when(x.starts_at))
    return {"fleet": p.fleet, "starts_at": p.starts_at}


def wait_text(wait: dict) -> str:
    return f"waits for {wait['fleet']}, starts {short_time(wait['starts_at'])}"


def short_time(text: str) -> str:
    """``2026-12-03T10:00:00+00:00`` as ``2026-12-03T10:00Z`` (UTC, to the minute)."""
    try:
        return _when(text).astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%MZ")
    except ValueError:
        return text


def _when(text: str) -> dt.datetime:
    t = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def block_kept(c: Change) -> dict | None:
    """What deleting (or replacing) a bought Capacity Block does: EC2 cannot cancel
    one, so it is forgotten and billed until its end. ``{"reservation_id",
    "ends_at", "message"}``, or None for any other change."""
    if c.kind != "fleet" or not (c.action is Action.DELETE or c.action.is_replace) or c.prior is None:
        return None
    blocks = [i for g in c.prior.groups for i in g.instances if i.attributes.get("reservation") == "capacity_block"]
    if not blocks:
        return None
    end = blocks[0].attributes.get("end_date")
    return {"reservation_id": blocks[0].id, "ends_at": end,
            "message": "a Capacity Block cannot be cancelled on EC2: skyplan forgets it, and it stays billed "
                       f"until its end ({end or 'unknown'})"}

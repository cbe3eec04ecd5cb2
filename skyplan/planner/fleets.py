"""A fleet is destroyed only once nothing runs on it.

A plan that deletes a fleet while a workload recorded as packed onto it stays
(neither deleted in the same plan nor re-placed off the fleet) is refused: the
workload would lose the capacity it runs in. When the workloads go in the same
plan, apply's graph deletes them first (they depend on the fleet), then the
fleet and its cloud reservation. Finished jobs hold nothing and do not count.
"""

from __future__ import annotations

from typing import Sequence

from skyplan.errors import PlanError
from skyplan.planner.model import Action, Change
from skyplan.state.model import FAILED, SUCCEEDED, Snapshot


def _on(change: Change, fleet: str) -> bool:
    wp = change.placement
    return wp is not None and any(g.chosen.fleet == fleet for g in wp.groups)


def check_fleet_destroys(changes: Sequence[Change], base: Snapshot) -> None:
    """Raise PlanError naming each fleet the plan deletes while workloads still run on it."""
    leaving = sorted(c.address for c in changes if c.kind == "fleet" and c.action is Action.DELETE)
    if not leaving:
        return
    by_addr = {c.address: c for c in changes}
    problems = []
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
    if problems:
        raise PlanError("; ".join(problems),
                        hint="destroy those workloads in the same plan (workloads go first, then the fleet), "
                             "or place them elsewhere before removing the fleet")

"""Replacing some replicas of a service, not all of them.

A service's replicas are its node groups, and each serves on its own: when one
is preempted, stops answering its readiness probe, or the solver moves it (a spot
replica that falls back to on-demand, or goes back to spot), only that replica is
replaced; the others keep running untouched. (A job's groups are one run
together, so a job is still replaced whole.)

``align``: the planned groups put in the order of the recorded ones, so a group
that stays where it runs keeps its number (the solver lists groups by option, not
by replica). ``relaunched``: the group numbers a plan launches afresh, each
replacing the recorded group of the same number.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Collection

from skyplan.planner import attrs as A
from skyplan.providers.base import GONE_STATES, PREEMPTED
from skyplan.solver.model import WorkloadPlacement
from skyplan.state.model import ResourceRecord

GONE = GONE_STATES | {PREEMPTED}  # a node in such a state no longer serves


def align(wp: WorkloadPlacement | None, rec: ResourceRecord | None) -> WorkloadPlacement | None:
    """``wp`` with its groups reordered so that position i holds a planned group placed
    like recorded group i whenever one is; the groups left fill the other positions in
    their order. Only the order changes: the same groups, the same total."""
    if wp is None or rec is None or len(wp.groups) < 2 or not rec.groups:
        return wp
    new = A.placement_view(A.planned_groups(wp))
    old = A.placement_view(A.recorded_groups(rec))
    free = list(range(len(new)))
    slot: dict[int, int] = {}  # position -> planned group
    for i, view in enumerate(old[:len(new)]):
        j = next((j for j in free if new[j] == view), None)
        if j is not None:
            slot[i] = j
            free.remove(j)
    rest = iter(free)
    order = [slot[i] if i in slot else next(rest) for i in range(len(new))]
    if order == list(range(len(new))):
        return wp
    return replace(wp, groups=tuple(wp.groups[j] for j in order))


def relaunched(wp: WorkloadPlacement, rec: ResourceRecord, requested: Collection[int] = (),
               placement_ignored: bool = False) -> tuple[int, ...]:
    """Group numbers (below both counts) to launch afresh: the planned placement
    differs from the recorded one, the group lost nodes, or it was asked for
    (``requested``: repair's unhealthy or preempted replicas)."""
    new = A.placement_view(A.planned_groups(wp))
    old = A.placement_view(A.recorded_groups(rec))
    out = []
    for i in range(min(len(new), len(old))):
        group = rec.groups[i]
        live = [x for x in group.instances if x.state not in GONE]
        moved = not placement_ignored and new[i] != old[i]
        if moved or len(live) < group.objects or i in requested:
            out.append(i)
    return tuple(out)


def describe(groups: tuple[int, ...], total: int) -> str:
    """``replacing replicas 1 and 2 of 3; the others keep running``."""
    names = [str(n) for n in groups]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    word = "replica" if len(names) == 1 else "replicas"
    return f"replacing {word} {listed} of {total}; the others keep running"

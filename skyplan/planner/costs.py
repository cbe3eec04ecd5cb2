"""What a plan costs: the hourly rate before and after, and the estimated total over
the workloads' durations — a job over its ``duration_hours`` (one hour when it
declares none), a service or provisioned fleet over a month (730 h) — the same
figure ``skyplan optimize`` prints for the same placements (the solver's
expected cost: spot risk and egress included).
"""

from __future__ import annotations

from typing import Mapping, Sequence

from skyplan.planner.model import Action, Change
from skyplan.solver.items import DEFAULT_JOB_HOURS, SERVICE_HOURS
from skyplan.solver.model import Solution
from skyplan.state.model import FAILED, STOPPED, SUCCEEDED, ResourceRecord, Snapshot

NOT_RUNNING = (SUCCEEDED, FAILED, STOPPED)


def costed_hours(attributes: Mapping) -> float:
    """The hours a resource is costed for, from its configuration attributes."""
    kind = attributes.get("kind")
    duration = attributes.get("duration_hours")
    if kind == "job":
        return float(duration or DEFAULT_JOB_HOURS)
    return float(duration) if kind == "service" and duration else SERVICE_HOURS


def _record_estimate(rec: ResourceRecord) -> float:
    if rec.status in NOT_RUNNING:
        return 0.0
    return rec.hourly_cost * costed_hours(rec.attributes)


def estimated(changes: Sequence[Change], solution: Solution, prior: Snapshot, base: Snapshot) -> tuple[float, float]:
    """(before, after): the estimated total of what state runs now and of what runs
    once the plan is applied. A resource the plan leaves alone counts the same on
    both sides, so an unchanged plan has no estimated delta."""
    by_address = {c.address: c for c in changes}

    def placed(address: str) -> float | None:
        wp = solution.placements.get(address)
        return wp.expected_cost if wp is not None and wp.expected_cost else None

    before = 0.0
    for address, rec in prior.resources.items():
        c = by_address.get(address)
        if c is not None and c.action is Action.NOOP and rec.status not in NOT_RUNNING:
            before += placed(address) or _record_estimate(rec)
        else:
            before += _record_estimate(rec)
    after = 0.0
    for c in changes:
        if c.action is Action.DELETE:
            continue
        if c.action is Action.NOOP:
            rec = c.prior if c.prior is not None else base.resources.get(c.address)
            if rec is not None and rec.status not in NOT_RUNNING:
                after += placed(c.address) or _record_estimate(rec)
            continue
        estimate = placed(c.address)
        if estimate is None and c.placement is not None:
            estimate = c.placement.hourly_cost * costed_hours(c.after or {})
        after += estimate or 0.0
    for address, rec in base.resources.items():
        if address not in by_address:
            after += _record_estimate(rec)
    return before, after

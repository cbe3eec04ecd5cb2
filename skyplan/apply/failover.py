"""Failover: launch one replica group at the first approved placement that has capacity.

The candidates are the group's chosen placement then its ranked fallbacks (the
plan approved all of them). A CapacityError or QuotaError blocks the scope it
names — the zone, the region or the whole provider — so later candidates inside
a blocked scope are not tried. A candidate that would lift the workload's hourly
cost above ``WorkloadPlacement.approved_hourly_cost`` is refused. When every
candidate is used up the group fails with a table of what was tried and why.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable, Sequence, TypeVar

from skyplan.errors import ApplyError, CapacityError, QuotaError
from skyplan.solver.model import GroupPlacement, Placement

T = TypeVar("T")
_EPS = 1e-9


@dataclass(frozen=True)
class Attempt:
    placement: Placement
    reason: str  # why it was not used ("" when it succeeded)
    no_capacity: str = ""  # the scope a capacity error named (zone | region | provider), when one did

    @property
    def resources(self) -> str:
        p = self.placement
        what = p.instance_type + (f" ({p.accelerators})" if p.accelerators else "")
        return f"{p.nodes}x {what} {p.pricing} ${p.hourly_cost:.2f}/h"


def scope_key(p: Placement, scope: str) -> tuple:
    if scope == "provider":
        return (p.provider,)
    if scope == "region":
        return (p.provider, p.region)
    return (p.provider, p.region, p.zone)


@dataclass
class Blocklist:
    """Scopes found without capacity during one action."""

    blocked: dict[tuple, str] = field(default_factory=dict)  # scope key -> the error that blocked it

    def block(self, p: Placement, scope: str, why: str) -> None:
        self.blocked[scope_key(p, scope)] = f"{scope} {'/'.join(str(x) for x in scope_key(p, scope) if x)} blocked: {why}"

    def why_blocked(self, p: Placement) -> str | None:
        for scope in ("provider", "region", "zone"):
            hit = self.blocked.get(scope_key(p, scope))
            if hit:
                return hit
        return None


class FailoverExhausted(ApplyError):
    """Every approved placement of a group was tried or refused."""

    def __init__(self, address: str, group: int, attempts: Sequence[Attempt]):
        self.address = address
        self.group = group
        self.attempts = list(attempts)
        super().__init__(
            f"{address}: no approved placement of replica group {group} could be launched\n"
            + format_table(self.attempts),
            hint="widen placement (regions, zones, pricing) or raise max_hourly_cost, then plan again",
        )


class FailoverInterrupted(FailoverExhausted):
    """Apply was interrupted after a placement failed: no further one is tried."""

    def __init__(self, address: str, group: int, attempts: Sequence[Attempt]):
        super().__init__(address, group, attempts)
        self.args = (f"{address}: interrupted; replica group {group} was not failed over further\n"
                     + format_table(self.attempts),)
        self.hint = "plan and apply again to launch it"


def format_table(attempts: Sequence[Attempt]) -> str:
    rows = [("INFRA", "RESOURCES", "REASON")] + [(a.placement.infra, a.resources, a.reason) for a in attempts]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    return "\n".join(f"  {r[0]:<{w0}} | {r[1]:<{w1}} | {r[2]}" for r in rows)


def launch_group(
    group: GroupPlacement,
    launch: Callable[[Placement], T],
    *,
    address: str,
    index: int,
    other_groups_cost: float,
    approved_hourly_cost: float,
    blocklist: Blocklist | None = None,
    on_attempt: Callable[[Attempt], None] | None = None,
    cancel: "threading.Event | None" = None,
) -> tuple[Placement, T]:
    """Launch ``group`` via ``launch(placement)`` at the first candidate that works.

    ``other_groups_cost`` is the $/h of the workload's other groups (as created or
    as planned); a candidate is refused when it plus that exceeds the approved cost.
    Raises FailoverExhausted; any error other than capacity/quota propagates. Once
    ``cancel`` is set (Ctrl-C), a failed launch is not followed by another one:
    FailoverInterrupted.
    """
    blocklist = blocklist if blocklist is not None else Blocklist()
    attempts: list[Attempt] = []

    def note(a: Attempt) -> None:
        attempts.append(a)
        if on_attempt is not None:
            on_attempt(a)

    for cand in (group.chosen, *group.fallbacks):
        if attempts and cancel is not None and cancel.is_set():
            raise FailoverInterrupted(address, index, attempts)
        blocked = blocklist.why_blocked(cand)
        if blocked:
            note(Attempt(cand, f"skipped: {blocked}"))
            continue
        total = other_groups_cost + cand.hourly_cost
        if total > approved_hourly_cost + _EPS:
            note(Attempt(cand, f"refused: would cost ${total:.2f}/h, above the approved ${approved_hourly_cost:.2f}/h"))
            continue
        try:
            return cand, launch(cand)
        except (CapacityError, QuotaError) as e:
            kind = "no capacity" if isinstance(e, CapacityError) else "quota exceeded"
            first_line = str(e).splitlines()[0] if str(e) else kind
            blocklist.block(cand, e.scope, kind)
            note(Attempt(cand, f"{kind} ({e.scope}): {first_line}",
                         no_capacity=e.scope if isinstance(e, CapacityError) else ""))
    raise FailoverExhausted(address, index, attempts)

"""Buy a provisioned fleet only when it pays: the fleet against its workloads bought directly.

A provisioned fleet is capacity paid for whether it is used or not: its nodes
for its hours (``duration_hours``, else a month). The workloads packed onto it
then cost nothing more. For each provisioned fleet without ``keep = true``
the problem is solved a second time without that fleet, its workloads free to
go anywhere their other rules allow; the fleet is bought only when the plan
with it is cheaper (expected cost over the durations). Fleets are tried one
at a time, most expensive first, each against the plan kept so far.

A Capacity Block to buy whose offerings were read at plan time
(``Fleet.offerings``) is priced by them, not by the catalog: each of its
options (a zone and instance type) costs the upfront fee of the cheapest
offering there (the earliest among equal fees, as apply buys), and a zone or
type no offering sells is no option. Its workloads wait for that offering's
start when it is later than the plan. Without offerings the block costs the
catalog's hourly price over its hours, and its choice says it is an estimate.

Every provisioned fleet gets a ``FleetChoice`` on the Solution (``fleets``):
its cost, what the workloads on it would cost bought directly (None when they
have nowhere else to go), and whether it is bought; the plan prints it as
``fleet.pool: $X for 2 × g5.xlarge reserved 48 h vs $Y on demand for the
workloads on it``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Sequence

from skyplan.config.model import BlockQuote, Fleet
from skyplan.errors import InfeasibleError
from skyplan.solver.items import FLEET_HOURS
from skyplan.solver.model import FleetChoice, Solution
from skyplan.solver.problem import Problem

EPSILON = 1e-6


def fleet_hours(fleet) -> float:
    return float(fleet.duration_hours) if fleet.duration_hours else FLEET_HOURS


def offering_for(fleet: Fleet, region: str, zone: str | None, itype: str) -> BlockQuote | None:
    """The offering apply would buy for ``fleet`` there: the cheapest, then earliest
    (any zone of the region when ``zone`` is None)."""
    found = [q for q in fleet.offerings or () if q.instance_type == itype and q.region == region
             and (zone is None or q.zone == zone)]
    return min(found, key=lambda q: (q.upfront_fee, q.starts_at, q.zone)) if found else None


def priced_by_offerings(fleet: Fleet, options: Sequence, usage: Sequence) -> tuple[list, list]:
    """A Capacity Block's options at its offerings' upfront fees (module docstring)."""
    out = []
    for o, u in zip(options, usage):
        q = offering_for(fleet, o.region, o.zone, o.instance_type)
        if q is None:
            continue
        each = q.upfront_fee / max(o.nodes, 1) / max(q.hours, 1e-9)
        out.append((replace(o, zone=q.zone, price=each, group_hourly=each * o.nodes, group_cost=q.upfront_fee,
                            starts_at=q.starts_at if q.later else None), u))
    out.sort(key=lambda p: p[0].sort_key)
    seen: set = set()
    out = [p for p in out if not (p[0].key in seen or seen.add(p[0].key))]
    return [p[0] for p in out], [p[1] for p in out]


def choose_fleets(problem: Problem, solve_once: Callable[[Problem], Solution]) -> Solution:
    """Solve ``problem``, dropping each provisioned fleet that costs more than
    buying its workloads' instances directly (see the module docstring)."""
    best = solve_once(problem)
    provisioned = [a for a, f in problem.fleets.items() if not f.existing and a in best.placements]
    if not provisioned:
        return best
    choices: dict[str, FleetChoice] = {}
    current = problem
    for address in sorted(provisioned, key=lambda a: (-best.placements[a].expected_cost, a)):
        fleet = current.fleets[address]
        users = sorted(a for a, w in current.workloads.items() if w.placement.fleet == address)
        on_it = [a for a in best.placements if a != address and any(
            g.chosen.fleet == address for g in best.placements[a].groups)]
        without = replace(current, fleets={a: f for a, f in current.fleets.items() if a != address},
                          workloads={a: (replace(w, placement=replace(w.placement, fleet=None))
                                         if a in users else w) for a, w in current.workloads.items()})
        try:
            alt = solve_once(without)
        except InfeasibleError:
            alt = None
        placed = best.placements[address]
        chosen = placed.groups[0].chosen
        fleet_cost = placed.expected_cost
        direct = None if alt is None else round(sum(alt.placements[a].expected_cost for a in on_it
                                                    if a in alt.placements), 6)
        buy = fleet.keep or alt is None or best.total_cost <= alt.total_cost + EPSILON
        quote = offering_for(fleet, chosen.region, chosen.zone, chosen.instance_type)
        choices[address] = FleetChoice(
            address=address, bought=buy, kept_by_config=fleet.keep, fleet_cost=round(fleet_cost, 6),
            direct_cost=direct, nodes=chosen.nodes, instance_type=chosen.instance_type,
            hours=fleet_hours(fleet), workloads=tuple(sorted(on_it)),
            estimate=fleet.reservation == "capacity_block" and fleet.offerings is None, offering=quote)
        if not buy:
            best, current = alt, without
    # a fleet dropped earlier leaves the placements of the ones kept unchanged in meaning
    return replace(best, fleets=tuple(choices[a] for a in sorted(choices)))

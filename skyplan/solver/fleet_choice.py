"""Buy a provisioned fleet only when it pays: the fleet against its workloads bought directly.

A provisioned fleet is capacity paid for whether it is used or not: its nodes
for its hours (``duration_hours``, else a month). The workloads packed onto it
then cost nothing more. For each provisioned fleet without ``keep = true``
the problem is solved a second time without that fleet, its workloads free to
go anywhere their other rules allow; the fleet is bought only when the plan
with it is cheaper (expected cost over the durations). Fleets are tried one
at a time, most expensive first, each against the plan kept so far.

Every provisioned fleet gets a ``FleetChoice`` on the Solution (``fleets``):
its cost, what the workloads on it would cost bought directly (None when they
have nowhere else to go), and whether it is bought; the plan prints it as
``fleet.pool: $X for 2 × g5.xlarge reserved 48 h vs $Y on demand for the
workloads on it``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from skyplan.errors import InfeasibleError
from skyplan.solver.items import FLEET_HOURS
from skyplan.solver.model import FleetChoice, Solution
from skyplan.solver.problem import Problem

EPSILON = 1e-6


def fleet_hours(fleet) -> float:
    return float(fleet.duration_hours) if fleet.duration_hours else FLEET_HOURS


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
        choices[address] = FleetChoice(
            address=address, bought=buy, kept_by_config=fleet.keep, fleet_cost=round(fleet_cost, 6),
            direct_cost=direct, nodes=chosen.nodes, instance_type=chosen.instance_type,
            hours=fleet_hours(fleet), workloads=tuple(sorted(on_it)),
            estimate=fleet.reservation == "capacity_block")
        if not buy:
            best, current = alt, without
    # a fleet dropped earlier leaves the placements of the ones kept unchanged in meaning
    return replace(best, fleets=tuple(choices[a] for a in sorted(choices)))

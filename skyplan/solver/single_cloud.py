"""What the spread over clouds is worth: the cheapest plan on one cloud alone.

A *single-cloud plan* buys all of its cloud capacity from one cloud (one provider
kind: every ``aws`` and ``aws.ALIAS`` key together) and satisfies the same
configuration: the same workloads, quotas, budget, ``max_hourly_cost``, spread,
colocation and fleets. What already exists stays usable, since using it buys
nothing: existing fleets, Kubernetes clusters and the local machine. One cloud
has no providers to spread over, so a workload spread over providers is spread
over that cloud's regions instead (as even as possible over the regions it can
reach, like every spread): the single-cloud plan keeps the replicas in separate
failure domains rather than getting them cheaper in one place.

``compare(problem, solution)`` solves the problem once per cloud the problem
offers, with the other clouds' offers removed, and returns a
``SingleCloudComparison`` when the solution buys from two clouds or more (with
one cloud or none, the solution is its own cheapest single-cloud plan). A cloud
on which the configuration cannot be placed (a workload allowed only elsewhere,
a quota too small, a fleet provisioned on another cloud) is reported infeasible
with the solver's first reason (``SolveOptions.first_cause``: a configuration
whose workloads each name their own clouds is answered without looking them
all up). Pure: no I/O.

``provider_spread(solution)`` sums the chosen placements per provider key (and
fleet), for display.
"""

from __future__ import annotations

from dataclasses import replace

from skyplan.errors import InfeasibleError, SolverError
from skyplan.solver.items import SHARED_KINDS
from skyplan.solver.model import CloudPlan, SingleCloudComparison, Solution
from skyplan.solver.problem import Problem


def _kind(problem: Problem, key: str) -> str:
    cfg = problem.providers.get(key)
    return cfg.kind if cfg is not None else key.split(".")[0]


def _is_cloud(kind: str) -> bool:
    return kind not in SHARED_KINDS


def clouds_used(problem: Problem, solution: Solution) -> tuple[str, ...]:
    """The clouds (provider kinds) the solution buys capacity from; placements on
    fleets buy nothing themselves."""
    kinds = {_kind(problem, g.chosen.provider) for wp in solution.placements.values() for g in wp.groups
             if not g.chosen.fleet}
    return tuple(sorted(k for k in kinds if _is_cloud(k)))


def restricted(problem: Problem, cloud: str) -> Problem:
    """``problem`` with every other cloud's offers removed, and spreads over
    providers made spreads over regions."""
    offers = {key: (v if _kind(problem, key) == cloud or not _is_cloud(_kind(problem, key)) else ())
              for key, v in problem.offers.items()}
    workloads = {a: (replace(w, placement=replace(w.placement, spread="region"))
                     if w.placement.spread == "provider" else w) for a, w in problem.workloads.items()}
    return replace(problem, workloads=workloads, offers=offers,
                   options=replace(problem.options, compare_single_cloud=False, first_cause=True))


def _reason(e: InfeasibleError) -> str:
    text = e.causes[0] if e.causes else (e.args[0] if e.args else str(e))
    return str(text).splitlines()[0]


def compare(problem: Problem, solution: Solution, memo: dict | None = None) -> SingleCloudComparison | None:
    """The solution against the cheapest plan on each single cloud, or None when
    it buys from fewer than two clouds. Each cloud's solve adds its memo entries
    to ``memo`` (skyplan.solver.memo), so a re-plan reuses them too."""
    from skyplan.solver.solve import solve

    used = clouds_used(problem, solution)
    if len(used) < 2:
        return None
    candidates = sorted({_kind(problem, key) for key, v in problem.offers.items()
                         if v and _is_cloud(_kind(problem, key))})
    plans = []
    for cloud in candidates:
        try:
            s = solve(restricted(problem, cloud))
        except InfeasibleError as e:
            plans.append(CloudPlan(cloud, None, None, "infeasible", _reason(e)))
            continue
        except SolverError as e:
            plans.append(CloudPlan(cloud, None, None, "unsolved", str(e.args[0] if e.args else e)))
            continue
        if memo is not None:
            memo.update(s.memo)
        plans.append(CloudPlan(cloud, round(s.total_hourly_cost, 6), round(s.total_cost, 6), s.status))
    plans.sort(key=lambda p: (not p.feasible, p.total_cost or 0.0, p.hourly_cost or 0.0, p.cloud))
    return SingleCloudComparison(round(solution.total_hourly_cost, 6), round(solution.total_cost, 6), used,
                                 tuple(plans))


def provider_spread(solution: Solution) -> list[dict]:
    """Per provider key (and fleet, when placed on one): groups, nodes and $/h of
    the chosen placements, sorted by provider then fleet."""
    rows: dict[tuple[str, str], dict] = {}
    for wp in solution.placements.values():
        for g in wp.groups:
            p = g.chosen
            row = rows.setdefault((p.provider, p.fleet or ""), {
                "provider": p.provider, "fleet": p.fleet, "groups": 0, "nodes": 0, "hourly_cost": 0.0})
            row["groups"] += 1
            row["nodes"] += p.nodes
            row["hourly_cost"] += p.hourly_cost
    out = [rows[k] for k in sorted(rows)]
    for row in out:
        row["hourly_cost"] = round(row["hourly_cost"], 6)
    return out

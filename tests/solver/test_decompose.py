"""The decomposed solver (components answered apart, single-group ones in closed
form) gives the cost of one model over every class, unmerged, on random small
instances; and the component split itself follows the shared rows."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import given, settings, strategies as st

from skyplan.addrs import Address
from skyplan.catalog.offer import Offer
from skyplan.config.model import (
    AcceleratorReq, PlacementSpec, ProviderConfig, Quantity, Quota, Resources, Workload,
)
from skyplan.errors import InfeasibleError
from skyplan.solver import Problem, SolveOptions, solve
from skyplan.solver.decompose import components
from skyplan.solver.mip import MipClass, MipInput

from tests.solver.test_bruteforce import _instance
from tests.solver.test_fuzz import _problem

KEYS = {"aws": ["us-east-1", "us-west-2"], "aws.team": ["us-east-1"], "gcp": ["us-central1", "europe-west4"],
        "gcp.team": ["us-central1"]}
ACCS = [None, ("H100", 8), ("L4", 1), ("A100", 8)]


def _team(rng: random.Random) -> Problem:
    """Workloads on their own subsets of four provider keys, two of them with
    quotas, so some are independent and some share rows."""
    offers: dict[str, list[Offer]] = {}
    for key, regions in KEYS.items():
        kind = key.split(".")[0]
        offers[key] = []
        for i in range(rng.randint(2, 6)):
            region = rng.choice(regions)
            acc = rng.choice(ACCS)
            od = round(rng.uniform(1, 40) if acc else rng.uniform(0.05, 2), 3)
            offers[key].append(Offer(kind, region, region + rng.choice("ab"), f"{key}-t{i}", acc[0] if acc else None,
                                     acc[1] if acc else 0, vcpus=rng.choice([4, 8, 16]), memory_gib=64,
                                     on_demand=od, spot=round(od * rng.uniform(0.2, 0.9), 3) if rng.random() < 0.5
                                     else None, interruption_band=rng.choice(["<5%", "5-10%", ">20%"])))
    providers = {}
    for key, regions in KEYS.items():
        kind, _, alias = key.partition(".")
        quotas = ()
        if alias:
            resource = rng.choice(["H100", "L4", "vcpus"])
            quotas = (Quota(resource, rng.choice({"vcpus": [8, 16, 32], "L4": [1, 2]}.get(resource, [8, 16]))),)
        providers[key] = ProviderConfig(kind, alias or None, regions=tuple(regions), quotas=quotas)
    present = sorted({(o.accelerator, int(o.accelerator_count)) if o.accelerator else None
                      for v in offers.values() for o in v}, key=str)
    workloads = {}
    for j in range(rng.randint(1, 8)):
        acc = rng.choice(present)
        replicas = rng.choice([1, 1, 2, 3])
        w = Workload(Address("workload", f"w{j}"), kind=rng.choice(["job", "service"]),
                     resources=Resources((AcceleratorReq(*acc),) if acc else (), Quantity(rng.choice([4, 8]))),
                     num_nodes=rng.choice([1, 1, 2]), replicas=replicas,
                     pricing=tuple(rng.sample(["on_demand", "spot"], rng.randint(1, 2))),
                     duration_hours=rng.choice([None, 2.0, 10.0]),
                     placement=PlacementSpec(providers=tuple(rng.sample(sorted(KEYS), rng.randint(1, 3))),
                                             spread=rng.choice([None, "region", "zone"]) if replicas > 1 else None))
        workloads[str(w.address)] = w
    budget = None if rng.random() < 0.8 else round(rng.uniform(5, 200), 2)
    return Problem(workloads, {}, providers, offers, options=SolveOptions(budget=budget))


def _both(problem: Problem):
    """(decomposed, single model) as solutions, or as the InfeasibleError each raised."""
    out = []
    for options in (problem.options, replace(problem.options, merge=False, decompose=False)):
        try:
            out.append(solve(replace(problem, options=options)))
        except InfeasibleError as e:
            out.append(e)
    return out


def _same(problem: Problem) -> None:
    split, whole = _both(problem)
    if isinstance(whole, InfeasibleError):
        assert isinstance(split, InfeasibleError), f"decomposed found {split.total_cost} where one model has none"
        return
    assert not isinstance(split, InfeasibleError), f"decomposed says infeasible ({split}), one model costs " \
                                                   f"{whole.total_cost}"
    assert split.total_cost == pytest.approx(whole.total_cost, rel=1e-6, abs=1e-4)
    assert set(split.placements) == set(whole.placements)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_decomposed_matches_one_model_on_team_instances(seed):
    _same(_team(random.Random(seed)))


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1), st.booleans())
def test_decomposed_matches_one_model_on_mixed_instances(seed, fuzz):
    rng = random.Random(seed)
    _same(_problem(rng) if fuzz else _instance(rng))


def _cls(usage):
    return MipClass(1, [1.0] * len(usage), [1.0] * len(usage), usage)


def test_components_follow_shared_rows_colocation_and_budget():
    inp = MipInput([_cls([((0, 1.0),)]), _cls([()]), _cls([((1, 1.0),), ((0, 2.0),)]), _cls([((2, 1.0),)]),
                    _cls([()])], [4.0, 4.0, 4.0], ["a", "b", "c"])
    assert components(inp) == [[0, 2], [1], [3], [4]]
    inp.colocate = [(4, 1)]
    assert components(inp) == [[0, 2], [1, 4], [3]]
    inp.budget = 10.0
    assert components(inp) == [[0, 1, 2, 3, 4]]


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_decomposed_matches_one_model_when_replanning_what_runs(seed):
    rng = random.Random(seed)
    problem = _team(rng)
    try:
        first = solve(problem)
    except InfeasibleError:
        return
    moved = {k: [replace(o, on_demand=o.on_demand and round(o.on_demand * rng.uniform(0.6, 1.1), 3)) for o in v]
             for k, v in problem.offers.items()}
    current = {a: tuple(g.chosen for g in wp.groups) for a, wp in first.placements.items()}
    _same(replace(problem, offers=moved, current=current))


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_decomposed_matches_one_model_under_group_budgets(seed):
    """Budgets over groups of workloads couple exactly their workloads: the split and
    merged solve costs what one unmerged model does, feasible or not."""
    from skyplan.solver.problem import GroupBudget

    rng = random.Random(seed)
    problem = _team(rng)
    names = sorted(problem.workloads)
    budgets = []
    for i in range(rng.randint(1, 3)):
        members = tuple(sorted(rng.sample(names, rng.randint(min(2, len(names)), len(names)))))
        budgets.append(GroupBudget(f"g{i}", round(rng.uniform(2, 150), 2), members))
    _same(replace(problem, options=replace(problem.options, group_budgets=tuple(budgets))))


def test_classes_under_one_group_budget_share_a_component():
    from skyplan.solver.capacity import Rows
    from skyplan.solver.problem import GroupBudget

    rows = Rows({}, {})
    rows.add_budgets((GroupBudget("g", 5.0, ("workload.a", "workload.c")),))
    (row,) = rows.budget_rows["workload.a"]
    assert rows.rows[row].unit == "$/h" and rows.budget_rows["workload.c"] == [row]
    inp = MipInput([_cls([((row, 1.0),)]), _cls([()]), _cls([((row, 2.0),)])], [5.0], ["g"])
    assert components(inp) == [[0, 2], [1]]

"""A service's spot block in the solver: the fallbacks apply may use keep each group's
pricing class (a spot group may fall back to on-demand under fallback_on_demand)."""

from __future__ import annotations

from skyplan.solver import solve
from tests.solver.cases import load_case


def _groups(name: str):
    problem, _ = load_case(name)
    return solve(problem).placements["workload.api"].groups


def test_an_on_demand_base_group_falls_back_only_to_on_demand():
    (base,) = _groups("spot_base_every_replica")
    assert base.chosen.pricing == "on_demand"
    assert base.fallbacks and {f.pricing for f in base.fallbacks} == {"on_demand"}


def test_a_spot_group_without_fallback_falls_back_only_to_spot():
    (spot,) = _groups("spot_base_zero_one_replica_on_spot")
    assert spot.chosen.pricing == "spot"
    assert spot.fallbacks and {f.pricing for f in spot.fallbacks} == {"spot"}


def test_a_spot_group_of_a_fallback_service_may_fall_back_to_on_demand():
    groups = _groups("spot_base_fallback_costs_expected_on_demand_hours")
    spot = [g for g in groups if g.chosen.pricing == "spot"]
    assert any(f.pricing == "on_demand" for g in spot for f in g.fallbacks)
    base = [g for g in groups if g.chosen.pricing == "on_demand"]
    assert all(f.pricing == "on_demand" for g in base for f in g.fallbacks)

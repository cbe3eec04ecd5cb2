"""Runs every data case under tests/cases/solver/ (see tests/solver/cases.py)."""

from __future__ import annotations

import pytest

from skyplan.errors import InfeasibleError
from skyplan.solver import solve
from tests.solver.cases import case_names, load_case


def _matches(want: dict, got: dict) -> bool:
    return all(got.get(k) == v if not isinstance(v, float) else abs(got.get(k, 0) - v) < 1e-6
               for k, v in want.items())


@pytest.mark.parametrize("name", case_names())
def test_case(name):
    problem, expected = load_case(name)
    if "error" in expected:
        with pytest.raises(InfeasibleError) as info:
            solve(problem)
        wanted = expected["error"] if isinstance(expected["error"], list) else [expected["error"]]
        for text in wanted:
            assert text in str(info.value), str(info.value)
        assert "INFEASIBLE" not in str(info.value)
        return
    solution = solve(problem)
    for address, groups in expected.get("placements", {}).items():
        got = [g.chosen.to_json() for g in solution.placements[address].groups]
        assert len(got) == len(groups), (address, got)
        left = list(got)
        for want in groups:
            hit = next((g for g in left if _matches(want, g)), None)
            assert hit is not None, f"{address}: no group matches {want}; got {got}"
            left.remove(hit)
    if "total_hourly_cost" in expected:
        assert solution.total_hourly_cost == pytest.approx(expected["total_hourly_cost"], abs=1e-6)
    if "total_cost" in expected:
        assert solution.total_cost == pytest.approx(expected["total_cost"], abs=1e-6)
    if "kept" in expected:
        assert sorted(a for a, p in solution.placements.items() if p.kept) == sorted(expected["kept"])
    for address, fallbacks in expected.get("fallbacks", {}).items():
        got = [[f.provider, f.region, f.zone, f.instance_type, f.pricing]
               for f in solution.placements[address].groups[0].fallbacks]
        assert got == fallbacks
    for address, approved in expected.get("approved", {}).items():
        assert solution.placements[address].approved_hourly_cost == pytest.approx(approved)
    for address, text in expected.get("explanation", {}).items():
        assert text in solution.placements[address].explanation
    if "single_cloud" in expected:
        _check_single_cloud(expected["single_cloud"], solution)
    choices = {c.address: c.to_json() for c in solution.fleets}
    for address, want in expected.get("fleets", {}).items():
        assert address in choices and _matches(want, choices[address]), (address, choices.get(address))
    assert solution.status == "optimal"


def _check_single_cloud(want, solution):
    got = solution.single_cloud
    if want is None:
        assert got is None, got
        return
    assert got is not None
    best = got.best
    assert (best.cloud if best else None) == want["best"]
    for key in ("total_cost", "hourly_cost"):
        if key in want:
            assert getattr(best, key) == pytest.approx(want[key], abs=1e-6)
    if "saving" in want:
        assert got.saving == pytest.approx(want["saving"], abs=1e-6)
    assert sorted(p.cloud for p in got.plans if not p.feasible) == sorted(want.get("infeasible", []))
    for cloud, text in want.get("reasons", {}).items():
        assert text in next(p.reason for p in got.plans if p.cloud == cloud)
    assert got.total_cost == pytest.approx(solution.total_cost)


@pytest.mark.parametrize("name", [n for n in case_names() if n.startswith(("tie", "spread", "aggregate"))])
def test_case_is_deterministic(name):
    problem, expected = load_case(name)
    first, second = solve(problem), solve(problem)
    assert first.placements == second.placements
    assert first.total_cost == second.total_cost

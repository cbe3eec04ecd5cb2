"""The single-cloud comparison asks each cloud only whether the configuration can
be placed there and the first reason why not: an infeasible cloud is answered
without looking up the workloads after one that surely cannot run there, and
only that one reason is explained. The reasons themselves are solver cases
(tests/cases/solver/single_cloud_*)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from skyplan.errors import InfeasibleError
from skyplan.solver import solve
from skyplan.solver.candidates import Candidates
from skyplan.solver.single_cloud import restricted

from tests.solver.cases import load_case


def _many(problem, n):
    """``problem`` with n more workloads like workload.c (aws only) after it."""
    c = problem.workloads["workload.c"]
    more = {f"workload.z{i:03d}": replace(c, address=type(c.address).parse(f"workload.z{i:03d}")) for i in range(n)}
    return replace(problem, workloads={**problem.workloads, **more})


def test_an_infeasible_cloud_names_its_first_cause_only_and_looks_up_nothing_after_it(monkeypatch):
    monkeypatch.setenv("SKYPLAN_PARALLEL", "0")  # every look-up in this process, where it is counted
    problem, _ = load_case("single_cloud_first_cause")
    asked = []
    real = Candidates.options
    monkeypatch.setattr(Candidates, "options", lambda self, item, *a, **k: asked.append(item.address) or real(self, item, *a, **k))
    on_gcp = restricted(_many(problem, 50), "gcp")  # workload.c and the 50 after it run on aws only
    with pytest.raises(InfeasibleError) as info:
        solve(on_gcp)
    assert info.value.causes == [] and str(info.value.args[0]).startswith("workload.c: ")
    assert sorted(asked) == ["workload.a", "workload.b"]  # the ones before workload.c, not the 50 after


def test_a_solve_that_is_not_a_comparison_still_names_every_cause():
    problem, _ = load_case("single_cloud_first_cause")
    on_gcp = restricted(_many(problem, 3), "gcp")
    on_gcp = replace(on_gcp, options=replace(on_gcp.options, first_cause=False))
    with pytest.raises(InfeasibleError) as info:
        solve(on_gcp)
    assert [c.split(":")[0] for c in info.value.causes] == ["workload.c"] + [f"workload.z{i:03d}" for i in range(3)]

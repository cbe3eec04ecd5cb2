"""build_problem: current placements from state, the budget from the skyplan
block; solve is pure, lazy about OR-Tools, and independent of input order."""

from __future__ import annotations

import random
import subprocess
import sys

from skyplan.config.model import DesiredGraph, ProviderConfig, Settings
from skyplan.solver import SolveOptions, build_problem, solve
from skyplan.solver.model import Placement
from skyplan.state.model import GroupRecord, ResourceRecord, Snapshot
from tests.solver.cases import load_case, load_problem, workloads

OFFERS = [{"provider": "aws", "region": "us-east-1", "zone": "us-east-1a", "type": "m5.2xlarge", "vcpus": 8, "mem": 32,
           "on_demand": 0.384}]


def _graph(**settings):
    spec = {"web": {"cpus": "8"}, "old": {"cpus": "8"}, "bad": {"cpus": "8"}}
    ws = workloads({f"workload.{k}": v for k, v in spec.items()})
    return DesiredGraph(root=".", settings=Settings(**settings), providers={"aws": ProviderConfig("aws")},
                        workloads=ws)


def _record(address, status="running", tainted=False):
    p = Placement("aws", "us-east-1", "us-east-1a", "m5.2xlarge", "on_demand", 0.384)
    return ResourceRecord(address, "workload", status=status, groups=(GroupRecord(p),), tainted=tainted)


def test_current_placements_come_from_live_untainted_records():
    snap = Snapshot("L", 3, {
        "workload.web": _record("workload.web"),
        "workload.old": _record("workload.old", status="succeeded"),
        "workload.bad": _record("workload.bad", tainted=True),
        "workload.gone": _record("workload.gone"),
    })
    problem = build_problem(_graph(), {"aws": []}, snap)
    assert set(problem.current) == {"workload.web"}
    assert problem.current["workload.web"][0].instance_type == "m5.2xlarge"


def test_budget_defaults_to_the_skyplan_block_and_the_flag_wins():
    assert build_problem(_graph(max_hourly_cost=12.5), {}).options.budget == 12.5
    assert build_problem(_graph(max_hourly_cost=12.5), {}, options=SolveOptions(budget=3.0)).options.budget == 3.0
    assert build_problem(_graph(), {}).options.budget is None


def test_solver_package_does_not_import_ortools():
    code = "import sys, skyplan.solver, skyplan.cli; assert 'ortools' not in sys.modules, 'ortools loaded'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_same_plan_whatever_the_input_order():
    for name in ("spread_merged_class", "aggregate_quota", "egress_cost", "quota_region", "tie_break"):
        problem, _ = load_case(name)
        items = list(problem.workloads.items())
        random.Random(1).shuffle(items)
        shuffled = type(problem)(dict(items), problem.fleets, problem.providers,
                                 {k: list(reversed(v)) for k, v in reversed(list(problem.offers.items()))},
                                 problem.current, problem.options)
        assert solve(problem).placements == solve(shuffled).placements, name


def test_only_limits_the_candidate_tables():
    problem = load_problem({"offers": OFFERS, "workloads": {"workload.a": {"cpus": "8"}, "workload.b": {"cpus": "8"}},
                            "options": {}})
    from dataclasses import replace

    solution = solve(replace(problem, options=SolveOptions(only=("workload.a",))))
    assert set(solution.placements) == {"workload.a", "workload.b"}
    assert set(solution.candidates) == {"workload.a"}



def test_backends_agree_on_the_optimum():
    """CP-SAT takes over from SCIP on very large models; both must find the same optimum."""
    from dataclasses import replace

    for name in ("quota_region", "egress_cost", "spread_uneven_uses_every_domain", "budget_forces_spot",
                 "stability_keeps_running", "fleet_existing_first"):
        problem, _ = load_case(name)
        costs = {b: solve(replace(problem, options=replace(problem.options, backend=b, merge=False))).total_cost
                 for b in ("SCIP", "CP-SAT", "CBC")}
        assert max(costs.values()) - min(costs.values()) < 1e-6, (name, costs)


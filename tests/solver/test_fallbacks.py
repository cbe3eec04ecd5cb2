"""Fallbacks keep the constraints that placed the groups: spread and colocation."""

from __future__ import annotations

from skyplan.solver import solve
from tests.solver.cases import load_problem


def _zone(name: str, price: float) -> dict:
    return {"provider": "aws", "region": "us-east-1", "zone": name, "type": "m5.2xlarge", "vcpus": 8, "mem": 32,
            "on_demand": price}


def test_a_spread_group_never_falls_back_into_a_domain_another_group_holds():
    problem = load_problem({
        "catalog": [_zone("us-east-1a", 0.38), _zone("us-east-1b", 0.38), _zone("us-east-1c", 0.38),
                    _zone("us-east-1d", 0.50), _zone("us-east-1e", 0.60)],
        "workloads": {"workload.api": {"kind": "service", "cpus": "8", "replicas": 3, "spread": "zone"}},
    })
    groups = solve(problem).placements["workload.api"].groups
    zones = [g.chosen.zone for g in groups]
    assert sorted(zones) == ["us-east-1a", "us-east-1b", "us-east-1c"]
    for g in groups:
        others = set(zones) - {g.chosen.zone}
        assert [f.zone for f in g.fallbacks] == ["us-east-1d", "us-east-1e"], (g.chosen.zone, others)


def test_a_colocated_workload_falls_back_only_where_its_partner_runs():
    offers = []
    for region, price in (("us-east-1", 0.38), ("us-west-2", 0.40), ("eu-west-1", 0.42)):
        for zone in "ab":
            offers.append({"provider": "aws", "region": region, "zone": f"{region}{zone}", "type": "m5.2xlarge",
                           "vcpus": 8, "mem": 32, "on_demand": price})
    problem = load_problem({
        "catalog": offers,
        "workloads": {"workload.db": {"kind": "service", "cpus": "8"},
                      "workload.app": {"kind": "service", "cpus": "8", "colocate_with": "workload.db"}},
    })
    sol = solve(problem)
    region = sol.placements["workload.db"].groups[0].chosen.region
    app = sol.placements["workload.app"].groups[0]
    assert app.chosen.region == region
    assert app.fallbacks and {f.region for f in app.fallbacks} == {region}

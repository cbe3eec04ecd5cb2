"""Random mid-size problems mixing every feature: the solver either returns a
placement that passes an independent check of each constraint, or raises
InfeasibleError with a message; nothing else escapes."""

from __future__ import annotations

import fnmatch
import math
import random
from dataclasses import replace

import pytest

from skyplan.addrs import Address
from skyplan.catalog.offer import Offer
from skyplan.config.model import (
    AcceleratorReq, Fleet, FleetCapacity, PlacementSpec, ProviderConfig, Quantity, Quota, Resources, Workload,
)
from skyplan.errors import InfeasibleError
from skyplan.solver import Problem, SolveOptions, solve

REGIONS = {"aws": ["us-east-1", "us-west-2", "eu-west-1"], "gcp": ["us-central1", "europe-west4"]}
ACCS = [None, ("H100", 8), ("A100", 8), ("L4", 1)]


def _problem(rng: random.Random) -> Problem:
    offers: dict[str, list[Offer]] = {"aws": [], "gcp": [], "kubernetes": []}
    for kind, regions in REGIONS.items():  # every region sells every shape; prices vary
        for region in regions:
            for acc, vcpus in ((None, 4), (None, 8), (None, 16), (("H100", 8), 16), (("A100", 8), 16), (("L4", 1), 8)):
                od = round(rng.uniform(1, 40) if acc else rng.uniform(0.05, 2), 3)
                offers[kind].append(Offer(kind, region, region + rng.choice("abc"), f"{kind}-{region}-{vcpus}-{acc}",
                                          acc[0] if acc else None, acc[1] if acc else 0, vcpus=vcpus, memory_gib=64,
                                          on_demand=od, spot=round(od * rng.uniform(0.2, 0.9), 3),
                                          interruption_band=rng.choice(["<5%", "5-10%", ">20%"])))
    for i in range(rng.randint(6, 30)):
        kind = rng.choice(["aws", "gcp"])
        region = rng.choice(REGIONS[kind])
        acc = rng.choice(ACCS)
        od = round(rng.uniform(1, 40) if acc else rng.uniform(0.05, 2), 3)
        offers[kind].append(Offer(kind, region, region + rng.choice("abc"), f"t{i}", acc[0] if acc else None,
                                  acc[1] if acc else 0, vcpus=rng.choice([4, 8, 16]), memory_gib=64, on_demand=od,
                                  spot=round(od * rng.uniform(0.2, 0.9), 3) if rng.random() < 0.5 else None,
                                  interruption_band=rng.choice(["<5%", "5-10%", ">20%"])))
    providers = {
        "aws": ProviderConfig("aws", quotas=(Quota("H100", rng.choice([16, 32, 64]), "us-*"),
                                             Quota("vcpus", rng.choice([256, 1024])))),
        "gcp": ProviderConfig("gcp", quotas=(Quota("A100", rng.choice([16, 64])),)),
        "kubernetes": ProviderConfig("kubernetes", regions=("onprem",)),
    }
    fleets = {
        "fleet.gpu": Fleet(Address("fleet", "gpu"), provider="kubernetes", existing=True, region="onprem",
                           capacity=(FleetCapacity("H100", 8, rng.randint(1, 3)),
                                     FleetCapacity(None, 0, 2, cpus_per_node=32, memory_per_node=128))),
        "fleet.pool": Fleet(Address("fleet", "pool"), provider="aws", nodes=rng.randint(2, 6),
                            resources=Resources((AcceleratorReq("L4", 1),)), pricing=("on_demand",), keep=True),
    }
    workloads: dict[str, Workload] = {}
    for j in range(rng.randint(5, 40)):
        acc = rng.choice(ACCS)
        replicas = rng.choice([1, 1, 2, 3])
        spec = PlacementSpec(
            regions=rng.choice([(), ("us-*",), ("*europe*", "eu-*")]),
            spread=rng.choice([None, "zone", "region", "provider"]) if replicas > 1 else None,
            fleet="fleet.pool" if acc == ("L4", 1) and rng.random() < 0.15 else None)
        w = Workload(Address("workload", f"w{j}"), kind=rng.choice(["job", "service"]),
                     resources=Resources((AcceleratorReq(*acc),) if acc else (), Quantity(rng.choice([4, 8]))),
                     num_nodes=rng.choice([1, 1, 2]), replicas=replicas,
                     pricing=tuple(rng.sample(["on_demand", "spot"], rng.randint(1, 2))),
                     duration_hours=rng.choice([None, 2.0, 24.0]),
                     max_hourly_cost=rng.choice([None, None, 200.0]),
                     data_gb=rng.choice([0.0, 0.0, 100.0]), placement=spec)
        workloads[str(w.address)] = w
    names = sorted(workloads)
    for _ in range(rng.randint(0, 3)):
        a, b = rng.sample(names, 2)
        if rng.random() < 0.5:
            workloads[a] = replace(workloads[a], depends_on=(Address.parse(b),))
        else:
            workloads[a] = replace(workloads[a], placement=replace(workloads[a].placement, colocate_with=b,
                                                                   regions=workloads[b].placement.regions))
    current = {}
    for a in rng.sample(names, min(3, len(names))):
        o = rng.choice(offers["aws"] + offers["gcp"])
        from skyplan.solver.model import Placement

        current[a] = (Placement(o.provider, o.region, o.zone, o.instance_type, "on_demand", o.on_demand or 0),)
    blocked = {names[0]: (("aws", "us-east-1", None),)}
    budget = rng.choice([None, None, rng.uniform(200, 2000)])
    return Problem(workloads, fleets, providers, offers, current,
                   SolveOptions(budget=budget, blocked=blocked, reoptimize=rng.random() < 0.2))


def _domain(spread, provider, region, zone):
    return {"provider": (provider,), "region": (provider, region), "zone": (provider, region, zone)}[spread]


def _reachable(problem, address, w, solution) -> set:
    """Spread domains the workload could use at all, found from the offers directly."""
    spread, out = w.placement.spread, set()
    if w.placement.fleet:
        home = solution.placements[w.placement.fleet].groups[0].chosen
        return {_domain(spread, home.provider, home.region, home.zone)}
    need = [(a.name, a.count) for a in w.resources.accelerators]
    for key, offers in problem.offers.items():
        for o in offers:
            if (need and (o.accelerator, o.accelerator_count) not in need) or (not need and o.accelerator):
                continue
            if not w.resources.cpus.admits(o.vcpus):
                continue
            if w.placement.regions and not any(fnmatch.fnmatchcase(o.region, r) for r in w.placement.regions):
                continue
            if any((key, o.region) == (b[0], b[1]) for b in problem.options.blocked.get(address, ())):
                continue
            prices = [o.price(p) for p in w.pricing if o.price(p) is not None]
            if not prices or (w.max_hourly_cost and min(prices) * w.num_nodes > w.max_hourly_cost / w.replicas):
                continue
            out.add(_domain(spread, key, o.region, o.zone))
    gpu = problem.fleets["fleet.gpu"]
    if not w.placement.regions and (not need or need[0][0] == "H100") and not w.placement.colocate_with:
        out.add(_domain(spread, "kubernetes", gpu.region, None))
    return out


def _check(problem: Problem, solution) -> None:
    offers = {(k, o.region, o.zone, o.instance_type): o for k, v in problem.offers.items() for o in v}
    quota_use: dict = {}
    gpu_fleet = 0.0
    pool_gpus = 0.0
    hourly = 0.0
    for address in list(problem.workloads) + ["fleet.pool"]:
        wp = solution.placements[address]
        w = problem.workloads.get(address)
        assert len(wp.groups) == (w.replicas if w else 1)
        regions = []
        for g in wp.groups:
            p = g.chosen
            hourly += p.hourly_cost
            regions.append((p.provider, p.region))
            if w and w.placement.fleet:
                assert p.fleet == w.placement.fleet
            if p.fleet == "fleet.gpu":
                gpu_fleet += sum(a.count for a in w.resources.accelerators[:1]) * p.nodes
                continue
            if p.fleet == "fleet.pool":
                pool_gpus += p.nodes
                continue
            o = offers[(p.provider, p.region, p.zone, p.instance_type)]
            assert p.pricing in (w.pricing if w else ("on_demand",))
            if w:
                assert (o.accelerator, o.accelerator_count) in [(a.name, a.count) for a in w.resources.accelerators] \
                    or (not w.resources.accelerators and not o.accelerator)
                assert not w.placement.regions or any(fnmatch.fnmatchcase(o.region, r) for r in w.placement.regions)
                if w.max_hourly_cost:
                    assert p.hourly_cost <= w.max_hourly_cost / w.replicas + 1e-6
                for b in problem.options.blocked.get(address, ()):
                    assert (p.provider, p.region) != (b[0], b[1])
            for q in problem.providers[p.provider].quotas:
                if q.region and not fnmatch.fnmatchcase(p.region, q.region):
                    continue
                amount = o.vcpus if q.resource == "vcpus" else (o.accelerator_count if o.accelerator == q.resource else 0)
                quota_use[(p.provider, q)] = quota_use.get((p.provider, q), 0) + amount * p.nodes
        if w and w.placement.spread and w.replicas > 1 and not w.placement.colocate_with:
            doms = [{"provider": (g.chosen.provider,), "region": (g.chosen.provider, g.chosen.region),
                     "zone": (g.chosen.provider, g.chosen.region, g.chosen.zone)}[w.placement.spread]
                    for g in wp.groups]
            reach = _reachable(problem, address, w, solution)
            assert set(doms) <= reach
            assert max(doms.count(d) for d in reach) <= math.ceil(w.replicas / len(reach)), (doms, reach)
            assert min(doms.count(d) for d in reach) >= w.replicas // len(reach), (doms, reach)
        if w and w.placement.colocate_with:
            theirs = {(g.chosen.provider, g.chosen.region) for g in solution.placements[w.placement.colocate_with].groups}
            assert set(regions) <= theirs
    for (key, q), used in quota_use.items():
        assert used <= q.max + 1e-6, (key, q, used)
    assert gpu_fleet <= sum(c.per_node * c.nodes for c in problem.fleets["fleet.gpu"].capacity if c.accelerator)
    assert pool_gpus <= problem.fleets["fleet.pool"].nodes
    if problem.options.budget is not None:
        assert hourly <= problem.options.budget + 1e-6


@pytest.mark.parametrize("seed", range(60))
def test_random_problems(seed):
    problem = _problem(random.Random(seed))
    try:
        solution = solve(problem)
    except InfeasibleError as e:
        assert str(e) and "INFEASIBLE" not in str(e)
        return
    _check(problem, solution)
    assert solve(problem).placements == solution.placements

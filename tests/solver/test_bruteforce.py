"""The solver's cost equals the true optimum on small random instances (and on the same
instances with services given a spot block: an on-demand base, the rest on spot).

Each seeded instance has at most 6 workloads (some identical twins, which the
solver merges) and 8 offers, with quotas, a budget, spot pricing, spread, an
already-paid GPU fleet, egress between dependants and colocation. The optimum
is found by enumerating every assignment of every replica group to every option
it may use, checking each constraint directly (independently of the solver's
own code).
"""

from __future__ import annotations

import itertools
from dataclasses import replace
import math
import random

import pytest

from skyplan.addrs import Address
from skyplan.catalog.offer import BAND_RATE, Offer
from skyplan.config.model import (
    AcceleratorReq, Fleet, FleetCapacity, PlacementSpec, ProviderConfig, Quantity, Quota, Resources, Workload,
)
from skyplan.errors import InfeasibleError
from skyplan.solver import Problem, SolveOptions, solve
from skyplan.solver.problem import GroupBudget

ACCS = [None, ("H100", 8), ("A100", 8), ("L4", 1)]
BANDS = list(BAND_RATE)
MAX_GROUPS = 6  # replica groups per instance, to keep the enumeration small
REGIONS = {"aws": ["us-east-1", "us-west-2"], "gcp": ["us-central1", "europe-west4"]}


def _instance(rng: random.Random):
    offers: dict[str, list[Offer]] = {"aws": [], "gcp": []}
    for i in range(rng.randint(3, 8)):
        kind = rng.choice(["aws", "gcp"])
        region = rng.choice(REGIONS[kind])
        acc = rng.choice(ACCS)
        od = round(rng.uniform(1, 40) if acc else rng.uniform(0.1, 2), 3)
        spot = round(od * rng.uniform(0.2, 0.9), 3) if rng.random() < 0.6 else None
        offers[kind].append(Offer(kind, region, region + rng.choice("ab"), f"t{i}", acc[0] if acc else None,
                                  acc[1] if acc else 0, vcpus=rng.choice([4, 8, 16]), memory_gib=64,
                                  on_demand=od, spot=spot, interruption_band=rng.choice(BANDS)))
    quotas = {"aws": (), "gcp": ()}
    for kind in ("aws", "gcp"):
        if rng.random() < 0.6:
            resource = rng.choice(["H100", "A100", "L4", "vcpus"])
            region = rng.choice([None, REGIONS[kind][0]])
            limit = {"vcpus": [8, 16, 24], "L4": [1, 2]}.get(resource, [8, 16])
            quotas[kind] = (Quota(resource, rng.choice(limit), region),)
    providers = {k: ProviderConfig(k, regions=tuple(REGIONS[k]), quotas=quotas[k]) for k in offers}
    fleets = {}
    if rng.random() < 0.4:  # an existing, already-paid H100 fleet
        providers["kubernetes"] = ProviderConfig("kubernetes", regions=("onprem",))
        offers["kubernetes"] = []
        fleets["fleet.k8s"] = Fleet(Address("fleet", "k8s"), provider="kubernetes", existing=True, region="onprem",
                                    capacity=(FleetCapacity("H100", 8, rng.randint(1, 2)),))
    workloads = {}
    present = [(o.accelerator, int(o.accelerator_count)) if o.accelerator else None
               for offers_ in offers.values() for o in offers_]
    for j in range(rng.randint(1, 6)):
        acc = rng.choice(present)
        replicas = rng.choice([2, 3]) if rng.random() < 0.25 else 1
        kind = "service" if rng.random() < 0.3 else "job"
        w = Workload(Address("workload", f"w{j}"), kind=kind,
                     resources=Resources((AcceleratorReq(*acc),) if acc else (), Quantity(rng.choice([4, 4, 8]))),
                     replicas=replicas, pricing=tuple(rng.sample(["on_demand", "spot"], rng.randint(1, 2))),
                     duration_hours=rng.choice([None, 3.0, 10.0]),
                     placement=PlacementSpec(spread=rng.choice(["region", "provider", "zone"]) if replicas > 1 else None))
        if len(workloads) >= 6 or sum(x.replicas for x in workloads.values()) + replicas > MAX_GROUPS:
            break
        workloads[str(w.address)] = w
        if rng.random() < 0.3 and len(workloads) < 6 and \
                sum(x.replicas for x in workloads.values()) + replicas <= MAX_GROUPS:  # a twin: merged into one class
            twin = replace(w, address=Address("workload", f"w{j}", 1))
            workloads[str(twin.address)] = twin
    names = sorted(workloads)
    if len(names) >= 2 and rng.random() < 0.5:  # b hands data to a (egress), or a must sit with b
        a, b = rng.sample(names, 2)
        if rng.random() < 0.6:
            workloads[b] = replace(workloads[b], data_gb=float(rng.choice([20, 200, 2000])))
            workloads[a] = replace(workloads[a], depends_on=(Address.parse(b),))
        else:
            workloads[a] = replace(workloads[a], placement=replace(workloads[a].placement, colocate_with=b))
    problem = Problem(workloads, fleets, providers, offers)
    if rng.random() < 0.4:
        # around the hourly cost of the cheapest-in-expectation choice, so it often binds
        hourly = sum(min(_options(w, problem), key=lambda c: c[4])[3] * w.replicas
                     for w in workloads.values() if _options(w, problem))
        problem = Problem(workloads, fleets, providers, offers,
                          options=SolveOptions(budget=round(hourly * rng.uniform(0.85, 1.2), 3)))
    return problem


def _options(w: Workload, problem: Problem):
    out = []
    need = w.resources.accelerators[0] if w.resources.accelerators else None
    for key, offers in problem.offers.items():
        for o in offers:
            if (o.accelerator, o.accelerator_count) != ((need.name, need.count) if need else (None, 0)):
                continue
            if o.vcpus < w.resources.cpus.value:
                continue
            for p in w.pricing:
                price = o.price(p)
                if price is None:
                    continue
                hours = w.duration_hours or (730.0 if w.kind == "service" else 1.0)
                eff = price * (1 + BAND_RATE[o.interruption_band] * 0.5) if p == "spot" else price
                cost = eff * hours
                if p == "spot" and w.spot is not None and w.spot.fallback_on_demand and o.on_demand is not None:
                    fb = min(hours, BAND_RATE[o.interruption_band] * hours / 730.0 * 6.0)  # hours on on-demand
                    cost = eff * (hours - fb) + o.on_demand * fb
                out.append((key, o, p, price, cost))
    for address, fleet in problem.fleets.items():
        cap = fleet.capacity[0]
        if need and need.name == cap.accelerator and need.count <= cap.per_node:
            slot = Offer("kubernetes", "onprem", None, address, cap.accelerator, need.count)
            out.append(("kubernetes", slot, "reserved", 0.0, 0.0))
    return out


def _brute_force(problem: Problem) -> float | None:
    groups = []  # (workload, options)
    for w in problem.workloads.values():
        opts = _options(w, problem)
        groups += [(w, opts)] * w.replicas
    if any(not opts for _, opts in groups):
        return None
    best = None
    for combo in itertools.product(*[opts for _, opts in groups]):
        cost = sum(c[4] for c in combo)
        if best is not None and cost >= best:
            continue
        if problem.options.budget is not None and sum(c[3] for c in combo) > problem.options.budget + 1e-9:
            continue
        if not _group_budgets_ok(problem, groups, combo):
            continue
        if not _quotas_ok(problem, combo) or not _spread_ok(problem, groups, combo) or not _fleets_ok(problem, combo) \
                or not _spot_base_ok(problem, combo):
            continue
        by = _regions_by_workload(problem, combo)
        if not _colocated(problem, by):
            continue
        cost += _egress(problem, by)
        if best is None or cost < best:
            best = cost
    return best


EGRESS = {"aws": 0.09, "gcp": 0.12, "azure": 0.087}


def _regions_by_workload(problem, combo) -> dict[str, list[tuple]]:
    out, i = {}, 0
    for address, w in problem.workloads.items():
        out[address] = [(k, o.region) for k, o, *_ in combo[i:i + w.replicas]]
        i += w.replicas
    return out


def _colocated(problem, by) -> bool:
    for address, w in problem.workloads.items():
        other = w.placement.colocate_with
        if other and not set(by[address]) <= set(by[other]):
            return False
    return True


def _egress(problem, by) -> float:
    total = 0.0
    for address, w in problem.workloads.items():
        for dep in w.depends_on:
            src = problem.workloads[str(dep)]
            if not src.data_gb:
                continue
            mine, theirs = by[address], by[str(dep)]
            for g in set(theirs):
                share = theirs.count(g) / len(theirs) - mine.count(g) / len(mine)
                total += src.data_gb * EGRESS.get(g[0], 0.0) * max(0.0, share)
    return total


def _group_budgets_ok(problem, groups, combo) -> bool:
    for b in problem.options.group_budgets:
        if sum(c[3] for (w, _), c in zip(groups, combo) if str(w.address) in b.addresses) > b.limit + 1e-9:
            return False
    return True


def _quotas_ok(problem, combo) -> bool:
    for key, cfg in problem.providers.items():
        for q in cfg.quotas:
            used = 0.0
            for k, o, *_ in combo:
                if k != key or (q.region and o.region != q.region):
                    continue
                used += o.vcpus if q.resource == "vcpus" else (o.accelerator_count if o.accelerator == q.resource else 0)
            if used > q.max + 1e-9:
                return False
    return True


def _fleets_ok(problem, combo) -> bool:
    for address, fleet in problem.fleets.items():
        cap = fleet.capacity[0]
        used = sum(o.accelerator_count for k, o, *_ in combo if o.instance_type == address)
        if used > cap.per_node * cap.nodes:
            return False
    return True


def _spot_base_ok(problem, combo) -> bool:
    """A service with a spot block has exactly replicas - base groups on spot."""
    i = 0
    for w in problem.workloads.values():
        if w.spot is not None and sum(1 for c in combo[i:i + w.replicas] if c[2] == "spot") != \
                w.replicas - w.spot.base_on_demand_replicas:
            return False
        i += w.replicas
    return True


def _domain(spread, k, o):
    return {"provider": (k,), "region": (k, o.region), "zone": (k, o.region, o.zone)}[spread]


def _spread_ok(problem, groups, combo) -> bool:
    i = 0
    for w in problem.workloads.values():
        if w.replicas > 1 and w.placement.spread:
            spread = w.placement.spread
            reachable = {_domain(spread, k, o) for k, o, *_ in _options(w, problem)}
            cap, floor = math.ceil(w.replicas / len(reachable)), w.replicas // len(reachable)
            used = {d: 0 for d in reachable}
            for k, o, *_ in combo[i:i + w.replicas]:
                used[_domain(spread, k, o)] += 1
            if max(used.values()) > cap or min(used.values()) < floor:
                return False
        i += w.replicas
    return True


@pytest.mark.parametrize("seed", range(50))
def test_solver_matches_brute_force(seed):
    rng = random.Random(seed)
    problem = _instance(rng)
    truth = _brute_force(problem)
    if truth is None:
        with pytest.raises(InfeasibleError) as info:
            solve(problem)
        assert any(w in str(info.value) for w in ("workload.", "budget", "quota", "fleet")), str(info.value)
        return
    solution = solve(problem)
    assert solution.total_cost == pytest.approx(truth, rel=1e-6, abs=1e-3)
    if problem.options.budget is not None:
        assert solution.total_hourly_cost <= problem.options.budget + 1e-6


@pytest.mark.parametrize("seed", range(80))
def test_solver_matches_brute_force_with_spot_bases(seed):
    """The same instances with every service given a spot block (a random base, with or
    without fallback): the count row and the per-pricing cut keep the optimum."""
    from skyplan.config.service import SpotBase

    rng = random.Random(1000 + seed)
    problem = _instance(rng)
    workloads = dict(problem.workloads)
    for a, w in sorted(workloads.items()):
        if rng.random() < 0.3 or w.placement.colocate_with:
            continue
        more = sum(x.replicas for x in workloads.values()) - w.replicas
        replicas = max(w.replicas, min(3, MAX_GROUPS - more))
        workloads[a] = replace(w, kind="service", pricing=("spot", "on_demand"), replicas=replicas,
                               spot=SpotBase(rng.randint(0, replicas), rng.random() < 0.5),
                               placement=replace(w.placement, spread=w.placement.spread if replicas > 1 else None))
    offers = {k: [o if o.spot is not None or o.on_demand is None else replace(o, spot=round(o.on_demand * 0.4, 3))
                  for o in v] for k, v in problem.offers.items()}  # spot somewhere for every shape
    problem = replace(problem, workloads=workloads, offers=offers)
    truth = _brute_force(problem)
    if truth is None:
        with pytest.raises(InfeasibleError):
            solve(problem)
        return
    solution = solve(problem)
    assert solution.total_cost == pytest.approx(truth, rel=1e-6, abs=1e-3)
    for a, w in workloads.items():
        if w.spot is not None:
            spot = sum(1 for g in solution.placements[a].groups if g.chosen.pricing == "spot")
            assert spot == w.replicas - w.spot.base_on_demand_replicas


def _with_group_budgets(problem: Problem, rng: random.Random) -> Problem:
    """``problem`` with one or two budgets over random groups of its workloads,
    each between its members' least $/h and the $/h of their cheapest-in-expectation
    choices, so it often binds. Spot offers are made nearly as dear as on demand and
    often interrupted, so the cheapest in expectation is not the cheapest per hour."""
    offers = {k: [replace(o, spot=round(o.on_demand * rng.uniform(0.88, 0.99), 3), interruption_band=">20%")
                  if o.spot is not None else o for o in v] for k, v in problem.offers.items()}
    problem = replace(problem, offers=offers)
    names = sorted(problem.workloads)
    budgets = []
    for i in range(rng.randint(1, 2)):
        members = rng.sample(names, rng.randint(min(2, len(names)), len(names)))
        lo = hi = 0.0
        for a in members:
            opts, n = _options(problem.workloads[a], problem), problem.workloads[a].replicas
            if opts:
                lo += min(c[3] for c in opts) * n
                hi += min(opts, key=lambda c: c[4])[3] * n
        budgets.append(GroupBudget(f"g{i}", round(lo + (hi - lo) * rng.uniform(0.0, 1.1), 3), tuple(sorted(members))))
    return replace(problem, options=replace(problem.options, group_budgets=tuple(budgets)))


@pytest.mark.parametrize("seed", range(80))
def test_group_budgets_match_brute_force(seed):
    """Budgets over groups of workloads (mandatory group cost policies) keep the
    optimum: pruning, merging and decomposition stay exact under them."""
    problem = _with_group_budgets(_instance(random.Random(seed)), random.Random(1000 + seed))
    truth = _brute_force(problem)
    if truth is None:
        with pytest.raises(InfeasibleError):
            solve(problem)
        return
    solution = solve(problem)
    assert solution.total_cost == pytest.approx(truth, rel=1e-6, abs=1e-3)
    for b in problem.options.group_budgets:
        spent = sum(solution.placements[a].hourly_cost for a in b.addresses)
        assert spent <= b.limit + 1e-6, (b, spent)

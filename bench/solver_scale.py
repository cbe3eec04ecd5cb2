"""Solver scale: generated team mixes of 100, 1,000 and 10,000 workloads over the
built-in catalog, with quotas, an existing GPU fleet, a CPU fleet and spread.

For each size it prints the solve time, status and proven gap, and the total
expected cost against a per-workload greedy baseline computed in the same run:
each workload in turn takes its cheapest option that still has quota/fleet
room (what a task-by-task optimizer does: cheapest feasible offer, then repair).

    python bench/solver_scale.py [--sizes 100,1000,10000] [--seed 7]

``--fleets`` measures fleet packing instead: 1,000 workloads (one in ten a pod
of 2, 3, 5 or 6 GPUs on a fleet node, or else a whole 8-GPU VM) and 50 existing fleets of
mixed node sizes (1-4 nodes of 2, 4 or 8 GPUs, or CPU nodes), solved
with exact per-node packing (the product's model) and with the older
aggregate-capacity model (each capacity entry summed, with rounding) in the
same run: solve time, status, proven gap, expected cost, and how many fleets
the aggregate plan fills beyond what first-fit-decreasing can pack onto their
nodes (a plan that looks cheaper but that the nodes cannot hold).

    python bench/solver_scale.py --fleets [--seed 7]

``--distinct`` measures instead n workloads that are all different (bench/distinct_mix.py):
for each size it prints the candidate-generation time, the solve time, the
wall time and peak memory of `skyplan optimize` on the written config folder
(the first run there, which parses the file, and the run after it, which reads
its trees from the parse cache), the wall time of `skyplan plan --no-refresh`
there (what a pull request's preview runs: the same solve and its comparison
against each cloud alone), and the candidate generation of the scan the solver
used before its offer index (bench/scan_baseline.py), measured in the same run
(beyond 2,000 workloads, measured on the first 2,000 and scaled, marked ~).
Then, per size, the
re-plan after a one-line change: the first solve's placements kept in the
folder's state as a plan keeps them, one job's duration_hours changed, and the
changed config solved in full and with the kept placements (solve time, how many
kept, whether both give the same placements), and `skyplan optimize` end to end
on it (which reads the kept placements from state).

    python bench/solver_scale.py --distinct [--sizes 100,1000,10000] [--seed 7]

``--caps`` measures group cost caps (mandatory policies over a team's workloads):
the 1,000-workload team mix split into 4 teams, each capped at a fraction of
what it costs per hour without caps: 1.005 (met), 0.97 (a few percent too low
for all four together, though each alone can be met). For each it prints the
solve time and the outcome; for the failing one also the time of the older
explanation (the elastic model alone, measured in the same run, stopped at its
time limit).

    python bench/solver_scale.py --caps [--seed 7]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skyplan.addrs import Address  # noqa: E402
from skyplan.catalog import load_catalog  # noqa: E402
from skyplan.config.model import (  # noqa: E402
    AcceleratorReq, Fleet, FleetCapacity, PlacementSpec, ProviderConfig, Quantity, Quota, Resources, Workload,
)
from skyplan.solver import Problem, SolveOptions, solve  # noqa: E402
from skyplan.solver.capacity import Rows, fleet_options  # noqa: E402
from skyplan.solver.items import Item  # noqa: E402

from scan_baseline import scan_options  # noqa: E402

REGIONS = {
    "aws": ("us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1"),
    "gcp": ("us-central1", "us-east1", "us-west1", "europe-west4"),
    "azure": ("eastus", "westus2", "westeurope"),
}


def acc(*names: str) -> tuple[AcceleratorReq, ...]:
    return tuple(AcceleratorReq(n.split(":")[0], int(n.split(":")[1])) for n in names)


# (share, kind, resources, nodes, replicas, pricing, durations, spread)
TEMPLATES = [
    (0.06, "job", Resources(acc("H100:8")), (1, 2, 4), 1, ("spot", "on_demand"), (8, 24, 72), None),
    (0.06, "job", Resources(acc("A100-80GB:8", "H100:8")), (1, 2), 1, ("on_demand",), (4, 12), None),
    (0.08, "job", Resources(acc("L4:1", "A10G:1", "T4:1")), (1,), 1, ("spot", "on_demand"), (1, 2, 6), None),
    (0.05, "service", Resources(acc("L4:1", "A10G:1")), (1,), 2, ("on_demand",), (None,), "region"),
    (0.05, "service", Resources(cpus=Quantity(4), memory=Quantity(16)), (1,), 3, ("on_demand",), (None,), "zone"),
    (0.10, "service", Resources(cpus=Quantity(2), memory=Quantity(8, at_least=True)), (1,), 1, ("on_demand",), (None,), None),
    (0.30, "job", Resources(cpus=Quantity(8, at_least=True), memory=Quantity(32, at_least=True)), (1,), 1,
     ("spot", "on_demand"), (1, 2, 4), None),
    (0.30, "job", Resources(cpus=Quantity(16, at_least=True), memory=Quantity(64, at_least=True)), (1, 2), 1,
     ("on_demand",), (2, 8), None),
]


def team(n: int, seed: int):
    rng = random.Random(seed)
    scale = max(1, n // 100)
    providers = {
        "aws": ProviderConfig("aws", regions=REGIONS["aws"], quotas=(
            Quota("H100", 32 * scale, "us-*"), Quota("vcpus", 600 * scale))),
        "gcp": ProviderConfig("gcp", regions=REGIONS["gcp"], quotas=(Quota("H100", 16 * scale),)),
        "azure": ProviderConfig("azure", regions=REGIONS["azure"]),
        "kubernetes": ProviderConfig("kubernetes", regions=("onprem",)),
    }
    fleets = {
        "fleet.gpu": Fleet(Address("fleet", "gpu"), provider="kubernetes", existing=True, region="onprem",
                           capacity=(FleetCapacity("H100", 8, 2 * scale),)),
        "fleet.cpu": Fleet(Address("fleet", "cpu"), provider="kubernetes", existing=True, region="onprem",
                           capacity=(FleetCapacity(None, 0, 4 * scale, cpus_per_node=64, memory_per_node=256),)),
    }
    weights = [t[0] for t in TEMPLATES]
    workloads = {}
    for i in range(n):
        share, kind, res, nodes, replicas, pricing, durations, spread = rng.choices(TEMPLATES, weights)[0]
        address = Address("workload", "w", i)
        workloads[str(address)] = Workload(
            address, kind=kind, resources=res, num_nodes=rng.choice(nodes), replicas=replicas, pricing=pricing,
            duration_hours=rng.choice(durations), placement=PlacementSpec(spread=spread))
    return providers, fleets, workloads


def offers_for(catalog, providers):
    return {k: ([] if cfg.kind == "kubernetes" else catalog.for_provider(cfg.kind, cfg.regions))
            for k, cfg in providers.items()}


def greedy(problem: Problem) -> tuple[float, int]:
    """Workload by workload (address order), each group takes its cheapest option
    with room left in every quota/fleet row; spread caps honoured per workload."""
    rows = Rows(problem.providers, problem.fleets, problem.offers)
    left = [r.limit for r in rows.rows]
    total, unplaced = 0.0, 0
    cache: dict = {}
    for address in sorted(problem.workloads):
        item = Item.of_workload(problem.workloads[address])
        sig = (item.resources, item.nodes, item.pricing, item.hours, item.placement)
        if sig not in cache:
            pairs = [(o, rows.usage(o, item.resources)) for o in scan_options(
                item, problem.providers, problem.offers, (), problem.options.restart_overhead)]
            pairs += fleet_options(item, rows, problem.fleets, problem.providers)
            pairs.sort(key=lambda p: p[0].sort_key)
            cache[sig] = pairs
        pairs = cache[sig]
        spread = item.placement.spread if item.groups > 1 else None
        cap = math.ceil(item.groups / len({o.domain(spread) for o, _ in pairs})) if spread and pairs else item.groups
        used: dict = {}
        for _ in range(item.groups):
            for o, usage in pairs:
                if spread and used.get(o.domain(spread), 0) >= cap:
                    continue
                if all(left[r] >= amount - 1e-9 for r, amount in usage):
                    for r, amount in usage:
                        left[r] -= amount
                    if spread:
                        used[o.domain(spread)] = used.get(o.domain(spread), 0) + 1
                    total += o.group_cost
                    break
            else:
                unplaced += 1
    return total, unplaced


def violations(problem: Problem, solution) -> list[str]:
    """Recount quotas, fleet GPUs and spread from the Solution's placements alone."""
    import fnmatch

    used: dict[tuple, float] = {}
    fleet_gpus: dict[str, float] = {}
    out = []
    for address, wp in solution.placements.items():
        w = problem.workloads[address]
        domains = []
        for g in wp.groups:
            p = g.chosen
            domains.append({"zone": (p.provider, p.region, p.zone), "region": (p.provider, p.region),
                            "provider": (p.provider,)}.get(w.placement.spread or "", None))
            if p.fleet:
                need = min((a.count for a in w.resources.accelerators), default=0)
                fleet_gpus[p.fleet] = fleet_gpus.get(p.fleet, 0) + need * p.nodes
                continue
            for q in problem.providers[p.provider].quotas:
                if q.region and not fnmatch.fnmatchcase(p.region, q.region):
                    continue
                name, _, count = (p.accelerators or ":0").partition(":")
                amount = p.vcpus if q.resource == "vcpus" else (float(count) if name == q.resource else 0.0)
                used[(p.provider, q)] = used.get((p.provider, q), 0.0) + amount * p.nodes
        if w.placement.spread and len(wp.groups) > 1 and len(set(domains)) < min(len(wp.groups), 2):
            out.append(f"{address} not spread")
    for (key, q), amount in used.items():
        if amount > q.max + 1e-6:
            out.append(f"quota {key} {q.resource} {q.region or ''}: {amount:g} > {q.max:g}")
    for address, amount in fleet_gpus.items():
        cap = sum(c.per_node * c.nodes for c in problem.fleets[address].capacity)
        if amount > cap + 1e-6:
            out.append(f"{address}: {amount:g} GPUs > {cap:g}")
    return out


def fleet_team(n: int, n_fleets: int, seed: int):
    """``team(n)`` with ``n_fleets`` existing fleets of mixed node sizes instead of its two."""
    providers, _, workloads = team(n, seed)
    rng = random.Random(seed + 1)
    fleets = {}
    for i in range(n_fleets):
        address = Address("fleet", f"f{i:02d}")
        if rng.random() < 0.7:
            gpu = rng.choice(["H100", "L4", "A10G", "A100-80GB"])
            cap = FleetCapacity(gpu, rng.choice([2, 4, 8]), rng.randint(1, 4), cpus_per_node=rng.choice([32, 64, 96]),
                                memory_per_node=rng.choice([128, 256, 512]))
        else:
            cap = FleetCapacity(None, 0, rng.randint(1, 4), cpus_per_node=rng.choice([16, 32, 64]),
                                memory_per_node=rng.choice([64, 128, 256]))
        fleets[str(address)] = Fleet(address, provider="kubernetes", existing=True, region="onprem", capacity=(cap,))
    # one in ten is a pod of 2, 3, 5 or 6 GPUs on a fleet node, or else a whole 8-GPU VM bought for it
    for i, address in enumerate(sorted(workloads)[::10]):
        gpus = rng.choice([2, 3, 5, 6])
        name = rng.choice(["H100", "L4", "A10G"])
        workloads[address] = replace(workloads[address], kind="job", num_nodes=1, replicas=1,
                                     resources=Resources(acc(f"{name}:{gpus}", f"{name}:8")),
                                     pricing=("on_demand",),
                                     duration_hours=24.0)
    return providers, fleets, workloads


def first_fit_fails(problem: Problem, solution) -> int:
    """Fleets whose placed groups first-fit-decreasing cannot put onto their nodes
    (per node GPUs, CPUs, memory; each pod of a group on some node)."""
    pods: dict[str, list[tuple[float, float, float]]] = {}
    for address, wp in solution.placements.items():
        w = problem.workloads[address]
        gpu = float(min((a.count for a in w.resources.accelerators), default=0))
        for g in wp.groups:
            p = g.chosen
            if not p.fleet:
                continue
            cap = problem.fleets[p.fleet].capacity[0]
            cpu = w.resources.cpus.value if w.resources.cpus else (0.0 if cap.accelerator else 1.0)
            mem = w.resources.memory.value if w.resources.memory else 0.0
            pods.setdefault(p.fleet, []).extend([(gpu, cpu, mem)] * p.nodes)
    failed = 0
    for address, items in pods.items():
        cap = problem.fleets[address].capacity[0]
        free = [[float(cap.per_node), float(cap.cpus_per_node or math.inf), float(cap.memory_per_node or math.inf)]
                for _ in range(cap.nodes)]
        for need in sorted(items, reverse=True):
            node = next((f for f in free if all(f[d] >= need[d] - 1e-9 for d in range(3))), None)
            if node is None:
                failed += 1
                break
            for d in range(3):
                node[d] -= need[d]
    return failed


def fleet_mode(catalog, seed: int, n: int = 1000, n_fleets: int = 50) -> None:
    providers, fleets, workloads = fleet_team(n, n_fleets, seed)
    nodes = sum(c.nodes for f in fleets.values() for c in f.capacity)
    print(f"{n:,} workloads, {n_fleets} fleets ({nodes} nodes of mixed sizes)")
    print(f"{'packing':>10} {'solve s':>8} {'status':>8} {'gap':>8} {'options':>8} {'skyplan $':>14} "
          f"{'on fleets':>9} {'unpackable fleets':>17}")
    base = Problem(workloads, fleets, providers, offers_for(catalog, providers))
    for mode in ("exact", "aggregate"):
        t = time.perf_counter()
        sol = solve(replace(base, options=SolveOptions(time_limit=25.0, fleet_packing=mode)))
        seconds = time.perf_counter() - t
        on = sum(1 for wp in sol.placements.values() for g in wp.groups if g.chosen.fleet)
        rows = Rows(providers, fleets, base.offers, exact=mode == "exact")
        opts = sum(len(fleet_options(Item.of_workload(w), rows, fleets, providers)) for w in list(workloads.values())[:50])
        print(f"{mode:>10} {seconds:>8.2f} {sol.status:>8} {sol.gap:>8.4%} {opts / 50:>8.1f} "
              f"{sol.total_cost:>14,.2f} {on:>9} {first_fit_fails(base, sol):>17}")
    print("(options: fleet options per workload, averaged over the first 50; unpackable: fleets where "
          "first-fit-decreasing cannot place the plan's pods onto the nodes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fleets", action="store_true", help="fleet packing: exact per node against aggregate")
    parser.add_argument("--distinct", action="store_true", help="all-different workloads, end to end")
    parser.add_argument("--caps", action="store_true", help="group cost caps: met, and failing together")
    args = parser.parse_args()
    if args.distinct:
        from distinct_bench import run_distinct

        run_distinct([int(s) for s in args.sizes.split(",")], args.seed)
        return
    catalog = load_catalog()
    if args.fleets:
        fleet_mode(catalog, args.seed)
        return
    if args.caps:
        caps_mode(catalog, args.seed)
        return
    print(f"catalog: {len(catalog.offers)} offers ({catalog.source}, {catalog.observed_at})")
    print(f"{'workloads':>9} {'solve s':>8} {'status':>8} {'gap':>8} {'backend':>11} {'skyplan $':>14} "
          f"{'greedy $':>14} {'ratio':>7} {'greedy s':>8}")
    replans = []
    sizes = [int(s) for s in args.sizes.split(",")]
    for n in sizes:
        providers, fleets, workloads = team(n, args.seed)
        problem = Problem(workloads, fleets, providers, offers_for(catalog, providers),
                          options=SolveOptions(time_limit=25.0))
        t = time.perf_counter()
        solution = solve(problem)
        solve_s = time.perf_counter() - t
        t = time.perf_counter()
        g_cost, unplaced = greedy(problem)
        greedy_s = time.perf_counter() - t
        ratio = solution.total_cost / g_cost if g_cost else float("nan")
        note = f"  (greedy left {unplaced} group(s) unplaced)" if unplaced else ""
        bad = violations(problem, solution)
        note += f"  VIOLATIONS: {bad[:3]}" if bad else "  (quotas, fleets, spread rechecked: ok)"
        print(f"{n:>9} {solve_s:>8.2f} {solution.status:>8} {solution.gap:>8.4%} {solution.backend:>11} "
              f"{solution.total_cost:>14,.2f} {g_cost:>14,.2f} {ratio:>7.4f} {greedy_s:>8.2f}{note}")
        replans.append((n, *replan(problem, solution, args.seed)))
    print(f"\nwhat merging buys, and the backends, at {sizes[-1]:,} workloads (one thread each):")
    print(f"{'model':>26} {'solve s':>8} {'status':>8} {'gap':>8} {'skyplan $':>14}")
    providers, fleets, workloads = team(sizes[-1], args.seed)
    base = Problem(workloads, fleets, providers, offers_for(catalog, providers))
    for merge, backend in ((True, "SCIP"), (False, "SCIP"), (False, "CBC"), (False, "CP-SAT")):
        t = time.perf_counter()
        # unmerged, as one model: what the backends are compared on (skyplan.solver.mip.choose_backend)
        sol = solve(replace(base, options=SolveOptions(time_limit=25.0, merge=merge, backend=backend,
                                                       decompose=merge)))
        label = f"{'merged, decomposed' if merge else 'one class each'} {backend}"
        print(f"{label:>26} {time.perf_counter() - t:>8.2f} {sol.status:>8} {sol.gap:>8.4%} {sol.total_cost:>14,.2f}")
    print("\nre-plan with everything running and prices moved by -30%..+10% (stability threshold 20%):")
    print(f"{'workloads':>9} {'solve s':>8} {'status':>8} {'gap':>8} {'kept':>7}")
    for n, seconds, sol in replans:
        kept = sum(p.kept for p in sol.placements.values())
        print(f"{n:>9} {seconds:>8.2f} {sol.status:>8} {sol.gap:>8.4%} {kept / n:>7.1%}")


def caps_mode(catalog, seed: int, n: int = 1000) -> None:
    from skyplan.errors import InfeasibleError
    from skyplan.solver import decompose
    from skyplan.solver.problem import GroupBudget

    providers, fleets, workloads = team(n, seed)
    base = Problem(workloads, fleets, providers, offers_for(catalog, providers),
                   options=SolveOptions(time_limit=25.0))
    loose = solve(base)
    teams = [tuple(sorted(loose.placements)[i::4]) for i in range(4)]
    print(f"{n:,} workloads, 4 teams of {len(teams[0])}; without caps {loose.total_hourly_cost:,.2f} $/h")
    print(f"{'caps at':>8} {'solve s':>8}  outcome")

    def run(frac: float):
        budgets = tuple(GroupBudget(f"team{i}", round(sum(loose.placements[a].hourly_cost for a in t) * frac, 2), t)
                        for i, t in enumerate(teams))
        capped = replace(base, options=replace(base.options, group_budgets=budgets))
        t = time.perf_counter()
        try:
            sol = solve(capped)
            outcome = f"{sol.status}, {sol.total_hourly_cost:,.2f} $/h"
        except InfeasibleError as e:
            outcome = "infeasible: " + (e.causes[0] if e.causes else str(e))[:150] + "..."
        return time.perf_counter() - t, outcome

    for frac in (1.005, 0.97):
        seconds, outcome = run(frac)
        print(f"{frac:>8} {seconds:>8.2f}  {outcome}")
    kept = decompose.shortfalls
    decompose.shortfalls = lambda *a, **k: None  # the elastic model alone, as before
    try:
        seconds, outcome = run(0.97)
    finally:
        decompose.shortfalls = kept
    print(f"{'0.97':>8} {seconds:>8.2f}  elastic model alone (before): {outcome}")


def replan(problem: Problem, solution, seed: int):
    """Solve again with the first solution running and every price moved."""
    rng = random.Random(seed)
    moved = {k: [replace(o, on_demand=o.on_demand and round(o.on_demand * rng.uniform(0.7, 1.1), 4),
                         spot=o.spot and round(o.spot * rng.uniform(0.7, 1.1), 4)) for o in v]
             for k, v in problem.offers.items()}
    current = {a: tuple(g.chosen for g in wp.groups) for a, wp in solution.placements.items()}
    again = replace(problem, offers=moved, current=current)
    t = time.perf_counter()
    sol = solve(again)
    return time.perf_counter() - t, sol


if __name__ == "__main__":
    main()

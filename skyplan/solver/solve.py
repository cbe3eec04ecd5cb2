"""``solve(problem) -> Solution``: the pure entry point of the solver.

Stages: find every item's options through the offer indexes (once per
requirement signature, skyplan.solver.candidates) -> check each item can run
somewhere at all -> couple items that constrain each other (colocation,
egress) -> merge, prune, answer what needs no model in closed form -> split the
rest into independent components, each its own OR-Tools model or closed form
(skyplan.solver.decompose, skyplan.solver.mip) -> name the cause if one is
infeasible -> assemble placements, fallbacks and explanations
(skyplan.solver.assemble) -> with ``compare_single_cloud``, the same problem
once per cloud alone (skyplan.solver.single_cloud).

The rules, where the configuration leaves a choice:

- Hours costed: a job's ``duration_hours`` (1 h when it declares none); a
  service's ``duration_hours`` if set, else 730 h (a month); a provisioned fleet
  730 h. Spot is costed at price x (1 + interruption rate x restart overhead).
- Deadline jobs: a job Uniform Progress paces (``recovery.strategy =
  "uniform_progress"``, spot and on-demand listed) that has not started is costed
  on spot by the policy's expected spot and on-demand hours over its window
  (``SolveOptions.windows``; ``skyplan.deadline.expected``), the on-demand hours at
  the same machine's on-demand price; its placement carries that on-demand $/h
  (``on_demand_ceiling``), the most a deadline switch may cost.
- Pricing: ``pricing`` is the list of models a workload accepts (default
  on_demand), so spot is used only when listed: jobs opt in by listing it, and
  a service only runs on spot when its own list says so.
- ``max_hourly_cost`` bounds the whole workload: each of its replica groups may
  cost at most max_hourly_cost / replicas per hour. A group budget (a mandatory
  policy over several workloads) bounds their summed $/h (a capacity row).
- Spread: with r replicas over D reachable domains, every domain gets between
  floor(r / D) and ceil(r / D) of them: all distinct when r <= D, otherwise
  every domain used and as even as possible (so at least min(r, D) distinct).
- Colocation: every group of a workload with ``colocate_with`` runs in a region
  (of the same cloud) where the named workload has a group.
- Egress: a dependency's ``data_gb`` is handed to each dependant; the share of
  the dependency's groups in regions the dependant does not use pays the source
  cloud's $/GB (aws 0.09, gcp 0.12, azure 0.087; same region: free).
- Fleets: an existing fleet's capacity is used at marginal cost 0 by any
  workload whose provider/region allow lists admit it, before buying capacity;
  a workload naming a fleet runs only there. Workload nodes on fleets use no
  provider quota.
- Capacity Blocks: a workload goes onto one only if its hours fit before the
  block's end; a block that starts later than the plan (``Fleet.starts_at``)
  is waited for (the placement carries ``starts_at``) unless the workload's
  ``start_by`` is earlier, in which case the block is not an option for it
  (a fleet it names is dropped) and its explanation says why.
- CPU architecture: ``resources { arch }`` is x86_64 unless it says arm64 or
  any (then the cheaper of both); a workload that does not say takes a named
  instance type as it is, and the local machine as it is.
- Shared machines: a live Kubernetes node (or the local machine) fits any
  request it can hold, and a placement there carries the request ("H100:2")
  rather than the node's size; the pods packed onto one Kubernetes node never
  ask for more than it has. A multi-node group there may span the cluster's
  nodes of the chosen node's shape, one pod per node when a pod fills one.
  Cloud VMs match the accelerator count exactly. A cluster that an existing
  fleet declares is used through that fleet only (its live nodes are the
  fleet's capacity, not more of it).
- Spot with an on-demand base (a service's ``spot`` block): exactly
  ``base_on_demand_replicas`` groups on non-spot options and the rest on spot,
  spread rules unchanged. With ``fallback_on_demand``, while the address has
  blocked scopes (spot lost lately) no new spot group is placed: the spot
  groups still running stay, a lost one comes back on on-demand, and once the
  scopes are gone the spot count is exact again (it moves back). A spot
  group of such a service is costed with its expected fallback hours at the
  on-demand price (``items.fallback_hours``). These items are not merged.
- Stability: a running item keeps its placement unless moving saves more than
  ``migrate_threshold`` of its cost (``reoptimize`` turns this off).
- Ties are broken by provider, region, zone, instance type and pricing, so
  the same input always gives the same answer.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import replace

from skyplan.errors import InfeasibleError, SolverError
from skyplan.gcpause import paused
from skyplan.solver.assemble import TABLE_EXTRA, assemble
from skyplan.solver.capacity import NODE_KINDS, Rows, fleet_options, starts_late
from skyplan.solver.classes import Entry, Klass, build_classes
from skyplan.solver.decompose import explain_parts, shortfalls, solve_parts
from skyplan.solver.infeasible import explain_elastic, explain_no_options, explain_spot_split
from skyplan.solver import memo
from skyplan.forked import map_split
from skyplan.solver.candidates import Candidates, OptionCodec
from skyplan.solver.items import Item, Option, is_blocked, spot_lost
from skyplan.solver.mip import MipClass, MipInput, MipResult, solve_mip
from skyplan.solver.model import Placement, Solution
from skyplan.solver.problem import Problem


def solve(problem: Problem) -> Solution:
    """Place every workload and provisioned fleet of ``problem``; raises
    InfeasibleError naming the workload and constraint when no placement exists
    (and, when the problem knows where its values were written, their file:line:col).
    A provisioned fleet is bought only when it pays (``fleet_choice``)."""
    from skyplan.solver.fleet_choice import choose_fleets

    # The solver builds many small acyclic values and frees them together; the
    # cycle collector's passes over them cost a third of a large solve.
    try:
        with paused():
            return choose_fleets(problem, _within_group_budgets)
    except InfeasibleError as e:
        if not problem.positions:
            raise
        from skyplan.config.model import source_in

        raise e.located(lambda owner, path: source_in(problem.positions, owner, path)) from None


def _within_group_budgets(problem: Problem) -> Solution:
    """``_solve`` under the group budgets. Caps are guardrails that seldom bind, and
    their rows make the model much slower (measured: 1,000 workloads under 4 team
    caps that do not bind, 8 s against 0.5 s), so the problem is solved without them
    first: when that optimum keeps within every cap it is the optimum with them (and
    infeasible without them is infeasible with them); only otherwise are they rows."""
    budgets = problem.options.group_budgets
    if not budgets:
        return _solve(problem)
    loose = _solve(replace(problem, options=replace(problem.options, group_budgets=())))
    hourly = {a: p.hourly_cost for a, p in loose.placements.items()}
    if all(sum(hourly.get(a, 0.0) for a in b.addresses) <= b.limit + 1e-9 for b in budgets):
        return loose
    return _solve(problem)


def _solve(problem: Problem) -> Solution:
    started = time.perf_counter()
    problem = _without_fleet_nodes(problem)
    found = memo.split(problem, problem.memo)
    if found.kept:
        try:
            solution = _solve_rest(problem, found, started)
        except InfeasibleError:
            solution = None  # said by the full solve below, in its own words
        if solution is not None:
            return solution
        found = memo.split(problem, {})  # the kept ones' rows bind now: solve everything
    solution = _solve_rest(problem, found, started)
    assert solution is not None
    return solution


def _solve_rest(whole: Problem, found: memo.Split, started: float) -> Solution | None:
    """Solve what ``found`` does not keep, with the shared rows less what the kept
    ones use; None when a class sharing a row with them is not at its own optimum
    (then keeping them may not be what a full solve gives)."""
    problem = whole
    if found.kept:  # kept as they were solved: nothing of theirs is built again
        problem = replace(problem, workloads={a: w for a, w in problem.workloads.items() if a not in found.kept})
    opts = problem.options
    items = [Item.of_fleet(f) for _, f in sorted(problem.fleets.items()) if not f.existing]
    items += [_on_time(Item.of_workload(w, in_fallback=spot_lost(opts.blocked.get(a, ())), window=opts.windows.get(a)),
                       problem)
              for a, w in sorted(problem.workloads.items())]
    rows = Rows(problem.providers, problem.fleets, problem.offers, exact=opts.fleet_packing != "aggregate")
    rows.add_budgets(opts.group_budgets)
    kept_usage = {r.id: found.usage[r.label] for r in rows.rows if r.label in found.usage}
    if opts.first_cause:
        _raise_first_unplaceable(problem, items, rows)
    entries = _entries(problem, items, rows)
    by_address = {e.item.address: e for e in entries}

    empty = [e for e in entries if not e.options]
    if empty:
        shapes: dict = {}
        _raise([explain_no_options(e.item, problem, rows, shapes) for e in (empty[:1] if opts.first_cause else empty)])
    short = [c for e in entries if e.item.spot_split and (c := explain_spot_split(e.item, e.options))]
    if short:
        _raise(short)
    coupled = _couple(entries, by_address)
    colocate = [(e.item.address, e.item.placement.colocate_with) for e in entries
                if e.item.placement.colocate_with and e.item.placement.colocate_with in by_address]
    # a dependency's data_gb is handed to each dependant; it crosses regions at the source cloud's $/GB
    egress = [(e.item.address, dep, by_address[dep].item.data_gb) for e in entries
              for dep in sorted(set(e.item.depends_on))
              if dep in by_address and dep != e.item.address and by_address[dep].item.data_gb > 0]
    for a, b, _ in egress:
        coupled.update((a, b))

    threshold = 0.0 if opts.reoptimize else opts.migrate_threshold
    classes = build_classes(entries, coupled, opts.budget, threshold, merge=opts.merge,
                            budget_rows=rows.budget_rows)
    result = _run_model(problem, classes, rows, colocate, egress, threshold, coupled, kept_usage)
    alone = memo.alone_classes(classes, result)
    if found.rows and not memo.rows_kept_apart(classes, alone, rows, found.rows):
        return None
    solution, row_totals = assemble(problem, classes, result, egress, time.perf_counter() - started, rows,
                                    kept_usage)
    use = memo.row_use(problem, found, classes, alone, rows, solution)
    if found.kept:
        solution = _with_kept(solution, found, time.perf_counter() - started, row_totals, rows)
    solution = replace(solution, reused=len(found.kept), memo=memo.entries(found, solution, use))
    if opts.compare_single_cloud:
        from skyplan.solver.single_cloud import compare

        sink = dict(solution.memo)
        solution = replace(solution, single_cloud=compare(whole, solution, sink), memo=sink)
    return solution


def _on_time(item: Item, problem: Problem) -> Item:
    """A workload naming a Capacity Block that starts after its ``start_by`` goes
    elsewhere: the fleet is dropped from its placement (and named in its explanation)."""
    named = problem.fleets.get(item.placement.fleet or "")
    if named is None or not starts_late(named, item.start_by):
        return item
    return replace(item, placement=replace(item.placement, fleet=None), late_fleet=item.placement.fleet)


def _with_kept(solution: Solution, found: memo.Split, seconds: float, row_totals, rows) -> Solution:
    """The solution of the rest joined with the placements kept from the memo,
    in the order, with the totals and the explanations a full solve gives."""
    kept = {a: wp for a, (wp, _) in found.kept.items()}
    memo.explain_kept(found, kept, row_totals, rows)
    placements = dict(sorted({**solution.placements, **kept}.items()))
    candidates = memo.Tables(solution.candidates, {a: c for a, (_, c) in found.kept.items() if c is not None})
    backend = solution.backend
    if backend == "closed-form":
        backend = min((b for b in found.backends if b != "closed-form"), default=backend)
    return replace(solution, placements=placements, candidates=candidates, backend=backend,
                   total_hourly_cost=round(sum(p.hourly_cost for p in placements.values()), 6),
                   total_cost=round(sum(p.expected_cost for p in placements.values()), 6),
                   solve_seconds=round(seconds, 4))


def _without_fleet_nodes(problem: Problem) -> Problem:
    """The problem without the live nodes of clusters an existing fleet declares:
    the fleet's capacity is those nodes, and counting both would fill them twice."""
    covered = {f.provider for f in problem.fleets.values() if f.existing and f.provider}
    drop = {k for k in covered & set(problem.offers) if any(o.provider in NODE_KINDS for o in problem.offers[k])}
    if not drop:
        return problem
    offers = {k: (tuple(o for o in v if o.provider not in NODE_KINDS) if k in drop else v)
              for k, v in problem.offers.items()}
    return replace(problem, offers=offers)


def _alike(item: Item) -> tuple:
    """What decides the offer buckets and tables a request reads: its hardware, its
    pricing models and where it may run."""
    res, spec = item.resources, item.placement
    return (tuple(sorted(a.name for a in res.accelerators)), res.instance_type or "", res.effective_arch,
            str(res.cpus), str(res.memory), item.pricing, spec.providers, spec.regions)


def _entries(problem: Problem, items: list[Item], rows: Rows) -> list[Entry]:
    opts = problem.options
    source = Candidates(problem, rows)
    by_region = _region_priced(items)
    sigs = []
    running: dict[tuple, dict[tuple, Placement]] = {}  # signature -> the running placements of its items
    for item in items:
        blocked = tuple(opts.blocked.get(item.address, ()))
        sig = (item.kind == "fleet", item.resources, item.nodes, item.groups, item.pricing, item.hours,
               item.max_hourly_cost, item.placement, blocked, item.address in by_region, item.start_by,
               tuple(rows.budget_rows.get(item.address, ())))
        if item.spot_split:  # only then, so the signatures of everything else stay as they were
            sig += (item.spot_base, item.spot_fallback, item.in_fallback)
        if item.paced:
            sig += (item.window, item.changeover)
        sigs.append(sig)
        if not opts.reoptimize:
            for p in problem.current.get(item.address, ()):
                running.setdefault(sig, {}).setdefault(
                    (p.provider, p.region, p.zone or "", p.instance_type, p.pricing, p.fleet or ""), p)
    # the catalog options of each distinct signature: pure look-ups, half of them in a forked child
    asks: dict[tuple, tuple] = {}
    for item, sig in zip(items, sigs):
        if sig not in asks and not item.placement.fleet:
            k = opts.top_fallbacks + TABLE_EXTRA + item.groups
            spread = item.placement.spread if item.groups > 1 else None
            grouping = source.grouping(spread, sig[9])
            if item.spot_split:  # spot and on-demand options are cut apart: the model needs both
                grouping = _by_spot(grouping)
            asks[sig] = (item, sig[8], k, grouping, tuple(running.get(sig, {}).values()))
    codec = OptionCodec(problem.offers)
    source.warm(ask[0] for ask in asks.values())
    # alike requests side by side: the split hands each process one run of the list, and
    # requests that read the same offer buckets then share one process's memoised look-ups
    order = sorted(asks, key=lambda sig: _alike(asks[sig][0]))
    found = dict(zip(order, map_split(lambda sig: source.options(*asks[sig]), order, codec.encode, codec.decode)))
    cache: dict[tuple, tuple[list[Option], list[tuple]]] = {}
    entries = []
    key_index: dict[int, tuple[set, dict]] = {}
    for item, sig in zip(items, sigs):
        if sig not in cache:
            pairs: list[tuple[Option, tuple]] = list(found.get(sig, ()))
            pairs += fleet_options(item, rows, problem.fleets, problem.providers)
            pairs = rows.with_budget(item.address, pairs)
            pairs.sort(key=lambda p: p[0].sort_key)
            seen: set[tuple] = set()
            unique = [p for p in pairs if not (p[0].key in seen or seen.add(p[0].key))]
            cache[sig] = ([p[0] for p in unique], [p[1] for p in unique])
        options, usage = cache[sig]
        fleet = problem.fleets.get(item.address) if item.kind == "fleet" else None
        if fleet is not None and fleet.offerings is not None:  # priced by what the cloud sells now
            from skyplan.solver.fleet_choice import priced_by_offerings

            options, usage = priced_by_offerings(fleet, options, usage)
        entry = Entry(item, sig, options, usage)
        if not opts.reoptimize and item.address in problem.current:
            if id(options) not in key_index:
                key_index[id(options)] = ({o.key for o in options},
                                          {(o.fleet, o.instance_type): o.key for o in options if o.fleet})
            entry.current = _current_keys(problem.current[item.address], *key_index[id(options)])
        entries.append(entry)
    return entries


def _by_spot(grouping):
    """``grouping`` with the option's pricing class (spot or not) added to its group."""
    if grouping is None:
        return lambda okey: (okey[4] == "spot",)
    return lambda okey: grouping(okey) + (okey[4] == "spot",)


def _spot_bounds(k: Klass, options: list[Option], problem: Problem) -> dict:
    """The spot row of a class with an on-demand base: exactly ``replicas - base``
    groups on spot; while spot was lost lately (``in_fallback``) at most the spot
    groups still running outside the blocked scopes (``reoptimize`` or not), so a
    lost one comes back on on-demand."""
    item = k.entry.item
    if not item.spot_split:
        return {}
    rest = len(k.members) * (item.groups - item.spot_base)
    spot = [o.pricing == "spot" for o in options]
    if not item.in_fallback:
        return {"spot": spot, "spot_min": rest, "spot_max": rest}
    blocked = problem.options.blocked.get(item.address, ())
    running = sum(1 for p in problem.current.get(item.address, ())
                  if p.pricing == "spot" and not is_blocked(p.provider, p.region, p.zone, blocked, "spot"))
    return {"spot": spot, "spot_min": 0, "spot_max": min(rest, running)}


def _region_priced(items: list[Item]) -> set[str]:
    """Items whose region enters the model: colocated pairs and egress pairs."""
    names = {i.address for i in items}
    data = {i.address: i.data_gb for i in items}
    out: set[str] = set()
    for i in items:
        target = i.placement.colocate_with
        if target and target in names:
            out.update((i.address, target))
        for dep in i.depends_on:
            if dep in names and dep != i.address and data[dep] > 0:
                out.update((i.address, dep))
    return out


def _current_keys(placements: tuple[Placement, ...], keys: set, fleet_keys: dict) -> dict[tuple, int]:
    """Option keys of the recorded placements that are still options."""
    found: Counter = Counter()
    for p in placements:
        key = (p.provider, p.region, p.zone or "", p.instance_type, p.pricing, p.fleet or "")
        if p.fleet:
            key = fleet_keys.get((p.fleet, p.instance_type), key)
        if key in keys:
            found[key] += 1
    return dict(found)


def _couple(entries: list[Entry], by_address: dict[str, Entry]) -> set[str]:
    coupled: set[str] = set()
    causes = []
    for e in entries:
        item = e.item
        target = item.placement.colocate_with
        if not target:
            continue
        other = by_address.get(target)
        if other is None:
            causes.append(f"{item.address}: colocate_with names {target}, which is not declared")
            continue
        theirs = {o.region_key for o in other.options}
        mine = {o.region_key for o in e.options}
        if not mine & theirs:
            causes.append(
                f"{item.address} must share a region with {target}, but they have none in common "
                f"({item.address}: {_regions(mine)}; {target}: {_regions(theirs)})")
            continue
        e.region_filter = theirs
        coupled.update((item.address, target))
    if causes:
        _raise(causes)
    return coupled


def _regions(keys: set) -> str:
    names = sorted({f"{k}/{r}" for k, r in keys})
    return ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")


def _raise_first_unplaceable(problem: Problem, items: list[Item], rows: Rows) -> None:
    """For ``SolveOptions.first_cause``: when an item surely has no option (no provider
    key it may use lists an offer, and no fleet serves it), raise for the first item
    without options, looking up only the items before that one."""
    source = Candidates(problem, rows)
    for j, item in enumerate(items):
        if (not item.placement.fleet and not any(problem.offers[k] for k in source.keys(item.placement))
                and not fleet_options(item, rows, problem.fleets, problem.providers)):
            break
    else:
        return
    first = next((e.item for e in _entries(problem, items[:j], rows) if not e.options), items[j])
    _raise([explain_no_options(first, problem, rows)])


def _raise(causes: list[str]) -> None:
    head = "no placement satisfies the configuration" if len(causes) > 1 else causes[0]
    raise InfeasibleError(head, causes=causes if len(causes) > 1 else (),
                          hint="relax the constraint named above, or add providers, regions or quota")


def _spread_bounds(k: Klass, options: list[Option]) -> dict[str, int]:
    """Per-domain bounds of a spread class: each member as even as possible."""
    if not k.spread:
        return {}
    domains = len({o.domain(k.spread) for o in options})
    r, m = k.entry.item.groups, len(k.members)
    return {"spread_cap": m * math.ceil(r / domains), "spread_floor": m * (r // domains)}


def _run_model(problem: Problem, classes: list[Klass], rows: Rows, colocate, egress, threshold: float,
               coupled: set[str], kept_usage: dict[int, float] | None = None) -> MipResult:
    """The model's counts per class; ``kept_usage`` (row -> amount) is what placements
    kept from the memo use of each row. ``alone`` holds indexes into ``classes``."""
    opts = problem.options
    kept_usage = kept_usage or {}
    todo = [i for i, k in enumerate(classes) if k.closed is None]
    fixed = sum(o.group_hourly * n for k in classes if k.closed is not None for o, n in zip(k.options, k.closed))
    inp = MipInput([], [r.limit - kept_usage.get(r.id, 0.0) for r in rows.rows], [r.label for r in rows.rows],
                   opts.budget, fixed)
    slot = {}
    for i in todo:
        k = classes[i]
        address = k.entry.item.address
        slot[address] = len(inp.classes)
        options = k.options
        bonus = {j: (threshold * o.group_cost, k.current[o.key])
                 for j, o in enumerate(options) if o.key in k.current and threshold > 0}
        inp.classes.append(MipClass(
            k.groups, [o.group_cost for o in options], [o.group_hourly for o in options], k.usage,
            domains=[o.domain(k.spread) for o in options] if k.spread else None,
            region_keys=[o.region_key for o in options] if address in coupled else None,
            bonus=bonus, label=address + (f" and {len(k.members) - 1} like it" if len(k.members) > 1 else ""),
            **_spread_bounds(k, options), **_spot_bounds(k, options, problem)))
    inp.colocate = [(slot[a], slot[b]) for a, b in colocate if a in slot and b in slot]
    inp.egress = [(slot[a], slot[b], gb) for a, b, gb in egress if a in slot and b in slot]
    if not inp.classes:
        if opts.budget is not None and fixed > opts.budget + 1e-9:
            explain_elastic(problem, classes, rows, MipResult([], "infeasible", slacks={"budget": fixed - opts.budget}))
        result = MipResult([], "optimal", backend="closed-form")
    elif opts.decompose:
        result, infeasible = solve_parts(inp, opts.time_limit, backend=opts.backend)
        if result.status == "infeasible":
            order, elastic = explain_parts(infeasible, opts.time_limit, backend=opts.backend,
                                           caps=frozenset(rows.budget_of))
            explain_elastic(problem, classes, rows, elastic, [classes[todo[i]] for i in order])
    else:
        result = solve_mip(inp, opts.time_limit, backend=opts.backend)
        if result.status == "infeasible":
            elastic = shortfalls(inp, opts.time_limit, opts.backend, frozenset(rows.budget_of)) or \
                solve_mip(inp, opts.time_limit, elastic=True, backend=opts.backend)
            explain_elastic(problem, classes, rows, elastic, [classes[i] for i in todo])
    if inp.classes:
        if result.status == "unsolved":
            raise SolverError(
                f"the solver found no placement within its time limit of {opts.time_limit:g}s",
                hint="try again with fewer workloads or a longer time limit")
    counts: list[list[int]] = []
    it = iter(result.counts)
    for k in classes:
        counts.append(k.closed if k.closed is not None else next(it))
    result.counts = counts
    result.alone = {todo[i] for i in result.alone}
    return result

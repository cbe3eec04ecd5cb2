"""Candidate generation keeps what a full list of every fitting offer would give
where it matters: the first K options of each group in the same order, and
nothing it leaves out is undominated. The full list is built here directly from
the offers, independently of the index."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from skyplan.solver.candidates import Candidates, compile_globs
from skyplan.solver.capacity import Rows
from skyplan.solver.problem import GroupBudget
from skyplan.solver.items import (
    Item, Option, effective_price, hardware_fits, is_blocked, offer_price, provider_allowed, region_allowed, served,
)

from tests.solver.test_decompose import _team
from tests.solver.test_fuzz import _problem


def _full(problem, item: Item, rows: Rows) -> list[tuple[Option, tuple]]:
    out = []
    blocked = problem.options.blocked.get(item.address, ())
    for key, offers in problem.offers.items():
        cfg = problem.providers.get(key)
        kind = cfg.kind if cfg else key.split(".")[0]
        if not provider_allowed(key, kind, item.placement):
            continue
        for o in offers:
            if not hardware_fits(o, item.resources) or not region_allowed(o.region, o.zone, item.placement):
                continue
            if is_blocked(key, o.region, o.zone, blocked):
                continue
            for pricing in item.pricing:
                price = offer_price(o, pricing, item.kind)
                if price is None or price < 0:
                    continue
                if item.max_hourly_cost is not None and price * item.nodes > item.max_hourly_cost / item.groups + 1e-9:
                    continue
                eff = effective_price(o, pricing, price, problem.options.restart_overhead)
                opt = Option(key, kind, o.region, o.zone, o.instance_type, pricing, price, item.nodes,
                             price * item.nodes, eff * item.nodes * item.hours, offer=o,
                             accelerators=served(o, item.resources), vcpus=o.vcpus, memory_gib=o.memory_gib)
                out.append((opt, rows.usage(opt, item.resources)))
    out.sort(key=lambda p: p[0].sort_key)
    return out


def _dominated(o: Option, u: tuple, by: Option, bu: tuple, budget: bool) -> bool:
    have = dict(u)
    return by.sort_key <= o.sort_key and (not budget or by.group_hourly <= o.group_hourly + 1e-12) and \
        all(r in have and a <= have[r] + 1e-9 for r, a in bu)


def _aliased(problem):
    """The team problem with each aliased key listing the very offers of its kind's
    key, as an aliased provider over one catalog does (they then share an index)."""
    offers = dict(problem.offers)
    for key in problem.offers:
        kind, _, alias = key.partition(".")
        if alias and kind in offers:
            offers[key] = list(offers[kind])
    return replace(problem, offers=offers)


@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("seed", range(40))
def test_cut_keeps_the_first_k_of_each_group_and_every_undominated_option(seed, grouped):
    """``grouped``: a group budget covers every other workload, which must then be
    cut as under a plan budget (no option dearer per hour than its dominator left out).
    Every fourth team problem has aliased keys over the same offers."""
    rng = random.Random(seed)
    problem = _problem(rng) if seed % 2 else _team(rng)
    if seed % 4 == 2:
        problem = _aliased(problem)
    if grouped:
        members = tuple(sorted(problem.workloads)[::2])
        problem = replace(problem, options=replace(problem.options, budget=None,
                                                   group_budgets=(GroupBudget("g", 1.0, members),)))
    rows = Rows(problem.providers, problem.fleets, problem.offers)
    source = Candidates(problem, rows)
    if seed % 4 == 2:
        assert source.index["aws"] is source.index["aws.team"]
    for w in problem.workloads.values():
        item = Item.of_workload(w)
        budget = problem.options.budget is not None or (grouped and item.address in members)
        if item.placement.fleet:
            continue
        k = rng.choice([1, 2, 4, 9])
        spread = item.placement.spread if item.groups > 1 else None
        by_region = rng.random() < 0.3
        grouping = source.grouping(spread, by_region)
        blocked = tuple(problem.options.blocked.get(item.address, ()))
        got = source.options(item, blocked, k, grouping)
        full = _full(problem, item, rows)
        assert [o.key for o, _ in got] == sorted({o.key for o, _ in got}, key=[o.key for o, _ in full].index)
        same = {o.key: (o, u) for o, u in full}  # each option is the one the plain constructor gives
        assert all((o, u) == same[o.key] and hash(o) == hash(same[o.key][0])
                   and o.sort_key == same[o.key][0].sort_key for o, u in got
                   if not (item.spot_fallback or item.window is not None)), item.address
        group = grouping or (lambda key: ())
        firsts: dict = {}
        for o, _ in full:
            firsts.setdefault(group(o.key), []).append(o.key)
        kept: dict = {}
        for o, _ in got:
            kept.setdefault(group(o.key), []).append(o.key)
        for g, keys in firsts.items():
            assert kept.get(g, [])[:k] == keys[:k], (item.address, g)
        chosen = {o.key for o, _ in got}
        for o, u in full:
            if o.key in chosen:
                continue
            assert any(_dominated(o, u, b, bu, budget) for b, bu in got if group(b.key) == group(o.key)), \
                (item.address, o.key)


def test_globs_compile_once_per_pattern_set():
    match = compile_globs(("us-east-1", "eu-*", "ap-?outh-1"))
    assert [match(r) for r in ("us-east-1", "us-east-2", "eu-west-3", "ap-south-1", None)] == \
        [True, False, True, True, False]
    assert compile_globs(())("us-east-1") is False


def _cut_by_hand(index: OfferIndex, region: str, admitted: set, pricing: str, k: int, vcpus_vary: bool):
    """The cut of one place for a request admitting the shape buckets ``admitted``,
    straight from its definition: every fitting row, cheapest first, the first k and
    ties; under a vCPU quota then each shape's first row, in order, that has fewer
    vCPUs than every row kept before it."""
    lists = [index.ranked(region, b, pricing, lambda o: o.price(pricing), lambda o, p: p) for b in admitted]
    rows = sorted(r for rows in lists for r in rows)
    out = [r for r in rows if len(rows) <= k or r[0] <= rows[k - 1][0] + 1e-9]
    if vcpus_vary and out:
        for first in sorted(rows[0] for rows in lists if rows):
            if first[5].vcpus < min(r[5].vcpus for r in out):
                out.append(first)
    return [(r[0], r[1], r[5]) for r in out]


@pytest.mark.parametrize("pricing", ["on_demand", "spot"])
def test_a_cpu_place_reads_only_the_shapes_that_can_reach_its_cut(pricing):
    """The built-in catalog's CPU shapes, under floors from none to most of them:
    reading the shapes by their cheapest offer and stopping past the k-th row
    gives exactly the cut of every fitting row."""
    from skyplan.catalog import load_catalog
    from skyplan.catalog.index import OfferIndex

    rng = random.Random(5)
    for kind in ("aws", "gcp", "azure"):
        index = OfferIndex(load_catalog().for_provider(kind))
        shapes = [("cpu", v, m, arch) for arch in ("x86_64", "arm64") for v, m in index.cpu_shapes(arch)]
        for region in rng.sample(index.regions, 3):
            heads = index.heads(region, pricing, lambda o: o.price(pricing), lambda o, p: p)
            for _ in range(25):
                least_v, least_m = rng.choice([0, 2, 4, 8, 16, 32, 64]), rng.choice([0, 4, 16, 64, 128])
                admitted = {b for b in shapes if b[1] >= least_v and b[2] >= least_m and rng.random() < 0.9}
                if not admitted:
                    continue
                fewest = min(b[1] for b in admitted)
                for k in (1, 3, 9):
                    for vary in (False, True):
                        got = Candidates._shapes(heads, (frozenset(admitted), fewest), k, vary)
                        want = _cut_by_hand(index, region, admitted, pricing, k, vary)
                        assert [(e, p, id(o)) for e, p, o in got] == [(e, p, id(o)) for e, p, o in want], \
                            (kind, region, least_v, least_m, k, vary)

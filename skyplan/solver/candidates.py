"""Candidate generation: each item's options, found through offer indexes and cut
to the ones the model, the fallbacks and the tables can use.

Look-up, never a scan: every provider key's offers are indexed by region and
hardware bucket (skyplan.catalog.index); an item reads only the buckets that can
hold its resources (its accelerator models and counts, or the vCPU and memory
shapes its floors admit, on its CPU architecture) in the regions its placement
allows. Region and zone globs are compiled once per distinct pattern set. The
cheapest offers of one (key, region, hardware, pricing, filters) are worked out
once, cut by the same rule per place, and shared by every item asking the same.

The cut. Options are ranked by ``Option.sort_key``. An item's options fall in
*groups*: its spread domain when it spreads, its region when a colocation or
egress term prices the region, both when both hold, else one group. In each
group the first K options are kept, K = fallbacks + extra table rows + the
item's groups, so the fallbacks (filtered only by domain and region), the
candidate table and the explanation's alternative are what a full list would
give. Beyond K, an option is kept only when no kept option of its group
dominates it: costs no more, uses no more of any capacity row, and (under a
budget: the plan's, or a group budget over the item) costs no more per hour. A
dominated option can be swapped for its dominator in any placement without breaking a constraint or raising the cost,
so the optimum is the one the full list has. The running placements of the
item are always kept (stability).
"""

from __future__ import annotations

import fnmatch
import heapq
import itertools
import re
from typing import Callable

from skyplan.catalog.index import SHARED_KINDS, OfferIndex
from skyplan.catalog.offer import Offer
from skyplan.config.model import PlacementSpec, Resources
from skyplan.solver.items import (
    Item, Option, effective_price, group_cost, hardware_fits, is_blocked, offer_price, region_allowed, served,
)

Matcher = Callable[[str | None], bool]


def compile_globs(patterns: tuple[str, ...]) -> Matcher:
    """One matcher for any of ``patterns`` (fnmatch globs, case-sensitive)."""
    exact = {p for p in patterns if not any(ch in p for ch in "*?[")}
    globs = [p for p in patterns if p not in exact]
    rx = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in globs)).match if globs else None
    if rx is None:
        return lambda v: v is not None and v in exact
    return lambda v: v is not None and (v in exact or rx(v) is not None)


class _Lazy(dict):
    """provider key -> OfferIndex of its offers, built on first read. Keys that list
    the very same offers (an aliased provider: ``aws`` and ``aws.team`` over one
    catalog) share one index, and so its ranked lists."""

    def __init__(self, offers):
        super().__init__()
        self.offers = offers

    def __missing__(self, key):
        if key not in self.offers:
            raise KeyError(key)
        mine = self.offers[key]
        for other in self.values():
            if len(other.offers) == len(mine) and all(a is b for a, b in zip(other.offers, mine)):
                idx = self[key] = other
                return idx
        idx = self[key] = OfferIndex(mine)
        return idx

    def __contains__(self, key) -> bool:
        return key in self.offers


class Candidates:
    """The options of the items of one problem; memoised, built once per solve."""

    def __init__(self, problem, rows):
        self.problem = problem
        self.rows = rows
        self.overhead = problem.options.restart_overhead
        self.budget = problem.options.budget is not None
        # workloads under a group budget: their options are pruned as under a plan budget
        self.budgeted = {a for b in problem.options.group_budgets for a in b.addresses}
        self.index = _Lazy(problem.offers)  # a key's offers are indexed when an item first asks for them
        self.kinds = {key: (cfg.kind if (cfg := problem.providers.get(key)) else key.split(".")[0])
                      for key in problem.offers}
        # key -> (a vCPU quota applies, an accelerator quota applies)
        self.quotas = {key: (any(r == "vcpus" for _, r, _ in rows.quotas.get(key, ())),
                             any(r != "vcpus" for _, r, _ in rows.quotas.get(key, ()))) for key in problem.offers}
        self.rowless = {key for key in problem.offers if not rows.quotas.get(key)}  # cloud VMs there use no row
        self._globs: dict[tuple, Matcher] = {}
        self._keys: dict[tuple, list[str]] = {}
        self._regions: dict[tuple, list[str]] = {}
        self._buckets: dict[tuple, tuple[tuple, ...]] = {}
        self._admitted_sets: dict[tuple, tuple[frozenset, float]] = {}
        self._shape_ids: dict[tuple, int] = {}  # (key, resources) -> one number per distinct bucket set
        self._interned: dict[tuple, int] = {}
        self._places: dict[tuple, dict[str, list[tuple]]] = {}
        self._what: dict[tuple, tuple] = {}  # (key, accelerator request) -> what its tables are keyed by
        self._seq = itertools.count()

    def budgeted_item(self, item: Item) -> bool:
        """Whether a budget row (the plan's, or a group's over it) counts ``item``'s $/h."""
        return self.budget or item.address in self.budgeted

    def warm(self, items) -> None:
        """Index every provider key ``items`` may read, now: a child forked after
        this inherits the indexes instead of building its own."""
        for key in {k for item in items for k in self.keys(item.placement)}:
            self.index[key]

    # -- compiled filters -------------------------------------------------
    def globs(self, patterns: tuple[str, ...]) -> Matcher:
        m = self._globs.get(patterns)
        if m is None:
            m = self._globs[patterns] = compile_globs(patterns)
        return m

    def keys(self, spec: PlacementSpec) -> list[str]:
        hit = self._keys.get(spec.providers)
        if hit is None:
            ok = self.globs(spec.providers)
            hit = self._keys[spec.providers] = [
                k for k in sorted(self.problem.offers) if not spec.providers or ok(k) or ok(self.kinds[k])]
        return hit

    def regions(self, key: str, spec: PlacementSpec) -> list[str]:
        mk = (key, spec.regions, spec.exclude_regions)
        hit = self._regions.get(mk)
        if hit is None:
            inc, exc = self.globs(spec.regions), self.globs(spec.exclude_regions)
            hit = self._regions[mk] = [r for r in self.index[key].regions
                                       if (not spec.regions or inc(r)) and not (spec.exclude_regions and exc(r))]
        return hit

    def zone_ok(self, spec: PlacementSpec) -> Matcher | None:
        if not spec.zones and not spec.exclude_zones:
            return None
        inc, exc = self.globs(spec.zones), self.globs(spec.exclude_zones)
        return lambda z: (not spec.zones or inc(z)) and not (spec.exclude_zones and exc(z))

    def buckets(self, key: str, res: Resources) -> tuple[tuple, ...]:
        """The hardware buckets of ``key`` that may hold ``res`` (cloud VMs)."""
        mk = (key, res)
        hit = self._buckets.get(mk)
        if hit is None:
            idx = self.index[key]
            want = res.effective_arch
            arches = ("arm64", "x86_64") if want == "any" else (want,)
            if res.accelerators:
                hit = [("acc", a.name, float(a.count), arch) for a in res.accelerators for arch in arches]
            else:
                hit = [("cpu", v, m, arch) for arch in arches for v, m in idx.cpu_shapes(arch)
                       if (res.cpus is None or res.cpus.admits(v)) and (res.memory is None or res.memory.admits(m))]
            hit = self._buckets[mk] = tuple(hit)
            self._shape_ids[mk] = self._interned.setdefault(hit, len(self._interned))
        return hit

    # -- one place ----------------------------------------------------------
    def table(self, key: str, item: Item, pricing: str, zone_pats: tuple, blocked: tuple, k: int,
              per_zone: bool) -> dict[str, list[tuple]]:
        """The memo of ``place`` for one key and request: region -> rows
        (effective price, price, option key, sequence, offer, provider kind). A
        request without accelerators or instance type is answered by its
        buckets alone (they hold exactly the shapes it admits), so every request
        admitting the same shapes shares one table."""
        res = item.resources
        if not res.accelerators and not res.instance_type:
            self.buckets(key, res)
            what = self._shape_ids[(key, res)]
        elif not res.instance_type:
            what = self._accelerated(key, res)
        else:
            what = res
        cap = (item.max_hourly_cost / item.groups, item.nodes) if item.max_hourly_cost is not None else None
        mk = (key, what, pricing, item.kind == "fleet", zone_pats, blocked, k, per_zone, cap, self.budgeted_item(item))
        hit = self._places.get(mk)
        if hit is None:
            hit = self._places[mk] = {}
        return hit

    def _accelerated(self, key: str, res: Resources) -> tuple:
        """What decides the offers of an accelerator request on ``key``: its accelerators,
        its architecture, and its vCPU and memory floors unless every machine of
        those accelerators on ``key`` meets them (then a request that says nothing
        is answered the same, and shares the table)."""
        mk = (key, res)
        hit = self._what.get(mk)
        if hit is None:
            spans = [s for b in self.buckets(key, res) if (s := self.index[key].span(b)) is not None]
            cpus, memory = res.cpus, res.memory
            if spans:
                if cpus is not None and _met(cpus, min(s[0] for s in spans), max(s[1] for s in spans)):
                    cpus = None
                if memory is not None and _met(memory, min(s[2] for s in spans), max(s[3] for s in spans)):
                    memory = None
            hit = self._what[mk] = ("acc", res.accelerators, res.effective_arch, cpus, memory)
        return hit

    def place_rows(self, table: dict, key: str, region: str, item: Item, pricing: str, zone_pats: tuple,
             blocked: tuple, k: int, per_zone: bool) -> list[tuple]:
        hit = table.get(region)
        if hit is None:
            kind, seq = self.kinds[key], self._seq
            hit = table[region] = [(eff, price, (key, region, o.zone or "", o.instance_type, pricing, ""), next(seq),
                                    o, kind)
                                   for eff, price, o in self.place(key, region, item, pricing, zone_pats, blocked,
                                                                   k, per_zone)]
        return hit

    def place(self, key: str, region: str, item: Item, pricing: str, zone_pats: tuple, blocked: tuple,
              k: int, per_zone: bool) -> list[tuple[float, float, Offer]]:
        """The cheapest offers of ``key`` in ``region`` that fit ``item`` under
        ``pricing``: the first ``k`` per bucket (per zone when ``per_zone``) and
        beyond them those no earlier one dominates. (effective price, price, offer)."""
        res, fleet = item.resources, item.kind == "fleet"
        cap = item.max_hourly_cost / item.groups if item.max_hourly_cost is not None else None
        shaped = not res.accelerators and not res.instance_type
        idx = self.index[key]
        zone_ok = self.zone_ok(PlacementSpec(zones=zone_pats[0], exclude_zones=zone_pats[1])) if zone_pats else None

        def price_of(o: Offer):
            return offer_price(o, pricing, "fleet" if fleet else "job")

        def rank_of(o: Offer, p: float) -> float:
            return effective_price(o, pricing, p, self.overhead)

        if res.instance_type:
            rows = [(rank_of(o, p), p, o.zone or "", o.instance_type, i, o)
                    for i, o in enumerate(idx.of_type(region, res.instance_type))
                    if (p := price_of(o)) is not None and p >= 0 and hardware_fits(o, res)]
            rows.sort()
            merged = iter(rows)
        else:
            label = pricing + ("/fleet" if fleet else "")
            if shaped and not (per_zone or self.budgeted_item(item) or zone_ok or blocked or cap is not None):
                return self._shapes(idx.heads(region, label, price_of, rank_of), self._admitted(key, res), k,
                                    self.quotas.get(key, (False, False))[0])
            lists = [idx.ranked(region, b, label, price_of, rank_of) for b in self.buckets(key, res)]
            merged = heapq.merge(*lists) if len(lists) > 1 else iter(lists[0] if lists else ())
        quotas = self.quotas.get(key, (False, False))
        vcpus_vary, budget = quotas[0], self.budgeted_item(item)
        early = not (per_zone or any(quotas) or budget)  # every option here uses the same capacity
        out: list[tuple[float, float, Offer]] = []
        kept: dict = {}  # group (zone or None) -> [(eff, price, vcpus, accelerator class)]
        fewest: dict = {}  # (group, accelerator class) -> the fewest vCPUs kept
        for eff, price, _, _, _, o in merged:
            if res.cpus is not None and not res.cpus.admits(o.vcpus):
                continue
            if res.memory is not None and not res.memory.admits(o.memory_gib):
                continue
            if zone_ok is not None and not zone_ok(o.zone):
                continue
            if blocked and is_blocked(key, o.region, o.zone, blocked, pricing):
                continue
            if cap is not None and price * item.nodes > cap + 1e-9:
                continue
            g = o.zone if per_zone else None
            mine = kept.setdefault(g, [])
            acc = (g, o.accelerator, o.accelerator_count)
            if len(mine) >= k and eff > mine[k - 1][0] + 1e-9:
                if early:
                    break  # the rest is dearer and uses the same capacity
                # dominated within this place: a kept offer of its accelerator class, ranked
                # before it, with no more vCPUs (all its capacity use grows with) and, under
                # a budget, no dearer per hour
                if budget:
                    if any(a == acc and (not vcpus_vary or v <= o.vcpus + 1e-9) and p <= price + 1e-12
                           for _, p, v, a in mine):
                        continue
                elif acc in fewest and (not vcpus_vary or fewest[acc] <= o.vcpus + 1e-9):
                    continue
            mine.append((eff, price, o.vcpus, acc))
            if acc not in fewest or o.vcpus < fewest[acc]:
                fewest[acc] = o.vcpus
            out.append((eff, price, o))
        return out

    def _admitted(self, key: str, res: Resources) -> tuple[frozenset, float]:
        """The buckets of a request without accelerators or instance type, as a set,
        and the fewest vCPUs among them."""
        mk = (key, res)
        hit = self._admitted_sets.get(mk)
        if hit is None:
            buckets = self.buckets(key, res)
            hit = self._admitted_sets[mk] = (frozenset(buckets), min((b[1] for b in buckets), default=0.0))
        return hit

    @staticmethod
    def _shapes(heads: tuple, admitted: tuple[frozenset, float], k: int,
                vcpus_vary: bool) -> list[tuple[float, float, Offer]]:
        """The cut of one place for a request that every offer of its shape buckets
        fits: the first k (and ties) over all shapes; under a vCPU quota also each
        shape whose first offer has fewer vCPUs than every cheaper one kept. The
        rest of a shape's list is dominated by its first offer (same vCPUs, same
        capacity rows, cheaper), so only first offers can add to the cut.

        ``heads`` holds the region's shapes by their first offer, cheapest first
        (OfferIndex.heads), so only the shapes whose first offer is not dearer
        than the k-th row found so far are read: the rest cannot reach the cut."""
        shapes, least = admitted
        pool: list[tuple] = []
        kth = None
        for head, b, rows in heads:
            if b not in shapes:
                continue
            if kth is not None and head[0] > kth:
                break
            pool.extend(_head(rows, k))
            if len(pool) >= k:
                pool.sort()
                kth = pool[k - 1][0] + 1e-9
        if not pool:
            return []
        pool.sort()
        out = list(_head(pool, k))
        if vcpus_vary:
            fewest = min(r[5].vcpus for r in out)
            for head, b, _ in heads:
                if fewest <= least:
                    break
                if b in shapes and head[5].vcpus < fewest:
                    out.append(head)
                    fewest = head[5].vcpus
        return [(r[0], r[1], r[5]) for r in out]

    # -- one item -------------------------------------------------------------
    def grouping(self, spread: str | None, by_region: bool) -> Callable[[tuple], tuple] | None:
        """The group of an option key: its spread domain and/or its region."""
        kinds = self.kinds
        if spread is None and not by_region:
            return None
        depth = {"provider": 1, "region": 2, "zone": 3}.get(spread or "", 0)
        if not by_region:
            return lambda okey: okey[:depth]
        return lambda okey: okey[:depth] + (kinds.get(okey[0], okey[0]), okey[1])

    def options(self, item: Item, blocked: tuple, k: int, grouping: Callable[[tuple], tuple] | None,
                current: tuple = ()) -> list[tuple[Option, tuple]]:
        """(option, usage) pairs of ``item`` on catalog offers, cheapest first, cut
        as the module docstring says. ``grouping`` maps an option key (provider
        key, region, zone, ...) to its group (None: one group); ``current`` holds
        the running placements to keep."""
        spec, res = item.placement, item.resources
        zone_pats = (spec.zones, spec.exclude_zones) if spec.zones or spec.exclude_zones else ()
        per_zone = grouping is not None and spec.spread == "zone" and item.groups > 1
        raw: list[tuple] = []  # (eff, price, option key, sequence, offer, kind)
        for key in self.keys(spec):
            kind = self.kinds[key]
            mine = tuple(b for b in blocked if b[0] == key)
            idx = self.index[key]
            for o in idx.shared:
                if hardware_fits(o, res) and region_allowed(o.region, o.zone, spec):
                    for pricing in item.pricing:
                        if not (mine and is_blocked(key, o.region, o.zone, mine, pricing)):
                            self._raw(raw, item, key, kind, o, pricing)
            regions = self.regions(key, spec)
            for pricing in item.pricing:
                table = self.table(key, item, pricing, zone_pats, mine, k, per_zone)
                for region in regions:
                    rows = table.get(region)
                    if rows is None:
                        rows = self.place_rows(table, key, region, item, pricing, zone_pats, mine, k, per_zone)
                    raw.extend(rows)
        for p in current:
            self._current(raw, item, p, blocked, zone_pats)
        raw.sort()  # by effective price, price, key (then sequence); the exact order is Option.sort_key
        nodes, hours = item.nodes, item.hours
        tie = 1e-9 / max(nodes * hours, 1e-9) + 1e-12  # effective prices this close may sort either way
        protected = {(p.provider, p.region, p.zone or "", p.instance_type, p.pricing, "") for p in current}
        out: list[tuple[Option, tuple]] = []
        kept: dict[tuple, list[tuple[Option, tuple]]] = {}
        kth: dict[tuple, float] = {}  # group -> effective price of its k-th kept option
        free: set[tuple] = set()  # groups holding a kept option that uses no capacity row
        usage_of, rowless = self.rows.usage, self.rowless
        budget = self.budgeted_item(item)
        seen: set[tuple] = set()
        for eff, price, okey, _, o, kind in raw:
            if okey in seen:
                continue
            seen.add(okey)
            g = grouping(okey) if grouping is not None else ()
            mine = kept.setdefault(g, [])
            beyond = len(mine) >= k and eff > kth[g] + tie and okey not in protected
            if beyond and g in free and not budget:
                if grouping is None and not protected:
                    break  # one group, and everything after is dearer and dominated
                continue
            cost = group_cost(item, o, okey[4], eff) if item.spot_fallback or item.window is not None else eff * nodes * hours
            opt = Option.of_offer(okey[0], kind, o, okey[4], price, nodes, price * nodes, cost, served(o, res),
                                  o.vcpus, o.memory_gib)
            u = () if okey[0] in rowless and o.provider not in SHARED_KINDS else usage_of(opt, res)
            if beyond and any(_dominates(ko, ku, opt, u, budget) for ko, ku in mine):
                continue
            if not u:
                free.add(g)
            mine.append((opt, u))
            if len(mine) == k:
                kth[g] = eff
            out.append((opt, u))
        return out

    def _raw(self, raw: list, item: Item, key: str, kind: str, o: Offer, pricing: str) -> None:
        price = offer_price(o, pricing, item.kind)
        if price is None or price < 0:
            return
        cap = item.max_hourly_cost / item.groups if item.max_hourly_cost is not None else None
        if cap is not None and price * item.nodes > cap + 1e-9:
            return
        eff = effective_price(o, pricing, price, self.overhead)
        raw.append((eff, price, (key, o.region, o.zone or "", o.instance_type, pricing, ""), next(self._seq), o, kind))

    def _current(self, raw: list, item: Item, p, blocked: tuple, zone_pats: tuple) -> None:
        """Add the running placement ``p`` when it is still an option of ``item``."""
        if p.fleet or p.provider not in self.index or p.pricing not in item.pricing:
            return
        if p.provider not in self.keys(item.placement) or p.region not in self.regions(p.provider, item.placement):
            return
        zone_ok = self.zone_ok(item.placement) if zone_pats else None
        for o in self.index[p.provider].of_type(p.region, p.instance_type):
            if (o.zone or "") != (p.zone or "") or not hardware_fits(o, item.resources):
                continue
            if zone_ok is not None and not zone_ok(o.zone):
                continue
            if blocked and is_blocked(p.provider, o.region, o.zone, blocked, p.pricing):
                continue
            self._raw(raw, item, p.provider, self.kinds[p.provider], o, p.pricing)


class OptionCodec:
    """Options as compact tuples that name their offer by its place in the
    problem's offers, for ``skyplan.forked``: the child that found them and the
    parent share those offers, so an option crosses as a few numbers and strings."""

    def __init__(self, offers):
        self.offers = offers
        self._at: dict[str, dict[int, int]] = {}

    def encode(self, pairs: list[tuple[Option, tuple]]) -> list[tuple]:
        out = []
        for o, usage in pairs:
            at = self._at.get(o.provider)
            if at is None:
                at = self._at[o.provider] = {id(x): i for i, x in enumerate(self.offers[o.provider])}
            offer = o.offer
            # only what ``Candidates.options`` builds crosses; anything else fails the child's answer
            if (offer is None or o.fleet is not None or o.reservation is not None or o.fleet_node >= 0
                    or o.starts_at is not None or o.region != offer.region or o.zone != offer.zone
                    or o.instance_type != offer.instance_type):
                raise ValueError(f"option {o.key} is not a catalog offer's")
            out.append((o.provider, at[id(offer)], o.kind, o.pricing, o.price, o.nodes, o.group_hourly,
                        o.group_cost, o.accelerators, o.vcpus, o.memory_gib, usage))
        return out

    def decode(self, rows: list[tuple]) -> list[tuple[Option, tuple]]:
        offers, make = self.offers, Option.of_offer
        return [(make(key, kind, offers[key][i], pricing, price, nodes, hourly, cost, acc, vcpus, memory), usage)
                for key, i, kind, pricing, price, nodes, hourly, cost, acc, vcpus, memory, usage in rows]


def _met(q, least: float, most: float) -> bool:
    """Whether every value in [least, most] meets the floor or exact amount ``q``."""
    return least >= q.value if q.at_least else abs(least - q.value) < 1e-9 and abs(most - q.value) < 1e-9


def _head(ranked, k: int):
    """The first ``k`` rows, and any after them tied with the k-th."""
    if len(ranked) <= k:
        return ranked
    last = ranked[k - 1][0] + 1e-9
    end = k
    while end < len(ranked) and ranked[end][0] <= last:
        end += 1
    return ranked[:end]


def _dominates(a: Option, ua: tuple, b: Option, ub: tuple, budget: bool) -> bool:
    """``a`` (ranked before ``b``) is at least as good as ``b`` everywhere."""
    if budget and a.group_hourly > b.group_hourly + 1e-12:
        return False
    if not ua:
        return True
    have = dict(ub)
    return all(row in have and amount <= have[row] + 1e-9 for row, amount in ua)


__all__ = ["Candidates", "OptionCodec", "compile_globs"]

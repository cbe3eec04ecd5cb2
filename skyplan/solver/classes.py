"""From items to model classes: couplings, merging identical items, pruning
dominated options, and the closed-form answer for classes nothing constrains.

Merging: items with the same requirement signature and no individual
constraint (colocation, egress) become one class whose groups are counted, not
enumerated.

Spread survives merging exactly: if each of m workloads of r replicas must put
between f = floor(r / D) and c = ceil(r / D) groups in every domain, the class
puts between m * f and m * c there, and any such count vector splits back into
m valid workloads by listing the groups domain by domain and dealing them
round-robin: a run of L groups gives each workload floor(L / m) or ceil(L / m).

Current placements merge too: the class may keep, on each option, up to the
members' summed groups there, which splits back exactly since the members are
alike (spread items merge only with those running in the same places).

Pruning: two options of one class with the same footprint (the capacity rows
they use and how much, the spread domain, the region for colocation/egress,
whether it is the current placement) are interchangeable except for price, so
only the cheapest stays (with a budget, the plan's or a group's over the item,
every option that is cheaper per hour than all cheaper-in-expectation ones stays
too; a group budget's row is left out of the footprint, the $/h standing for it).

A service with an on-demand base (``spot`` block) is never merged and never
answered in closed form: its spot row counts each member's groups.

Closed form: a class whose cheapest option uses no capacity row, is cheapest
per hour as well, and has no coupling is simply placed there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

from skyplan.solver.items import Item, Option


@dataclass
class Entry:
    """One item with its full option list (shared between identical items)."""

    item: Item
    signature: tuple
    options: list[Option]
    usage: list[tuple]
    current: dict[tuple, int] = field(default_factory=dict)  # option key -> groups currently there
    region_filter: set | None = None  # colocation: allowed region keys


@dataclass
class Klass:
    members: list[Entry]
    groups: int
    option_index: list[int]  # indexes into members[0].options, after pruning
    spread: str | None = None
    closed: list[int] | None = None  # counts when solved in closed form
    current: dict[tuple, int] = field(default_factory=dict)  # option key -> members' groups there now

    @property
    def entry(self) -> Entry:
        return self.members[0]

    @property
    def options(self) -> list[Option]:
        opts = self.entry.options
        return [opts[i] for i in self.option_index]

    @property
    def usage(self) -> list[tuple]:
        return [self.entry.usage[i] for i in self.option_index]


def build_classes(entries: list[Entry], coupled: set[str], budget: float | None,
                  threshold: float = 0.0, merge: bool = True,
                  budget_rows: Mapping[str, Sequence[int]] | None = None) -> list[Klass]:
    """``budget_rows``: address -> the group budget rows over it (capacity.Rows.budget_rows)."""
    budget_rows = budget_rows or {}
    singles: list[Klass] = []
    merged: dict[tuple, list[Entry]] = {}
    for e in entries:
        if e.item.address in coupled or not merge or e.item.spot_split:
            singles.append(Klass([e], e.item.groups, [], spread=_spread(e.item), current=dict(e.current)))
        elif _spread(e.item):  # spread items merge only with those running in the same places
            merged.setdefault((e.signature, tuple(sorted(e.current.items()))), []).append(e)
        else:
            merged.setdefault((e.signature, ()), []).append(e)
    classes = singles + [Klass(m, sum(e.item.groups for e in m), [], spread=_spread(m[0].item),
                               current=_summed(m))
                         for _, m in sorted(merged.items(), key=lambda kv: kv[1][0].item.address)]
    for k in classes:
        k.option_index = _prune(k, k.entry.item.address in coupled, budget,
                                frozenset(budget_rows.get(k.entry.item.address, ())))
        if merge and k.entry.item.address not in coupled and not k.spread and not k.entry.item.spot_split:
            k.closed = _closed_form(k, budget, threshold)
    return classes


def _summed(members: list[Entry]) -> dict[tuple, int]:
    out: dict[tuple, int] = {}
    for e in members:
        for key, n in e.current.items():
            out[key] = out.get(key, 0) + n
    return out


def _spread(item: Item) -> str | None:
    return item.placement.spread if item.groups > 1 and item.placement.spread else None


def _prune(k: Klass, coupled: bool, budget: float | None, group_rows: frozenset = frozenset()) -> list[int]:
    """The options kept; under a group budget (``group_rows``, whose usage is the
    option's $/h) the footprint leaves those rows out and the $/h decides, as under
    the plan's budget."""
    e = k.entry
    keep: list[int] = []
    best_hourly: dict[tuple, float] = {}
    budgeted = budget is not None or bool(group_rows)
    for i, opt in enumerate(e.options):
        if e.region_filter is not None and opt.region_key not in e.region_filter:
            continue
        is_current = opt.key in k.current
        usage = tuple(u for u in e.usage[i] if u[0] not in group_rows) if group_rows else e.usage[i]
        foot = (usage, opt.domain(k.spread) if k.spread else None,
                opt.region_key if coupled else None, opt.key if is_current else None)
        if e.item.spot_split:  # the spot row tells spot and on-demand apart
            foot += (opt.pricing == "spot",)
        seen = best_hourly.get(foot)
        if seen is None or (budgeted and opt.group_hourly < seen - 1e-12):
            best_hourly[foot] = opt.group_hourly if seen is None else min(seen, opt.group_hourly)
            keep.append(i)
    return keep


def _closed_form(k: Klass, budget: float | None, threshold: float) -> list[int] | None:
    opts, usage = k.options, k.usage
    if not opts:
        return None
    if k.current:
        # keep what runs unless moving saves more than the bonus; only when nothing binds
        if budget is not None or any(usage):
            return None
        slots = [(opts[0].group_cost, 0, k.groups)]
        for i, o in enumerate(opts):
            if o.key in k.current:
                slots.append((o.group_cost * (1.0 - threshold), i, k.current[o.key]))
        counts = [0] * len(opts)
        left = k.groups
        for _, i, cap in sorted(slots):
            take = min(cap, left)
            counts[i] += take
            left -= take
        return counts
    if usage[0]:
        return None
    if budget is not None and any(o.group_hourly < opts[0].group_hourly - 1e-12 for o in opts):
        return None
    return [k.groups] + [0] * (len(opts) - 1)

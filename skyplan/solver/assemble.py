"""From the model's counts to the Solution: placements per group, fallbacks,
the approved hourly envelope, explanations and the candidate tables.

Approved $/h (what apply may spend on failover without a new plan): for each
group, the highest hourly cost among its chosen placement and its listed
fallbacks, summed over groups; capped by the workload's ``max_hourly_cost``
(never below the chosen cost). Fallbacks are the cheapest other offers the
workload may use (distinct provider/region/zone/type/pricing, blocked scopes
already removed), ranked by expected cost, at most ``top_fallbacks``; a
fallback keeps the group's spread (no domain above ceil(r / D) groups, none
left below floor(r / D)) and a colocated workload in its partner's regions; a
group of a service with an on-demand base falls back within its pricing class
(a spot group to on-demand too, with ``fallback_on_demand``).
"""

from __future__ import annotations

from collections import Counter
from itertools import islice

from skyplan.frozen import maker
from skyplan.solver.capacity import late_fleets, late_note
from skyplan.solver.items import Option
from skyplan.solver.mip import egress_price
from skyplan.solver.model import Candidate, GroupPlacement, Placement, Solution, WorkloadPlacement

TABLE_EXTRA = 3  # candidates shown beyond the fallbacks
_PLACEMENT, _CANDIDATE = maker(Placement), maker(Candidate)  # every field, set at once


def assemble(problem, classes, result, egress, seconds: float, rows, kept_usage=None) -> tuple[Solution, dict]:
    """The Solution and the usage of each row (with ``kept_usage``, row -> what the
    placements kept from the memo use of it, which the explanations weigh like the rest)."""
    opts = problem.options
    chosen: dict[str, list[Option]] = {}
    for k, counts in zip(classes, result.counts):
        pool = [[o, n] for o, n in zip(k.options, counts) if n]
        if k.spread and len(k.members) > 1:
            _deal(k, pool, chosen, problem.current)
            continue
        _split(k, pool, problem.current, chosen)
    entries = {m.item.address: m for k in classes for m in k.members}
    fleet_home = {a: groups[0] for a, groups in chosen.items() if entries[a].item.kind == "fleet"}
    row_totals = _row_totals(entries, chosen)
    for row, amount in (kept_usage or {}).items():
        row_totals[row] = row_totals.get(row, 0.0) + amount
    row_totals["hourly"] = sum(o.group_hourly for groups in chosen.values() for o in groups)
    egress_cost = _egress(chosen, egress)
    placements: dict[str, WorkloadPlacement] = {}
    candidates: dict[str, tuple] = {}
    fallback_cache: dict[tuple, tuple[Placement, ...]] = {}
    domain_counts: dict[tuple, int] = {}
    for address in sorted(chosen):
        e, groups = entries[address], chosen[address]
        target = e.item.placement.colocate_with
        regions = frozenset(o.region_key for o in chosen[target]) if target in chosen else None
        spread = e.item.placement.spread if len(groups) > 1 else None
        if spread and (id(e.options), spread) not in domain_counts:
            domain_counts[(id(e.options), spread)] = len({x.domain(spread) for x in e.options})
        domains = domain_counts.get((id(e.options), spread), 1)
        gps = []
        for gi, o in enumerate(groups):
            held = Counter(g.domain(spread) for j, g in enumerate(groups) if j != gi) if spread else Counter()
            fkey = (e.signature, o.key, regions, tuple(sorted(held.items())))
            if fkey not in fallback_cache:
                fallback_cache[fkey] = tuple(_placement(f, fleet_home, problem.fleets) for f in islice(
                    (f for f in e.options if f.fleet is None and f.key != o.key
                     and (regions is None or f.region_key in regions)
                     and _keeps_pricing(e.item, o, f)
                     and (not spread or _keeps_spread(spread, domains, o, f, held))), opts.top_fallbacks))
            gps.append(GroupPlacement(_placement(o, fleet_home, problem.fleets), fallback_cache[fkey]))
        approved = sum(max([g.chosen.hourly_cost] + [f.hourly_cost for f in g.fallbacks]) for g in gps)
        hourly = sum(g.chosen.hourly_cost for g in gps)
        if e.item.max_hourly_cost is not None:
            approved = min(approved, max(e.item.max_hourly_cost, hourly))
        kept = bool(e.current) and Counter(o.key for o in groups) == Counter(e.current) \
            and sum(e.current.values()) == len(groups)
        expected = sum(o.group_cost for o in groups) + egress_cost.get(address, 0.0)
        placements[address] = WorkloadPlacement(
            address, tuple(gps), round(approved, 6), round(expected, 6),
            _explain(problem, e, groups, kept, row_totals, egress_cost.get(address, 0.0), rows.rows,
                     gps[0].chosen.starts_at), kept, _ceiling(groups, approved) if e.item.paced else None)
        if not opts.only or address in opts.only:
            candidates[address] = _candidates(e, groups, opts.top_fallbacks + TABLE_EXTRA)
    gap = 0.0
    if result.backend != "closed-form" and result.objective:
        gap = max(0.0, (result.objective - result.bound) / max(abs(result.objective), 1e-9))
    solution = Solution(
        placements=placements,
        total_hourly_cost=round(sum(p.hourly_cost for p in placements.values()), 6),
        total_cost=round(sum(p.expected_cost for p in placements.values()), 6),
        status=result.status if result.status in ("optimal", "feasible") else "optimal",
        gap=gap, backend=result.backend, solve_seconds=round(seconds, 4), candidates=candidates)
    return solution, row_totals


def _ceiling(groups: list[Option], approved: float) -> float:
    """The $/h a paced job's deadline switch to on-demand may reach: each group's machine
    at its on-demand price (what its expected cost counts the on-demand hours at), and
    never below what is approved for the placement."""
    od = sum(o.offer.on_demand * o.nodes if o.pricing == "spot" and o.offer is not None
             and o.offer.on_demand is not None else o.group_hourly for o in groups)
    return round(max(od, approved), 6)


def _keeps_pricing(item, o: Option, f: Option) -> bool:
    """A fallback of a service with an on-demand base keeps its group's pricing class;
    a spot group of one with fallback_on_demand may fall back to on-demand."""
    if not item.spot_split or (f.pricing == "spot") == (o.pricing == "spot"):
        return True
    return o.pricing == "spot" and item.spot_fallback


def _deal(k, pool: list[list], chosen: dict, current) -> None:
    """Split a merged spread class: groups listed domain by domain, dealt
    round-robin; each member's groups then line up with its current ones."""
    groups = [o for o, n in sorted(pool, key=lambda p: (p[0].domain(k.spread), p[0].sort_key)) for _ in range(n)]
    m = len(k.members)
    for j, member in enumerate(k.members):
        mine = [[o, 1] for o in groups[j::m]]
        _split(_Single(member), mine, current, chosen)


class _Single:
    def __init__(self, member):
        self.members = [member]


def _split(k, pool: list[list], current, chosen: dict) -> None:
    """Hand the class's groups to its members: first every group that can stay
    on its current option (by group index), then the rest in option order."""
    picks: dict[str, list] = {}
    for member in k.members:
        n = member.item.groups
        out: list = [None] * n
        for gi, p in enumerate(current.get(member.item.address, ())[:n]):
            for slot in pool:
                o = slot[0]
                if slot[1] and (o.key[:5] == (p.provider, p.region, p.zone or "", p.instance_type, p.pricing)
                                or (o.fleet and o.fleet == p.fleet)):
                    out[gi] = o
                    slot[1] -= 1
                    break
        picks[member.item.address] = out
    for member in k.members:
        out = picks[member.item.address]
        for gi, o in enumerate(out):
            if o is None:
                slot = next(s for s in pool if s[1])
                out[gi] = slot[0]
                slot[1] -= 1
        chosen[member.item.address] = out


def _keeps_spread(spread: str, domains: int, o: Option, f: Option, held: Counter) -> bool:
    """Whether moving one group from ``o`` to ``f`` keeps the spread rule over
    ``domains`` domains: at most ceil(r / D) groups in ``f``'s domain, at least
    floor(r / D) left in ``o``'s."""
    if f.domain(spread) == o.domain(spread):
        return True
    r, d = sum(held.values()) + 1, max(1, domains)
    return held[f.domain(spread)] < -(-r // d) and held[o.domain(spread)] >= r // d


def _placement(o: Option, fleet_home: dict[str, Option], fleets) -> Placement:
    provider, region, zone, itype, vcpus, mem = o.provider, o.region, o.zone, o.instance_type, o.vcpus, o.memory_gib
    if o.fleet and o.fleet in fleet_home:
        # onto a provisioned fleet: where the fleet lands, on the instances it holds
        home = fleet_home[o.fleet]
        provider, region, zone, itype = home.provider, home.region, home.zone, home.instance_type
        if home.offer is not None:
            vcpus, mem = home.offer.vcpus, home.offer.memory_gib
    starts = o.starts_at or (fleets[o.fleet].starts_at if o.fleet and o.fleet in fleets else None)
    if o.fleet and o.fleet in fleet_home and fleets[o.fleet].offerings is not None:
        starts = fleet_home[o.fleet].starts_at  # a block to buy: the start of the offering it is priced by
    return _PLACEMENT(provider, region, zone, itype, o.pricing, o.price, o.nodes, o.fleet,
                      o.accelerators, vcpus, mem, o.reservation, starts)


def _row_totals(entries, chosen) -> dict:
    """Usage per capacity row of the chosen placements (and, under "hourly", the $/h)."""
    totals: dict = {}
    indexes: dict[int, dict] = {}
    for address, groups in chosen.items():
        e = entries[address]
        index = indexes.get(id(e.options))
        if index is None:
            index = indexes[id(e.options)] = {o.key: i for i, o in enumerate(e.options)}
        for o in groups:
            for row, amount in e.usage[index[o.key]]:
                totals[row] = totals.get(row, 0.0) + amount
    return totals


def _egress(chosen, egress) -> dict[str, float]:
    """Egress $ per dependant: data_gb priced by the source cloud, for the share
    of the dependency's groups in regions the dependant does not use."""
    out: dict[str, float] = {}
    for a, b, data_gb in egress:
        fa, fb = _shares(chosen[a]), _shares(chosen[b])
        cost = sum(data_gb * egress_price(g[0]) * max(0.0, s - fa.get(g, 0.0)) for g, s in fb.items())
        out[a] = out.get(a, 0.0) + cost
    return out


def _shares(groups: list[Option]) -> dict[tuple, float]:
    c = Counter(o.region_key for o in groups)
    return {g: n / len(groups) for g, n in c.items()}


def _explain(problem, e, groups: list[Option], kept: bool, row_totals, egress_cost: float, rows,
             starts: str | None = None) -> str:
    text = _explain_first(problem, e, groups, kept, row_totals, egress_cost, rows, starts)
    return text + _spot_split_note(e.item, groups) if e.item.spot_split else text


def _spot_split_note(item, groups: list[Option]) -> str:
    """How a service with an on-demand base was split, and what its fallback hours add."""
    from skyplan.solver.items import fallback_hours

    spot = [g for g in groups if g.pricing == "spot"]
    text = (f"; {len(groups) - len(spot)} replica(s) on on-demand (base {item.spot_base}), {len(spot)} on spot"
            + (" (fallback on on-demand)" if item.in_fallback else ""))
    hours = [fallback_hours(g.offer, item.hours) for g in spot if g.offer is not None]
    if item.spot_fallback and hours:
        text += (f"; expected cost counts {sum(hours):.3g} fallback hour(s) at on-demand prices "
                 f"over {item.hours:g} h")
    return text


def paced_note(item, o: Option) -> str:
    """How a job paced by Uniform Progress was costed on the spot option ``o``."""
    from skyplan.deadline.expected import availability, expected_hours

    if o.offer is None or o.offer.on_demand is None:
        return f"spot, expected ${o.group_cost:.4g}"
    share = availability(o.offer.interruption_band)
    spot_h, on_demand_h = expected_hours(item.hours, item.window, item.changeover, share)
    return (f"spot under Uniform Progress, deadline in {item.window:g} h: spot assumed available {share:.0%} of "
            f"the time (interruption {o.offer.interruption_band or 'unknown'}), expected {spot_h:.1f} h on spot "
            f"and {on_demand_h:.1f} h on on-demand at ${o.offer.on_demand * o.nodes:.4g}/h: ${o.group_cost:.4g}")


def _explain_first(problem, e, groups: list[Option], kept: bool, row_totals, egress_cost: float, rows,
                   starts: str | None = None) -> str:
    o = groups[0]
    text = f"{o.infra} {o.instance_type} {o.pricing} at ${o.group_hourly:.4g}/h per group"
    if o.fleet:
        text = f"packed onto {o.fleet} (already paid: $0/h)"
        if starts:
            text += f"; waits for {o.fleet}: its Capacity Block starts {starts}"
    for address in late_fleets(e.item, problem.fleets, problem.providers):
        text += "; " + late_note(address, problem.fleets[address], e.item.start_by)
    if o.pricing == "spot" and o.offer is not None and e.item.window is not None:
        text += " (" + paced_note(e.item, o) + ")"
    elif o.pricing == "spot" and o.offer is not None:
        text += f" (spot, interruption {o.offer.interruption_band or 'unknown'}: expected ${o.group_cost:.4g})"
    if egress_cost:
        text += f"; egress ${egress_cost:.4g}"
    used = {g.key for g in groups}
    alt = next((a for a in e.options if a.key not in used), None)
    if alt is None:
        return text + "; no other option"
    label = f"{alt.infra} {alt.instance_type} {alt.pricing}"
    if abs(alt.group_cost - o.group_cost) <= 1e-9:
        return text + f"; {label} costs the same (ties go by provider, region, zone, type, pricing)"
    if alt.group_cost > o.group_cost:
        return text + f"; next best {label} at ${alt.group_hourly:.4g}/h costs more"
    return text + f"; cheaper {label} at ${alt.group_hourly:.4g}/h not used: {_why(problem, e, alt, o, kept, row_totals, rows)}"


def _why(problem, e, alt: Option, chosen: Option, kept: bool, row_totals, rows) -> str:
    if kept:
        return (f"kept on the running placement (moving saves less than "
                f"{problem.options.migrate_threshold:.0%} of its cost)")
    if e.item.spot_split and (alt.pricing == "spot") != (chosen.pricing == "spot"):
        if e.item.in_fallback:
            return "no new spot replica while spot is lost lately (fallback_on_demand)"
        return f"spot.base_on_demand_replicas = {e.item.spot_base} keeps that many on on-demand"
    full = row_full(alt_usage(e, alt), row_totals, rows, alt.group_hourly - chosen.group_hourly)
    return full if full is not None else why_else(problem, e, alt, chosen, row_totals)


def alt_usage(e, alt: Option) -> tuple:
    return e.usage[next(i for i, o in enumerate(e.options) if o.key == alt.key)]


def row_full(usage, row_totals, rows, more_hourly: float) -> str | None:
    """The first row of ``usage`` that one more group would overfill (``more_hourly``:
    the $/h moving there adds), as the explanation names it."""
    for row, amount in usage:
        if rows[row].unit == "$/h":  # a group budget: what moving there adds against what is left
            spare = rows[row].limit - row_totals.get(row, 0.0)
            if more_hourly > spare + 1e-9:
                return (f"it costs more per hour and the {rows[row].label} (${rows[row].limit:.2f}/h) "
                        f"has only ${max(spare, 0):.2f}/h left")
        elif row_totals.get(row, 0.0) + amount > rows[row].limit + 1e-9:
            return f"{rows[row].label} is full"
    return None


def why_else(problem, e, alt: Option, chosen: Option, row_totals) -> str:
    """Why a cheaper option is not used when no row it needs is full."""
    if e.region_filter is not None and alt.region_key not in e.region_filter:
        return f"colocate_with {e.item.placement.colocate_with}"
    if e.item.placement.spread and e.item.groups > 1:
        return f"spread by {e.item.placement.spread}"
    budget = problem.options.budget
    if budget is not None and alt.group_hourly > chosen.group_hourly:
        spare = budget - row_totals.get("hourly", 0.0)
        if alt.group_hourly - chosen.group_hourly > spare + 1e-9:
            return f"it costs more per hour and the budget ${budget:.2f}/h has only ${max(spare, 0):.2f}/h left"
    return "a shared constraint (egress or colocation) makes it dearer overall"


def _candidates(e, groups: list[Option], limit: int) -> tuple[Candidate, ...]:
    used = {g.key for g in groups}
    shown = e.options[:limit] + [o for o in groups if o not in e.options[:limit]]
    seen: set[tuple] = set()
    out = []
    n = e.item.groups
    for o in shown:
        if o.key in seen:
            continue
        seen.add(o.key)
        out.append(_CANDIDATE(o.infra, o.instance_type, o.vcpus, o.memory_gib, o.accelerators, o.pricing,
                              round(o.group_hourly * n, 6), round(o.group_cost * n, 6), o.key in used,
                              o.offer.arch if o.offer is not None else ""))
    return tuple(out)

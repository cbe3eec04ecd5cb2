"""Naming why no placement exists, in two stages.

1. Per item: walk the filters (provider, hardware, region/zone, blocked scopes,
   pricing, max_hourly_cost) and report the first that leaves nothing, with
   what was available just before it.
2. Jointly: the elastic model (skyplan.solver.mip, every capacity row, the
   budget and spread caps given a slack) shows which limits must give, by how
   much, and which items press on them.
"""

from __future__ import annotations

from skyplan.config.model import Resources
from skyplan.errors import InfeasibleError
from skyplan.solver.capacity import Rows, block_too_short
from skyplan.solver.items import (
    Item, hardware_fits, is_blocked, offer_price, provider_allowed, region_allowed,
)

HINT = "relax the constraint named above, or add providers, regions or quota"


def describe(res: Resources) -> str:
    parts = []
    if res.accelerators:
        parts.append(" or ".join(str(a) for a in res.accelerators))
    if res.cpus is not None:
        parts.append(f"{res.cpus} vCPUs")
    if res.memory is not None:
        parts.append(f"{res.memory} GiB memory")
    if res.instance_type:
        parts.append(f"instance type {res.instance_type}")
    return ", ".join(parts) or "a CPU node"


def _list(values) -> str:
    vals = sorted(set(values))
    shown = ", ".join(f'"{v}"' for v in vals[:8])
    return f"[{shown}{', ...' if len(vals) > 8 else ''}]"


class Cause(str):
    """A cause's text, carrying the configuration value it comes from: ``blame`` is
    (owner, attribute path), e.g. ("workload.a", "resources.accelerators"), or None."""

    blame: tuple[str, str] | None = None


def blamed(text: str, owner: str | None, path: str = "") -> Cause:
    c = Cause(text)
    c.blame = (owner, path) if owner else None
    return c


def _resources_path(res: Resources) -> str:
    """The attribute of a resources block that asks for the most specific thing."""
    for name in ("accelerators", "instance_type", "cpus", "memory"):
        if getattr(res, name):
            return f"resources.{name}"
    return "resources"


def _placement_path(spec) -> str:
    for name in ("zones", "regions", "exclude_zones", "exclude_regions"):
        if getattr(spec, name):
            return f"placement.{name}"
    return "placement"


def explain_no_options(item: Item, problem, rows: Rows, shapes: dict | None = None) -> Cause:
    """Why one item has no option at all, blaming the value that rules every option out.
    ``shapes`` is kept by a caller explaining several items of one problem: each
    provider key's offers grouped by hardware (``_shapes``), worked out once."""
    text, blame = _explain_no_options(item, problem, rows, {} if shapes is None else shapes)
    if blame is None:
        return blamed(text, None)
    return blamed(text, *blame)


def explain_spot_split(item: Item, options) -> Cause | None:
    """A service with an on-demand base that has options of only one pricing class
    where its spot block needs both (None when both are there)."""
    spot = sum(1 for o in options if o.pricing == "spot")
    rest = item.groups - item.spot_base
    a, need = item.address, describe(item.resources)
    if item.max_hourly_cost is not None:
        need += f" at ${item.max_hourly_cost / item.groups:.4g}/h or less a replica (max_hourly_cost)"
    if rest and not spot and not item.in_fallback:
        return blamed(f"{a}: spot.base_on_demand_replicas = {item.spot_base} leaves {rest} replica(s) for spot, "
                      f"but no spot offer matches {need} where it may run", a, "spot.base_on_demand_replicas")
    if item.spot_base and spot == len(options):
        return blamed(f"{a}: spot.base_on_demand_replicas = {item.spot_base} needs on-demand capacity, "
                      f"but no on-demand offer matches {need} where it may run", a, "spot.base_on_demand_replicas")
    return None


def _shapes(problem, key: str, memo: dict) -> list[tuple[object, list]]:
    """The offers of ``key`` grouped by the fields ``hardware_fits`` reads, as (one
    offer of the group, [(key, offer), ...]): an explanation tests each machine
    shape once, not each of its regions and zones."""
    hit = memo.get(key)
    if hit is None:
        groups: dict[tuple, list] = {}
        for o in problem.offers[key]:
            groups.setdefault((o.provider, o.arch, o.accelerator, o.accelerator_count, o.vcpus, o.memory_gib,
                               o.instance_type), []).append((key, o))
        hit = memo[key] = [(group[0][1], group) for group in groups.values()]
    return hit


def _explain_no_options(item: Item, problem, rows: Rows, shapes: dict) -> tuple[str, tuple | None]:
    a, spec, need = item.address, item.placement, describe(item.resources)
    block = problem.fleets.get(a) if item.kind == "fleet" else None
    if block is not None and block.offerings is not None:
        start = f" from {block.start}" if block.start else ""
        sold = sorted({f"{q.instance_type} in {q.zone}" for q in block.offerings})
        return (f"{a}: no Capacity Block offering sells {item.nodes} x {need} for {item.hours:g} h{start} in a zone "
                f"and instance type the catalog lists for it (offered now: {', '.join(sold) or 'nothing'})",
                (a, "duration_hours"))
    if spec.fleet:
        if spec.fleet not in problem.fleets:
            return f"{a}: placement fleet {spec.fleet} is not declared", (a, "placement.fleet")
        caps = [c for _, c, _ in rows.fleet_entries.get(spec.fleet, ())]
        have = "; ".join(f"{c.nodes} x {c.accelerator + ':' + str(c.per_node) if c.accelerator else 'CPU'}"
                         f"{f', {c.cpus_per_node:g} vCPUs' if c.cpus_per_node else ''}"
                         f"{f', {c.memory_per_node:g} GiB' if c.memory_per_node else ''}" for c in caps)
        fleet = problem.fleets[spec.fleet]
        if fleet.hours_left is not None and item.hours > fleet.hours_left:
            return (f"{a} runs {item.hours:g} h, but the Capacity Block of {spec.fleet} holds its instances "
                    f"{fleet.hours_left:.1f} h more"), (a, "duration_hours")
        if block_too_short(fleet, item.hours):
            return (f"{a} runs {item.hours:g} h, but the Capacity Block of {spec.fleet} is bought for "
                    f"{fleet.duration_hours:g} h"), (a, "duration_hours")
        if not caps and fleet.existing and fleet.reservation_id:  # what it holds is read from the cloud
            return (f"{a}: what reservation {fleet.reservation_id} of {spec.fleet} holds is read at refresh, "
                    "and this plan did not refresh"), None
        cfg = problem.providers.get(fleet.provider or "")
        if not caps and fleet.existing and cfg is not None and cfg.kind == "kubernetes":  # read from its nodes
            return (f"{a}: {spec.fleet} is its cluster's nodes, read at refresh: none has room left for it "
                    "(a plan without refresh reads none)"), None
        return (f"{a} needs {need} per node, which does not fit on {spec.fleet} ({have or 'no capacity declared'})",
                (a, _resources_path(item.resources)))
    keys = []
    for key in sorted(problem.offers):
        cfg = problem.providers.get(key)
        if provider_allowed(key, cfg.kind if cfg else key.split(".")[0], spec):
            keys.append(key)
    if not keys:
        wanted = f" matches providers {_list(spec.providers)}" if spec.providers else " is configured"
        return (f"{a}: no provider{wanted} (configured: {', '.join(sorted(problem.offers)) or 'none'})",
                (a, "placement.providers") if spec.providers else None)
    where = f"on {', '.join(keys)}"
    unpriced = getattr(problem, "unpriced", None) or {}
    has_offers = any(problem.offers[k] for k in keys)
    if not has_offers and any(k in unpriced for k in keys):
        return f"{a}: no offers: {'; '.join(unpriced[k] for k in keys if k in unpriced)}", None
    if not has_offers:
        return (f"{a}: {', '.join(keys)} list no offers in their configured regions",
                (f"provider.{keys[0]}", "regions"))
    by_shape = [sg for k in keys for sg in _shapes(problem, k, shapes)]  # (one offer, its group)
    fit = [ko for one, group in by_shape if hardware_fits(one, item.resources) for ko in group]
    if not fit:
        extra = ""
        names = {r.name for r in item.resources.accelerators}
        near = sorted({o.accelerators for o, _ in by_shape if o.accelerator in names})
        other = _other_arch(item.resources, [o for o, _ in by_shape])
        if other:
            extra = (f" on {item.resources.effective_arch} (matching {other} offers exist: set resources "
                     f'{{ arch = "{other}" or "any" }} if the workload runs there)')
        elif near:
            extra = f" (available: {', '.join(near)})"
        elif not item.resources.accelerators and not item.resources.instance_type:
            cpu = max(o.vcpus for o, _ in by_shape)  # a size request: say how big the offers get
            mem = max(o.memory_gib for o, _ in by_shape)
            extra = f" (offers there have at most {cpu:g} vCPUs and {mem:g} GiB memory)"
        regions = sorted({o.region for k in keys for o in problem.offers[k]})
        return f"{a}: no offer matches {need} {where} in regions {_list(regions)}{extra}", (a, _resources_path(item.resources))
    within: dict[tuple, bool] = {}  # (region, zone) -> inside the placement's regions and zones

    def allowed(o) -> bool:
        hit = within.get((o.region, o.zone))
        if hit is None:
            hit = within[(o.region, o.zone)] = region_allowed(o.region, o.zone, spec)
        return hit

    placed = [(k, o) for k, o in fit if allowed(o)]
    if not placed:
        rules = []
        if spec.regions:
            rules.append(f"regions {_list(spec.regions)}")
        if spec.exclude_regions:
            rules.append(f"exclude_regions {_list(spec.exclude_regions)}")
        if spec.zones:
            rules.append(f"zones {_list(spec.zones)}")
        if spec.exclude_zones:
            rules.append(f"exclude_zones {_list(spec.exclude_zones)}")
        return (f"{a}: no offer matches {need} {where} within {' and '.join(rules)}; "
                f"matching offers are in {_list(o.region for _, o in fit)}"), (a, _placement_path(spec))
    blocked = problem.options.blocked.get(a, ())
    free = [(k, o) for k, o in placed if not all(is_blocked(k, o.region, o.zone, blocked, p) for p in item.pricing)]
    if not free:
        return (f"{a}: every offer matching {need} is in a scope blocked after capacity failures "
                f"({', '.join('/'.join(x for x in b if x) for b in blocked)})"), None
    priced = [(k, o, p, offer_price(o, p, item.kind)) for k, o in free for p in item.pricing
              if not is_blocked(k, o.region, o.zone, blocked, p)]
    priced = [(k, o, p, v) for k, o, p, v in priced if v is not None and v >= 0]
    if not priced:
        models = sorted({p for _, o in free for p in ("on_demand", "spot", "reserved") if o.price(p) is not None})
        return (f"{a}: no offer matching {need} {where} is priced as {' or '.join(item.pricing)} "
                f"(available: {', '.join(models) or 'none'})"), (a, "pricing")
    cheapest = min(v for *_, v in priced) * item.nodes
    cap = item.max_hourly_cost or 0.0
    return (f"{a}: the cheapest offer matching {need} costs ${cheapest:.2f}/h per group "
            f"(x{item.groups} = ${cheapest * item.groups:.2f}/h), above max_hourly_cost ${cap:.2f}/h"), (a, "max_hourly_cost")


def _other_arch(res: Resources, offers) -> str | None:
    """The other CPU architecture, when offers of it would fit ``res`` and none of the one asked for do."""
    if res.effective_arch == "any":
        return None
    from dataclasses import replace

    other = "arm64" if res.effective_arch == "x86_64" else "x86_64"
    flipped = replace(res, arch=other)
    return other if any(o.arch == other and hardware_fits(o, flipped) for o in offers) else None


def explain_elastic(problem, classes, rows: Rows, result, mip_classes=None) -> None:
    """Raise InfeasibleError naming the limits the elastic solution had to break."""
    # row -> {address: (the least one group of it takes from the row, its groups)}
    users: dict[int, dict[str, tuple[float, int]]] = {}
    for k, counts in zip(mip_classes or [], result.counts):
        least: dict[int, float] = {}
        for opt_usage in k.usage:
            for row, amount in opt_usage:
                least[row] = min(least.get(row, amount), amount)
        for opt_usage, n in zip(k.usage, counts):
            for row, _ in opt_usage if n else ():
                for member in k.members:
                    users.setdefault(row, {})[member.item.address] = (least[row], member.item.groups)
    causes = []
    by_label = {r.label: r for r in rows.rows}
    slack_by_row = {by_label[k].id: v for k, v in result.slacks.items() if k in by_label}
    done: set[int] = set()
    for label, amount in sorted(result.slacks.items()):
        # a cap's least worked out without the other caps is a lower bound of its least with them
        costs = "costs at least" if label in result.lower else "costs"
        other = "every constraint but the other caps" if label in result.lower else "every other constraint"
        if label == "budget":
            budget = problem.options.budget or 0.0
            causes.append(blamed(f"budget: max_hourly_cost ${budget:.2f}/h, but the cheapest placement meeting "
                                 f"{other} {costs} ${budget + amount:.2f}/h", "skyplan", "max_hourly_cost"))
        elif label.startswith("spot base of "):
            who = label[len('spot base of '):]
            w = problem.workloads.get(who)
            rest = w.replicas - w.spot.base_on_demand_replicas if w is not None and w.spot is not None else None
            need = f"{rest} replica(s) on spot" if rest is not None else "its spot replicas"
            causes.append(blamed(f"{who}: its spot block needs {need} beside its on-demand base, but the spot "
                                 f"capacity left holds {amount:g} fewer", who.split(" and ")[0],
                                 "spot.base_on_demand_replicas"))
        elif label.startswith("spread of "):
            who = label[len('spread of '):]
            causes.append(blamed(f"{who}: spread cannot be met with the capacity left",
                                 who.split(" and ")[0], "placement.spread"))
        elif by_label[label].id in rows.budget_of:
            b = rows.budget_of[by_label[label].id]
            d = 2 if amount >= 0.005 else 4  # a shortfall under a cent still shows
            causes.append(blamed(f"{label}: {_cap(b, d)} over {_names(b)}, but the cheapest placement of them "
                                 f"meeting {other} {costs} ${b.limit + amount:,.{d}f}/h",
                                 b.owner or None, b.path))
        elif by_label[label].id not in done:
            causes.append(_row_cause(problem, classes, rows, by_label[label], users, slack_by_row, done))
    for labels, allowed, least in result.together:
        caps = [rows.budget_of[by_label[lb].id] for lb in labels]
        d = 2 if least - allowed >= 0.005 else 4
        kept = sum(b.limit for b in caps) - allowed  # what placements kept from an earlier plan use of them
        first = caps[0]
        causes.append(blamed(
            f"{labels[0]}: {_cap(first, d)} over {_names(first)}: each of the caps of "
            + ", ".join(f'"{b.name}"' for b in caps) + f" can be met alone, but together they allow "
            f"${allowed + kept:,.{d}f}/h and the cheapest placement of their workloads meeting every other "
            f"constraint costs ${least + kept:,.{d}f}/h", first.owner or None, first.path))
        causes += [blamed(f"{lb}: {_cap(b, d)} over {_names(b)}, one of the caps above", b.owner or None, b.path)
                   for lb, b in zip(labels[1:], caps[1:])]
    if not causes:
        causes.append("spread, colocation and capacity cannot all hold together")
    if len(causes) == 1:
        raise InfeasibleError(causes[0], hint=HINT)
    raise InfeasibleError("no placement satisfies every constraint", causes=causes, hint=HINT)


def _names(b) -> str:
    return ", ".join(b.addresses[:6]) + (f" and {len(b.addresses) - 6} more" if len(b.addresses) > 6 else "")


def _cap(b, digits: int) -> str:
    return f"${b.limit:,.{digits}f}/h" + (f" ({b.stated})" if b.stated else "")


def _row_cause(problem, classes, rows: Rows, row, users, slack_by_row, done: set) -> str:
    """One capacity shortfall: a single row, or the pool of rows its users could use."""
    who = users.get(row.id, {})
    related = {row.id}
    for address in who:
        entry = _entry(classes, address)
        related.update(r for u in entry.usage for r, _ in u if rows.rows[r].unit == row.unit)
    done.update(related)
    # a cluster node's row is named through the pool of nodes like it, when both are involved
    # (and its shortfall is the pool's, not counted twice)
    related = {r for r in related if rows.covered.get(r) not in related}
    slack = sum(slack_by_row.get(r, 0.0) for r in related)
    if len(related) == 1:
        row = rows.rows[next(iter(related))]
    names = ", ".join(f"{a} ({v:g} {row.unit}{f' per group x {n}' if n > 1 else ''})"
                      for a, (v, n) in sorted(who.items())[:6])
    if len(who) > 6:
        names += f" and {len(who) - 6} more"
    if len(related) == 1:
        only = sorted(a for a in who if _always_uses(a, row.id, classes))
        tail = f"; {', '.join(only[:4])} has no option outside it" if only else ""
        if only:
            tail += _elsewhere(problem, classes, only[0], rows)
        return (f"{row.label} allows {row.limit:g} {row.unit} but at least {row.limit + slack:g} "
                f"are needed: {names or 'see workloads above'}{tail}")
    pool = sorted(related)
    allowed = sum(rows.rows[r].limit for r in pool)
    needed = allowed + slack
    parts = " + ".join(f"{rows.rows[r].label} {rows.rows[r].limit:g}" for r in pool[:6])
    more = f" + {len(pool) - 6} more" if len(pool) > 6 else ""
    return (f"{row.unit} capacity is short: the closest placement still needs {needed:g} {row.unit} where "
            f"{parts}{more} allow {allowed:g}; workloads drawing on it include {names}")


def _entry(classes, address: str):
    return next(m for k in classes for m in k.members if m.item.address == address)


def _elsewhere(problem, classes, address: str, rows: Rows) -> str:
    """Why the other configured providers offer ``address`` nothing."""
    from types import SimpleNamespace

    entry = _entry(classes, address)
    used = {o.provider for o in entry.options}
    notes = []
    for key in sorted(problem.offers):
        cfg = problem.providers.get(key)
        if key in used or not provider_allowed(key, cfg.kind if cfg else key.split(".")[0], entry.item.placement):
            continue
        only_key = SimpleNamespace(offers={key: problem.offers[key]}, providers=problem.providers,
                                   fleets=problem.fleets, options=problem.options)
        reason = explain_no_options(entry.item, only_key, rows)
        notes.append(reason[len(address) + 2:] if reason.startswith(address + ": ") else reason)
    return f" ({'; '.join(notes[:3])})" if notes else ""


def _always_uses(address: str, row: int, classes) -> bool:
    for k in classes:
        if any(m.item.address == address for m in k.members):
            e = k.entry
            return bool(e.usage) and all(any(r == row for r, _ in u) for u in e.usage)
    return False


__all__ = ["explain_no_options", "explain_elastic", "describe", "Cause", "blamed"]

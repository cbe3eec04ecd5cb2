"""The scan-based candidate generation the solver used before its offer index:
for each distinct requirement signature, every offer of every allowed provider
is tested (fnmatch per region glob, hardware fit per offer) and the survivors
sorted. Kept here only as the benchmark's baseline."""

from __future__ import annotations

import fnmatch

from skyplan.solver.items import Option, effective_price, is_blocked, offer_price, served


def _glob_any(value, patterns) -> bool:
    return value is not None and any(fnmatch.fnmatchcase(value, p) for p in patterns)


def _region_allowed(region, zone, spec) -> bool:
    if spec.regions and not _glob_any(region, spec.regions):
        return False
    if spec.exclude_regions and _glob_any(region, spec.exclude_regions):
        return False
    if spec.zones and not _glob_any(zone, spec.zones):
        return False
    if spec.exclude_zones and _glob_any(zone, spec.exclude_zones):
        return False
    return True


def _fits(offer, res) -> bool:
    from skyplan.solver.items import hardware_fits

    return hardware_fits(offer, res)


def scan_options(item, providers, offers, blocked, restart_overhead: float) -> list[Option]:
    out: list[Option] = []
    spec = item.placement
    cap = item.max_hourly_cost / item.groups if item.max_hourly_cost is not None else None
    for key in sorted(offers):
        cfg = providers.get(key)
        kind = cfg.kind if cfg else key.split(".")[0]
        if spec.providers and not (_glob_any(key, spec.providers) or _glob_any(kind, spec.providers)):
            continue
        for offer in offers[key]:
            if not _fits(offer, item.resources) or not _region_allowed(offer.region, offer.zone, spec):
                continue
            if blocked and is_blocked(key, offer.region, offer.zone, blocked):
                continue
            for pricing in item.pricing:
                price = offer_price(offer, pricing, item.kind)
                if price is None or price < 0:
                    continue
                group_hourly = price * item.nodes
                if cap is not None and group_hourly > cap + 1e-9:
                    continue
                eff = effective_price(offer, pricing, price, restart_overhead)
                out.append(Option(
                    key, kind, offer.region, offer.zone, offer.instance_type, pricing, price, item.nodes,
                    group_hourly, eff * item.nodes * item.hours, offer=offer, accelerators=served(offer, item.resources),
                    vcpus=offer.vcpus, memory_gib=offer.memory_gib))
    out.sort(key=lambda o: o.sort_key)
    return out


def scan_candidates(problem, items, rows) -> int:
    """Every item's options the scan way, memoised per signature as the solver did;
    returns how many options were built."""
    from skyplan.solver.capacity import fleet_options

    cache: dict = {}
    built = 0
    for item in items:
        blocked = tuple(problem.options.blocked.get(item.address, ()))
        sig = (item.kind == "fleet", item.resources, item.nodes, item.groups, item.pricing, item.hours,
               item.max_hourly_cost, item.placement, blocked)
        if sig in cache:
            continue
        pairs = [(o, rows.usage(o, item.resources))
                 for o in scan_options(item, problem.providers, problem.offers, blocked,
                                       problem.options.restart_overhead)]
        pairs += fleet_options(item, rows, problem.fleets, problem.providers)
        pairs.sort(key=lambda p: p[0].sort_key)
        cache[sig] = pairs
        built += len(pairs)
    return built

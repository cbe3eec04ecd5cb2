"""Where not to re-place what was lost: spot preemptions become solver blocks.

A spot node that refresh finds missing was most likely preempted (as is one
its provider reports ``preempted``: stopped by an interruption), and the
same zone is likely to preempt again (SkyPilot's EAGER_NEXT_REGION recovery
moves on for the same reason). ``blocked_from_drift`` maps each address that
lost spot nodes to the scopes its repair must avoid: the zone each node was
lost in, or the whole region when nodes were lost in two or more zones of it
in this refresh (capacity there is scarce, not just in one zone). A scope is
``(provider, region, zone, "spot")`` with ``zone`` None for a whole region: it
blocks spot there, not on-demand (``solver.items.is_blocked``); a zone where
replicas of a service failed readiness twice is ``(provider, region, zone)``,
avoided whatever the pricing.
"""

from __future__ import annotations

from typing import Mapping

from skyplan.drift.classify import Refreshed, node_view
from skyplan.providers.base import PREEMPTED

Scope = tuple  # (provider, region, zone | None, "spot")


def blocked_from_drift(refreshed: Refreshed) -> Mapping[str, tuple[Scope, ...]]:
    """address -> scopes (provider, region, zone-or-None) a repair must not use."""
    lost: dict[str, list[dict]] = {}
    sick: set[str] = set()  # addresses whose scopes come from readiness: every pricing model is avoided there
    for item in refreshed.drift:
        if item.category == "missing":
            nodes = (item.before or {}).get("nodes", ())
        elif item.category == "unhealthy":
            # a zone where replicas of this service failed readiness twice is avoided
            failures = (item.after or {}).get("zone_failures") or {}
            nodes = [n for n in (item.before or {}).get("nodes", ())
                     if failures.get(f"{n['provider']}/{n['region']}/{n.get('zone') or ''}", 0) >= 2 and n.get("zone")]
            if nodes:
                lost[item.address] = nodes
                sick.add(item.address)
            continue
        elif item.category == "changed" and (item.after or {}).get("state") == PREEMPTED:
            rec = refreshed.snapshot.resources.get(item.address)
            nodes = [node_view(i) for i in (rec.instances if rec else ()) if i.state == PREEMPTED]
        else:
            continue
        spot = [n for n in nodes if n.get("pricing") == "spot"]
        if spot:
            lost[item.address] = spot
    zones_by_region: dict[tuple[str, str], set] = {}
    for nodes in lost.values():
        for n in nodes:
            zones_by_region.setdefault((n["provider"], n["region"]), set()).add(n.get("zone"))
    out: dict[str, tuple[Scope, ...]] = {}
    for address, nodes in sorted(lost.items()):
        scopes: list[Scope] = []
        for n in nodes:
            key = (n["provider"], n["region"])
            zones = zones_by_region[key]
            zone = n.get("zone") if len(zones) < 2 and None not in zones else None
            scope = (n["provider"], n["region"], zone)
            if address not in sick:
                scope += ("spot",)  # spot capacity was lost there; on-demand is still there
            if scope not in scopes:
                scopes.append(scope)
        out[address] = tuple(scopes)
    return out


def blocked_scopes(refreshed: Refreshed) -> tuple[Scope, ...]:
    """Every scope of ``blocked_from_drift``, once (for a solver that blocks globally)."""
    seen: list[Scope] = []
    for scopes in blocked_from_drift(refreshed).values():
        seen.extend(s for s in scopes if s not in seen)
    return tuple(seen)


def durable_blocked(store, refreshed: Refreshed, now, ttl_seconds: float = 3600.0,
                    in_place: frozenset[str] = frozenset()) -> dict[str, tuple[Scope, ...]]:
    """``blocked_from_drift`` made durable: this refresh's losses are remembered in
    state (``state.capacity``, with an expiry), a scope where a spot node of the
    address runs again is forgotten, and every scope still remembered is returned
    (``remembered``: for the addresses ``in_place``, only launches without capacity).
    Without a store, this refresh's losses only."""
    fresh = dict(blocked_from_drift(refreshed))
    if store is None:
        return {a: s for a, s in fresh.items() if a not in in_place}
    from skyplan.state import capacity

    from datetime import timedelta

    capacity.remember(store, fresh, now, ttl=timedelta(seconds=ttl_seconds))
    for address, rec in refreshed.snapshot.resources.items():
        for inst in rec.instances:
            if inst.pricing == "spot" and inst.state == "running":
                capacity.clear(store, address, inst.provider, inst.region, inst.zone)
    return remembered(store, now, in_place)


def remembered(store, now, in_place: frozenset[str] = frozenset()) -> dict[str, tuple[Scope, ...]]:
    """Every scope the state's capacity memory still holds (spot lost there, at a
    preemption or a launch without capacity), as spot-only scopes. The addresses
    ``in_place`` (``recovery { strategy = "failover" }``: relaunched where they were
    preempted first, as SkyPilot's FAILOVER retries its region) are kept only off
    the scopes a launch found without capacity."""
    from skyplan.state import capacity

    out = capacity.recall(store, now)
    if in_place:
        launches = capacity.recall(store, now, reason=capacity.NO_CAPACITY)
        out = {a: (launches.get(a, ()) if a in in_place else s) for a, s in out.items()}
    return {a: tuple((*s, "spot") for s in scopes) for a, scopes in out.items() if scopes}

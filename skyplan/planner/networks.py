"""Network pieces in the plan: created with the first node in a region, deleted after the last.

Some providers (Azure) need objects per region before a node can exist: a
resource group, a security group, a virtual network and its subnet. Their
layout is pure (``providers.network_pieces``), so the plan names each piece as
its own address of kind ``network`` (``network.azure_subnet["RG/VNET/skyplan"]``):

- a piece a planned or kept resource needs (its chosen placements, or its
  recorded ones when it stays as it is) that state does not hold -> create
  (``create_network_for_placement``: "created if missing; one that already
  exists is used and kept");
- a piece state holds and something still needs -> no-op;
- a piece state holds and nothing will need -> delete (``delete_because_unused``,
  or ``forget_because_not_created`` when skyplan found it existing: it is only
  forgotten, never deleted).

Apply orders them (``apply.graph``): pieces before the nodes of their provider
on create, after every node delete on delete, and among themselves by their
``depends_on``. A fallback region that failover reaches at apply time gets its
pieces then, recorded as apply makes them.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from skyplan.config.model import DesiredGraph, ProviderConfig
from skyplan.planner.model import Action, Change
from skyplan.planner.options import PlanOptions
from skyplan.state.model import ResourceRecord, Snapshot

NETWORK = "network"


def is_network(rec_or_change) -> bool:
    return getattr(rec_or_change, "kind", "") == NETWORK


def _regions_used(changes: Sequence[Change], base: Snapshot) -> set[tuple[str, str]]:
    """(provider key, region) of every node that exists or will exist after the plan."""
    used: set[tuple[str, str]] = set()
    changed = {c.address for c in changes}
    for c in changes:
        if c.action is Action.DELETE:
            continue
        if c.action is not Action.NOOP and c.placement is not None and c.placement.groups:
            used |= {(g.chosen.provider, g.chosen.region) for g in c.placement.groups}
        elif c.prior is not None:
            used |= {(g.placement.provider, g.placement.region) for g in c.prior.groups}
    for addr, rec in base.resources.items():
        if addr not in changed and not is_network(rec):
            used |= {(g.placement.provider, g.placement.region) for g in rec.groups}
    return used


def _provider_configs(desired: DesiredGraph) -> Mapping[str, ProviderConfig]:
    return desired.providers


def network_changes(desired: DesiredGraph, changes: Sequence[Change], base: Snapshot,
                    options: PlanOptions, wanted: Iterable[str] | None = None) -> list[Change]:
    """The network Changes for a plan whose other changes are ``changes``. Pure."""
    from skyplan.providers import network_pieces

    if options.refresh_only:
        return []
    records = {a: r for a, r in base.resources.items() if is_network(r)}
    needed: dict[str, object] = {}
    configs = _provider_configs(desired)
    for key, region in sorted(_regions_used(changes, base)):
        cfg = configs.get(key)
        if cfg is None:
            continue
        for piece in network_pieces(cfg, region):
            needed.setdefault(piece.address, piece)
    out: list[Change] = []
    for addr, piece in needed.items():
        rec = records.get(addr)
        attrs = piece.attributes()  # type: ignore[attr-defined]
        deps = tuple(piece.depends_on)  # type: ignore[attr-defined]
        if rec is None:
            if options.destroy:
                continue
            out.append(Change(address=addr, action=Action.CREATE, kind=NETWORK, after=attrs, depends_on=deps,
                              reason="create_network_for_placement"))
        else:
            out.append(Change(address=addr, action=Action.NOOP, kind=NETWORK, before=dict(rec.attributes),
                              after=dict(rec.attributes), depends_on=tuple(rec.depends_on), prior=rec))
    chosen = set(wanted) if wanted is not None else None
    for addr in sorted(records):
        if addr in needed:
            continue
        if chosen is not None and not options.destroy:
            continue  # a targeted plan leaves pieces it does not need alone
        out.append(_delete(records[addr]))
    return out


def _delete(rec: ResourceRecord) -> Change:
    reason = "delete_because_unused" if rec.attributes.get("created", True) else "forget_because_not_created"
    return Change(address=rec.address, action=Action.DELETE, kind=NETWORK, before=dict(rec.attributes), after=None,
                  depends_on=tuple(rec.depends_on), prior=rec, reason=reason)

"""Import blocks: ``import { to = workload.x  id = "aws:i-0abc" }`` adopts an existing
object as part of a plan.

Planning reads the object from its provider (nothing is written anywhere) and
puts the record it would become into the snapshot the solver and the planner
see, so the plan shows it as "will be imported" together with any change the
configuration asks of it. Apply tags the object and records it in state first
(``adopt_planned``), then carries out the rest of the plan.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping

from skyplan.errors import PlanError, SkyplanError


def _key_and_id(graph, imp) -> tuple[str, str]:
    from skyplan.state.adopt import provider_key_for

    key, provider_id = imp.split(graph.providers)
    try:
        return provider_key_for(graph, imp.to, key), provider_id
    except SkyplanError as e:
        raise PlanError(f"{imp.source}: import of {imp.id} into {imp.to}: {e}", hint=getattr(e, "hint", "")) from None


def preview(graph, snapshot, providers: Mapping, build) -> tuple:
    """(snapshot with the records imports would add, {address: import id}).
    ``build(keys)`` makes providers not yet in ``providers``. Raises PlanError."""
    from skyplan.state.adopt import adopt, catalog_price, read_existing

    todo = [i for i in graph.imports if i.to not in snapshot.resources]
    if not todo:
        return snapshot, {}, providers
    resources, ids = dict(snapshot.resources), {}
    providers = dict(providers)
    for imp in todo:
        key, provider_id = _key_and_id(graph, imp)
        if key not in providers:
            providers.update(build([key]))
        prov = providers[key]
        try:
            inst = read_existing(prov, key, provider_id)
        except SkyplanError as e:
            raise PlanError(f"{imp.source}: cannot import {provider_id} into {imp.to}: {e}",
                            hint=getattr(e, "hint", "") or "check the id and the provider") from None
        cfg = graph.providers[key]
        done = adopt(graph, prov, key, imp.to, inst, snapshot.lineage, tag=False,
                     price_of=lambda i, kind=cfg.kind: catalog_price(graph, kind, i))
        resources[imp.to] = done.record
        ids[imp.to] = imp.id
    return replace(snapshot, resources=resources), ids, providers


def mark(plan, ids: Mapping[str, str]):
    """The plan with its changes at imported addresses carrying the import id."""
    if not ids:
        return plan
    changes = tuple(replace(c, import_id=ids[c.address], prior=c.prior) if c.address in ids else c
                    for c in plan.changes)
    return replace(plan, changes=changes)


def adopt_planned(plan, store, providers: Mapping, graph) -> None:
    """Apply's first step for import blocks: tag each object for its address and
    lineage and record it in state (journal action ``import``)."""
    from skyplan.state.adopt import adopt, catalog_price, read_existing

    for c in plan.changes:
        if not c.import_id or store.get(c.address) is not None or c.prior is None or not c.prior.groups:
            continue
        key = c.prior.groups[0].placement.provider
        prov = providers[key]
        inst = c.prior.groups[0].instances[0]
        if graph is not None and c.address in graph.resources():
            current = read_existing(prov, key, inst.id)
            cfg = graph.providers.get(key)
            rec = adopt(graph, prov, key, c.address, current, store.lineage,
                        price_of=(lambda i: catalog_price(graph, cfg.kind, i)) if cfg else None).record
        else:
            rec = c.prior
        store.record(rec, action="import", detail=f"imported {c.import_id}")

"""``skyplan import``: adopt one existing cloud object into state.

The address must be declared in the configuration; its provider answers
``read(provider_id)`` (the optional ``SupportsImport`` ability). The instance is
tagged with the address and lineage where the provider can update tags, so later
refreshes find it like anything skyplan created, and recorded as a one-node
group with the configuration's attributes and hash.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from skyplan.config.model import DesiredGraph, Fleet, Workload, resource_hash
from skyplan.errors import ProviderError, StateError
from skyplan.providers.base import TAG_ADDRESS, TAG_GROUP, TAG_LINEAGE, TAG_RANK, Instance, Provider, SupportsImport
from skyplan.solver.model import Placement
from skyplan.state.model import FAILED, RUNNING, STOPPED, SUCCEEDED, GroupRecord, ResourceRecord

_STATUS = {"running": RUNNING, "pending": RUNNING, "stopped": STOPPED, "succeeded": SUCCEEDED, "failed": FAILED}


@dataclass(frozen=True)
class Adopted:
    record: ResourceRecord
    tagged: bool  # False when the provider could not tag it (refresh may then report it missing)
    note: str = ""


def provider_key_for(graph: DesiredGraph, address: str, explicit: str | None = None) -> str:
    """The provider key that owns ``address``: --provider, the fleet's provider, the
    workload's only allowed provider, or the configuration's only provider."""
    resource = graph.resources().get(address)
    if resource is None:
        known = ", ".join(sorted(graph.resources())[:8]) or "none"
        raise StateError(f"{address} is not declared in the configuration at {graph.root}",
                         hint=f"add its block before importing it (declared: {known})")
    if explicit:
        key = explicit
    elif isinstance(resource, Fleet) and resource.provider:
        key = resource.provider
    elif isinstance(resource, Workload) and len(resource.placement.providers) == 1:
        key = resource.placement.providers[0]
    elif len(graph.providers) == 1:
        key = next(iter(graph.providers))
    else:
        raise StateError(f"cannot tell which provider {address} lives in",
                         hint="name it with --provider KEY (e.g. --provider aws)")
    if key not in graph.providers:
        raise StateError(f"provider {key!r} is not configured",
                         hint=f"declared providers: {', '.join(sorted(graph.providers)) or 'none'}")
    return key


def read_existing(provider: Provider, key: str, provider_id: str) -> Instance:
    """Describe the object to import; a clear error if the provider cannot import."""
    if not isinstance(provider, SupportsImport):
        raise ProviderError(f"provider {key!r} cannot import existing objects", provider=key,
                            hint="create the resource with skyplan apply instead")
    return provider.read(provider_id)


def adopt(graph: DesiredGraph, provider: Provider, key: str, address: str, inst: Instance, lineage: str,
          price_of: Callable[[Instance], float | None] | None = None, tag: bool = True) -> Adopted:
    """Tag ``inst`` (read by read_existing) for ``address`` and build its record;
    with ``tag=False`` (an import block being planned) only build the record."""
    provider_id = inst.id
    resource = graph.resources()[address]
    tags = {TAG_ADDRESS: address, TAG_LINEAGE: lineage, TAG_GROUP: "0", TAG_RANK: "0"}
    tagged, note = True, ""
    if tag and any(inst.tags.get(k) != v for k, v in tags.items()):
        try:
            inst = provider.update(inst, {"tags": tags})
        except ProviderError as e:
            tagged, note = False, f"could not tag {provider_id}: {e}"
    inst = replace(inst, address=address, lineage=lineage, group=0, rank=0, provider=key,
                   tags={**inst.tags, **tags} if tagged else dict(inst.tags))
    price = price_of(inst) if price_of else None
    placement = Placement(provider=key, region=inst.region, zone=inst.zone, instance_type=inst.instance_type,
                          pricing=inst.pricing or "on_demand", hourly_price=float(price or 0.0), nodes=1)
    record = ResourceRecord(
        address=address, kind=resource.address.kind, status=_STATUS.get(inst.state, RUNNING),
        groups=(GroupRecord(placement, (inst,)),), attributes=resource.attributes(),
        config_hash=resource_hash(resource), depends_on=tuple(str(d) for d in resource.depends_on))
    return Adopted(record, tagged, note)


def catalog_price(graph: DesiredGraph, kind: str, inst: Instance) -> float | None:
    """The catalog's hourly price for this instance type and region, if it lists one."""
    from skyplan.errors import CatalogError

    try:
        from skyplan.catalog import load_catalog

        catalog = load_catalog(graph.settings.catalog) if graph.settings.catalog else load_catalog()
        offers = catalog.query(provider=kind, region=inst.region or None,
                               instance_type=inst.instance_type or None, pricing=inst.pricing or "on_demand")
    except CatalogError:
        return None
    return offers[0].price(inst.pricing or "on_demand") if offers else None

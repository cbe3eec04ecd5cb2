"""Azure capacity reservations: what backs an Azure fleet.

A provisioned fleet (``reservation = "capacity_reservation"``, the default on
azure) is one capacity reservation group holding one capacity reservation of
``nodes`` VMs of the fleet's size (``sku.capacity``), in the placement's zone
when it names one (else regional), in the region's skyplan resource group.
Both carry skyplan's tags. The group is what VMs name
(``properties.capacityReservation.capacityReservationGroup.id``), so as an
``Instance`` the fleet's one provider object has the group's ARM id as its id,
the reservation's name in its attributes, state ``running`` while the
reservation's ``provisioningState`` is ``Succeeded``, and the live counts
refresh reads: ``reserved_count`` (``sku.capacity``) and ``available_count``
(capacity minus the VMs of ``instanceView.utilizationInfo.virtualMachinesAllocated``).

A brought group (``existing = true, reservation_id`` = its ARM id or
``RESOURCE_GROUP/GROUP``) is read the same way; of its reservations, the
size with the most capacity is the one counted (a VM uses the reservation of
its own size). Azure lets more VMs associate with a group than it reserves
(those beyond the count get no capacity guarantee), so nothing refuses an
over-full launch: the solver packs only what is free.

Deleting a provisioned fleet deletes the reservation, then the group (a group
can only go once it holds no reservation); a brought one is never deleted. A
group of ours whose reservation someone deleted lists as ``gone`` (refresh:
the fleet is missing) and is deleted when the fleet is made again.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Mapping

from skyplan.errors import ProviderError
from skyplan.providers.azure.clients import plain as _plain
from skyplan.providers.azure.instances import resource_group_of
from skyplan.providers.azure.launch import TAG_ADDRESS, TAG_GROUP, TAG_LINEAGE, cloud_tag, zone_number
from skyplan.providers.azure.listing import pages
from skyplan.providers.azure.network import resource_group_for
from skyplan.providers.base import Instance, LaunchRequest, ReservationInfo

KIND = "capacity_reservation"
GROUPS = "Microsoft.Compute/capacityReservationGroups"


def group_name(req: LaunchRequest) -> str:
    """A stable group name per launch: a retry of one launch (its token) finds the same group."""
    slug = re.sub(r"[^a-z0-9]+", "-", req.address.lower()).strip("-")[:40]
    digest = hashlib.sha256(f"{req.lineage}/{req.address}/{req.group}/{req.token}".encode()).hexdigest()[:6]
    return f"sp-{slug}-{req.group}-{digest}"


def _tags(req: LaunchRequest, extra: Mapping[str, Any] | None) -> dict[str, str]:
    return {**{str(k): str(v) for k, v in dict(extra or {}).items()},
            **{cloud_tag(k): v for k, v in req.tags().items()}, "skyplan-kind": "fleet"}


def _is_group_id(text: str) -> bool:
    return "/providers/microsoft.compute/capacityreservationgroups/" in text.lower()


def is_reservation(inst: Instance) -> bool:
    return inst.attributes.get("reservation") == KIND or _is_group_id(inst.id)


def create(provider, req: LaunchRequest) -> list[Instance]:
    """Create the group (one PUT), then its reservation (a long-running PUT, waited on).

    Failure contract: both names derive from the launch, so a retry updates the
    same objects instead of making others. When the reservation fails (Azure has
    no capacity for it, or no quota) the group skyplan just made is deleted and
    the mapped error (CapacityError/QuotaError/...) raised; if that delete fails
    too, the group carries skyplan's tags and the next refresh finds it."""
    p = req.placement
    for piece in provider.network_pieces(p.region):  # the resource group, among the region's pieces
        provider.ensure_network(piece, req.lineage)
    compute, _, _ = provider.clients()
    rg, name = resource_group_for(provider.settings, p.region), group_name(req)
    tags = _tags(req, provider.settings.get("tags"))
    zone = zone_number(p.zone, p.region)
    group: dict[str, Any] = {"location": p.region, "tags": tags}
    reservation: dict[str, Any] = {"location": p.region, "tags": tags,
                                   "sku": {"name": p.instance_type, "capacity": int(p.nodes)}}
    if zone:
        group["zones"] = [zone]
        reservation["zones"] = [zone]
    where = f"{p.zone or p.region} (capacity reservation {p.instance_type} x{p.nodes})"
    _delete_emptied(provider, req)
    with provider._guard(where):
        compute.capacity_reservation_groups.create_or_update(rg, name, group)
    try:
        with provider._guard(where):
            compute.capacity_reservations.begin_create_or_update(
                rg, name, name, reservation, polling_interval=provider.poll).result()
    except BaseException:
        try:
            delete(provider, rg, name, name)
        except Exception:  # noqa: BLE001 - its tags let refresh find it
            pass
        raise
    return [_instance(provider, _group(provider, rg, name), rg)]  # the group as it holds the reservation now


def _delete_emptied(provider, req: LaunchRequest) -> None:
    """Groups of this fleet left holding no reservation (someone deleted it, refresh
    reported the fleet missing): deleted before the fleet is made again, so none lingers."""
    compute, _, _ = provider.clients()
    with provider._guard("capacity reservation groups"):
        emptied = [g for g in pages(compute, f"/subscriptions/{provider.subscription}/providers/{GROUPS}")
                   if (g.get("tags") or {}).get(TAG_LINEAGE) == req.lineage
                   and (g.get("tags") or {}).get(TAG_ADDRESS) == req.address
                   and not (g.get("properties") or {}).get("capacityReservations")]
    for g in emptied:
        delete(provider, resource_group_of(str(g["id"])), str(g["name"]))


def _reservations(provider, rg: str, group: str, raw: Mapping[str, Any] | None = None) -> list[dict]:
    """The group's reservations, each with its instance view (one GET per reservation;
    the group itself is read first unless ``raw`` is it already)."""
    compute, _, _ = provider.clients()
    raw = raw if raw is not None else _group(provider, rg, group)
    names = [str(r.get("id", "")).rstrip("/").rsplit("/", 1)[-1]
             for r in (raw.get("properties") or {}).get("capacityReservations") or ()]
    with provider._guard(f"capacity reservation group {group}"):
        return [_plain(compute.capacity_reservations.get(rg, group, n, expand="instanceView")) for n in names]


def _group(provider, rg: str, group: str) -> dict:
    compute, _, _ = provider.clients()
    with provider._guard(f"capacity reservation group {rg}/{group}"):
        return _plain(compute.capacity_reservation_groups.get(rg, group))


def _counted(reservations: list[dict]) -> tuple[str, int, int, str, str | None]:
    """(size, capacity, available, state, zone) of the size with the most capacity."""
    by_size: dict[str, list[dict]] = {}
    for r in reservations:
        by_size.setdefault(str((r.get("sku") or {}).get("name", "")), []).append(r)
    if not by_size:
        return "", 0, 0, "empty", None
    size, rs = max(by_size.items(), key=lambda kv: (sum(int((r.get("sku") or {}).get("capacity") or 0)
                                                          for r in kv[1]), kv[0]))
    total = sum(int((r.get("sku") or {}).get("capacity") or 0) for r in rs)
    used = sum(len((((r.get("properties") or {}).get("instanceView") or {}).get("utilizationInfo") or {}).get(
        "virtualMachinesAllocated") or ()) for r in rs)
    states = {str((r.get("properties") or {}).get("provisioningState") or "") for r in rs}
    state = "active" if states == {"Succeeded"} else (sorted(states - {"Succeeded"}) or ["unknown"])[0].lower()
    zones = rs[0].get("zones") or []
    return size, total, max(0, total - used), state, (str(zones[0]) if zones else None)


def _info(group: Mapping[str, Any], reservations: list[dict]) -> ReservationInfo:
    size, total, available, state, zone = _counted(reservations)
    region = str(group.get("location") or "")
    return ReservationInfo(str(group.get("id") or ""), region, f"{region}-{zone}" if zone else "", size, total,
                           available, state)


def _state(info: ReservationInfo) -> str:
    """``running`` while its reservation has succeeded; ``gone`` once the group holds none
    (someone deleted it: the fleet holds nothing, refresh reports it missing)."""
    if info.state == "empty":
        return "gone"
    return "running" if info.usable else "pending"


def _instance(provider, group: Mapping[str, Any], rg: str) -> Instance:
    name = str(group.get("name") or "")
    info = _info(group, _reservations(provider, rg, name, group))
    tags = {str(k): str(v) for k, v in (group.get("tags") or {}).items()}
    grp = tags.get(TAG_GROUP, "0")
    return Instance(provider=provider.name, id=info.id, address=tags.get(TAG_ADDRESS, ""),
                    lineage=tags.get(TAG_LINEAGE, ""), group=int(grp) if grp.isdigit() else 0, rank=0,
                    region=info.region, zone=info.zone or None, instance_type=info.instance_type,
                    pricing="reserved", state=_state(info),
                    tags={("skyplan:" + k[len("skyplan-"):] if k.startswith("skyplan-") else k): v
                          for k, v in tags.items()},
                    attributes={"reservation": KIND, "resource_group": rg, "reservation_name": name,
                                "reserved_count": info.total, "available_count": info.available,
                                "reservation_state": info.state})


def list_managed(provider, lineage: str) -> list[Instance]:
    """The reservation groups of ``lineage``: one paginated list of the subscription's
    groups, then the reservations of each group of ours.

    Failure contract: read-only; raises TransientError/AuthError/ProviderError."""
    compute, _, _ = provider.clients()
    with provider._guard("capacity reservation groups"):
        found = [g for g in pages(compute, f"/subscriptions/{provider.subscription}/providers/{GROUPS}")
                 if (g.get("tags") or {}).get(TAG_LINEAGE) == lineage]
    return [_instance(provider, g, resource_group_of(str(g.get("id") or ""))) for g in found]


def describe(provider, reservation_id: str) -> ReservationInfo | None:
    """A group by ARM id or ``RESOURCE_GROUP/GROUP``, in any state; None when Azure has no such group.

    Failure contract: read-only; raises TransientError/AuthError/ProviderError."""
    from azure.core.exceptions import ResourceNotFoundError

    if _is_group_id(reservation_id):
        rg, name = resource_group_of(reservation_id), reservation_id.rstrip("/").rsplit("/", 1)[1]
    else:
        rg, _, name = reservation_id.partition("/")
    if not rg or not name:
        raise ProviderError(f"{provider.name}: {reservation_id!r} is not a capacity reservation group's ARM id "
                            "or RESOURCE_GROUP/GROUP", provider=provider.name,
                            hint="e.g. reservation_id = \"my-rg/my-reservation-group\"")
    try:
        group = _group(provider, rg, name)
    except ProviderError as exc:
        if isinstance(exc.__cause__, ResourceNotFoundError):
            return None
        raise
    return _info(group, _reservations(provider, rg, name, group))


def delete(provider, rg: str, group: str, reservation: str | None = None) -> None:
    """Delete the group's reservations (``reservation`` alone when named), then the group,
    waiting on each; what is already gone is skipped.

    Failure contract: on error what is left keeps its tags; the next refresh lists it."""
    from azure.core.exceptions import ResourceNotFoundError

    compute, _, _ = provider.clients()
    try:
        names = [reservation] if reservation else [
            str(r.get("id", "")).rsplit("/", 1)[-1]
            for r in (_group(provider, rg, group).get("properties") or {}).get("capacityReservations") or ()]
    except ProviderError as exc:
        if isinstance(exc.__cause__, ResourceNotFoundError):
            return
        raise
    with provider._guard(f"resource group {rg} (delete capacity reservation group {group})"):
        for name in names:
            try:
                compute.capacity_reservations.begin_delete(rg, group, name, polling_interval=provider.poll).result()
            except ResourceNotFoundError:
                pass
        try:
            compute.capacity_reservation_groups.begin_delete(rg, group, polling_interval=provider.poll).result()
        except ResourceNotFoundError:
            pass


def delete_instance(provider, inst: Instance) -> None:
    """Delete the fleet ``inst`` stands for (see ``delete``)."""
    rg = str(inst.attributes.get("resource_group") or resource_group_of(inst.id))
    delete(provider, rg, inst.id.rstrip("/").rsplit("/", 1)[1])

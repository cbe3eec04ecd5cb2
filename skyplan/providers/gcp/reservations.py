"""Compute Engine specific reservations: what backs a GCP fleet.

A provisioned fleet (``reservation = "specific"``, the default on gcp) is one
zonal reservation of ``nodes`` instances of the fleet's machine type with
``specificReservationRequired = true`` (only instances that name it use it),
deleted by Compute Engine at ``deleteAtTime`` when the fleet sets
``duration_hours``. Reservations carry no labels, so skyplan's address, lineage
and group are kept as JSON in its ``description``, and its name is derived from
the launch (a retry inserts the same name with the same request id). As an
``Instance`` its id is ``PROJECT/ZONE/NAME``; it is ``running`` while READY and
its attributes hold the live counts (``reserved_count``, ``available_count`` =
count - inUseCount). Workloads on the fleet are inserted with
``reservationAffinity = SPECIFIC_RESERVATION`` naming it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import time
import uuid
from typing import Any, Mapping

from skyplan.errors import ProviderError
from skyplan.providers.base import TAG_ADDRESS, TAG_GROUP, TAG_LINEAGE, Instance, LaunchRequest, ReservationInfo
from skyplan.providers.gcp import errors as gerr
from skyplan.providers.gcp.clients import as_dict

AFFINITY_KEY = "compute.googleapis.com/reservation-name"
STATE_MAP = {"READY": "running", "CREATING": "pending", "UPDATING": "running"}
_SLUG = re.compile(r"[^a-z0-9-]+")


def affinity(reservation_id: str) -> dict:
    """The ``reservationAffinity`` of an instance launched into ``reservation_id``."""
    return {"consumeReservationType": "SPECIFIC_RESERVATION", "key": AFFINITY_KEY,
            "values": [reservation_id.rsplit("/", 1)[-1]]}


def reserved_by(raw: Mapping[str, Any], project: str, zone: str) -> str | None:
    """The id of the reservation an instance resource names, if any."""
    aff = raw.get("reservationAffinity") or {}
    if aff.get("consumeReservationType") != "SPECIFIC_RESERVATION" or not aff.get("values"):
        return None
    return f"{project}/{zone}/{str(aff['values'][0]).rsplit('/', 1)[-1]}"


def name_of(req: LaunchRequest) -> str:
    slug = _SLUG.sub("-", req.address.lower()).strip("-")[:36].strip("-") or "fleet"
    launch = hashlib.sha256(f"{req.lineage}/{req.address}/{req.group}/{req.token}".encode()).hexdigest()[:8]
    return f"sky-{slug}-{req.group}-{launch}"


def _info(raw: Mapping[str, Any], project: str) -> ReservationInfo:
    zone = str(raw.get("zone", "")).rsplit("/", 1)[-1]
    spec = raw.get("specificReservation") or {}
    total, used = int(spec.get("count") or 0), int(spec.get("inUseCount") or 0)
    status = str(raw.get("status", ""))
    return ReservationInfo(f"{project}/{zone}/{raw.get('name')}", zone.rsplit("-", 1)[0], zone,
                           str((spec.get("instanceProperties") or {}).get("machineType", "")).rsplit("/", 1)[-1],
                           total, max(0, total - used), "active" if status == "READY" else status.lower(),
                           raw.get("deleteAtTime"))


def _owner(raw: Mapping[str, Any]) -> dict:
    try:
        meta = json.loads(raw.get("description") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def to_instance(raw: Mapping[str, Any], *, provider: str, project: str) -> Instance:
    info = _info(raw, project)
    owner = _owner(raw)
    group = str(owner.get(TAG_GROUP, "0"))
    return Instance(provider=provider, id=info.id, address=str(owner.get(TAG_ADDRESS, "")),
                    lineage=str(owner.get(TAG_LINEAGE, "")), group=int(group) if group.isdigit() else 0, rank=0,
                    region=info.region, zone=info.zone, instance_type=info.instance_type, pricing="reserved",
                    state=STATE_MAP.get(str(raw.get("status")), "pending"), tags=owner,
                    attributes={"reservation": "specific", "reserved_count": info.total,
                                "available_count": info.available, "reservation_state": info.state,
                                **({"end_date": info.end_date} if info.end_date else {})})


def is_reservation(inst: Instance) -> bool:
    return inst.attributes.get("reservation") == "specific"


def create(provider, req: LaunchRequest) -> list[Instance]:
    """Insert the fleet's reservation in the placement's zone and wait until it is READY.

    Failure contract: one ``reservations.insert`` with a request id derived from
    the launch, so a retry gets the first answer; when its operation fails
    (capacity, quota) the mapped error is raised (CapacityError for failover) and
    nothing is reserved."""
    ct = provider._types()
    p = req.placement
    if not p.zone:
        raise ProviderError(f"{provider.name}: a placement in {p.region} has no zone", provider=provider.name,
                            hint="plan again; a Compute Engine reservation lives in one zone")
    name = name_of(req)
    where = f"{p.zone} (reservation {p.instance_type} x{p.nodes})"
    body: dict[str, Any] = {
        "name": name, "specificReservationRequired": True,
        "description": json.dumps({**req.tags(), "skyplan:kind": "fleet"}, sort_keys=True),
        "specificReservation": {"count": str(int(p.nodes)), "instanceProperties": {"machineType": p.instance_type}},
    }
    if req.reserve_hours:
        end = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=float(req.reserve_hours))
        body["deleteAtTime"] = end.strftime("%Y-%m-%dT%H:%M:%SZ")
    request = ct.InsertReservationRequest(
        project=provider.project, zone=p.zone, reservation_resource=ct.Reservation.from_json(json.dumps(body)),
        request_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"skyplan/{req.token}/{p.zone}/{name}")))
    deadline = time.monotonic() + provider.launch_timeout
    try:
        op = provider._call(clients(provider).insert_unary, request, where)
    except ProviderError as exc:
        if not gerr.is_conflict(exc.__cause__):
            raise
    else:
        provider._check(provider._wait(provider.project, p.zone, op, where, deadline), where)
    raw = _get(provider, provider.project, p.zone, name, where)
    if raw is None:
        raise ProviderError(f"{provider.name}: reservation {name} vanished after its insert in {p.zone}",
                            provider=provider.name)
    return [to_instance(raw, provider=provider.name, project=provider.project)]


def clients(provider):
    return provider.clients._get("ReservationsClient")


def _get(provider, project: str, zone: str, name: str, where: str) -> dict | None:
    ct = provider._types()
    try:
        return as_dict(provider._call(clients(provider).get, ct.GetReservationRequest(
            project=project, zone=zone, reservation=name), where))
    except ProviderError as exc:
        if gerr.is_not_found(exc.__cause__):
            return None
        raise


def _all(provider) -> list[dict]:
    ct = provider._types()
    request = ct.AggregatedListReservationsRequest(project=provider.project, max_results=500)
    with provider._guard(f"project {provider.project} (reservations)"):
        pager = clients(provider).aggregated_list(request=request, retry=provider._retry, timeout=provider.timeout)
        return [as_dict(r) for _, scoped in pager for r in scoped.reservations]


def list_managed(provider, lineage: str) -> list[Instance]:
    """The live reservations of ``lineage`` (one paginated ``reservations.aggregatedList``).

    Failure contract: read-only; raises TransientError/AuthError/ProviderError."""
    return [to_instance(r, provider=provider.name, project=provider.project) for r in _all(provider)
            if _owner(r).get(TAG_LINEAGE) == lineage and r.get("status") != "DELETING"]


def describe(provider, reservation_id: str) -> ReservationInfo | None:
    """``NAME``, ``ZONE/NAME`` or ``PROJECT/ZONE/NAME``, in any state; None when unknown.

    Failure contract: read-only; raises TransientError/AuthError/ProviderError."""
    parts = [x for x in reservation_id.split("/") if x]
    if len(parts) >= 2:
        project = parts[-3] if len(parts) >= 3 else provider.project
        raw = _get(provider, project, parts[-2], parts[-1], f"{parts[-2]} (reservation {parts[-1]})")
        return _info(raw, project) if raw else None
    found = [r for r in _all(provider) if r.get("name") == parts[-1]] if parts else []
    return _info(found[0], provider.project) if found else None


def delete(provider, inst: Instance) -> None:
    """Delete one reservation skyplan made and wait; one already gone is not an error.

    Failure contract: on error the reservation keeps its description, so the next
    refresh still lists it."""
    ct = provider._types()
    project, zone, name = inst.id.split("/")
    where = f"{zone} (delete reservation {name})"
    try:
        op = provider._call(clients(provider).delete_unary, ct.DeleteReservationRequest(
            project=project, zone=zone, reservation=name), where)
    except ProviderError as exc:
        if gerr.is_not_found(exc.__cause__):
            return
        raise
    provider._check(provider._wait(project, zone, op, where, time.monotonic() + provider.launch_timeout), where)

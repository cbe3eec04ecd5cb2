"""EC2 On-Demand Capacity Reservations: what backs an AWS fleet.

A provisioned fleet (``reservation = "odcr"``) is one targeted capacity
reservation of ``nodes`` instances of the fleet's instance type in one zone,
tagged like every object skyplan makes, with an end date when the fleet sets
``duration_hours``. The reservation is one provider object standing for all the
group's nodes: as an ``Instance`` its id is the reservation id (``cr-…``), its
state ``running`` while EC2 reports it ``active`` (``pending`` while pending or
scheduled) and its attributes the live counts refresh reads
(``reserved_count``, ``available_count``, ``end_date``, ``reservation_state``).
Expired, cancelled and failed reservations are not listed: to refresh they are
gone, and the fleet is ``missing``.

A Capacity Block for ML (``reservation = "capacity_block"``) is bought instead:
``describe_capacity_block_offerings`` for ``nodes`` instances over
``duration_hours`` from the fleet's ``start`` (or now), then
``purchase_capacity_block`` of the cheapest offering in the plan's zone (the
earliest start among equally priced ones). The block is ``scheduled`` until its
start: a workload placed on it is not launched before (see
``not_started``). EC2 cannot cancel a block, so deleting one cancels nothing: it
is forgotten and billed until its end.

Workloads on the fleet launch with
``CapacityReservationSpecification.CapacityReservationTarget`` (see
``launch.run_instances_args``); EC2 itself refuses a launch the reservation
cannot hold (``ReservationCapacityExceeded``), so nothing here counts slots.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any, Mapping

from skyplan.config.model import BlockQuote
from skyplan.errors import CapacityError, ProviderError
from skyplan.providers.aws import errors as awserr
from skyplan.providers.aws.launch import TAG_KIND, name_tag
from skyplan.providers.base import TAG_ADDRESS, TAG_GROUP, TAG_LINEAGE, Instance, LaunchRequest, ReservationInfo

LIVE = ("active", "pending", "scheduled", "payment-pending", "assessing", "delayed")
STATE_MAP = {"active": "running"}  # every other live state is still being prepared
RESERVATION_KIND = "capacity-reservation"


def of_raw(raw: Mapping[str, Any], region: str) -> ReservationInfo:
    def iso(v):
        return v.isoformat() if isinstance(v, dt.datetime) else (str(v) if v else None)

    return ReservationInfo(raw["CapacityReservationId"], region, raw.get("AvailabilityZone", ""),
                       raw.get("InstanceType", ""), int(raw.get("TotalInstanceCount") or 0),
                       int(raw.get("AvailableInstanceCount") or 0), raw.get("State", ""),
                       iso(raw.get("EndDate")), iso(raw.get("StartDate")), raw.get("ReservationType") or "default")


def to_instance(raw: Mapping[str, Any], *, provider: str, region: str) -> Instance:
    """A reservation as the one provider object of its fleet's group."""
    r = of_raw(raw, region)
    tags = {t["Key"]: t["Value"] for t in raw.get("Tags", ()) or ()}
    group = tags.get(TAG_GROUP, "0")
    block = r.kind == "capacity-block"
    attrs = {"reservation": "capacity_block" if block else "odcr", "reserved_count": r.total,
             "available_count": r.available, "reservation_state": r.state, "end_date": r.end_date,
             "start_date": r.start_date if block else None}
    return Instance(provider=provider, id=r.id, address=tags.get(TAG_ADDRESS, ""),
                    lineage=tags.get(TAG_LINEAGE, ""), group=int(group) if group.isdigit() else 0, rank=0,
                    region=region, zone=r.zone, instance_type=r.instance_type, pricing="reserved",
                    state=STATE_MAP.get(r.state, "pending"), tags=tags,
                    attributes={k: v for k, v in attrs.items() if v is not None})


def is_reservation(inst: Instance) -> bool:
    return inst.id.startswith("cr-")


def create(provider, req: LaunchRequest) -> list[Instance]:
    """Reserve ``placement.nodes`` instances of ``placement.instance_type`` in
    ``placement.zone`` (the region's first zone when the plan names none), held
    ``reserve_hours`` hours or until cancelled.

    Failure contract: one ``create_capacity_reservation`` call with a client
    token derived from the launch's token, so a retry after a lost answer finds
    the same reservation instead of making a second; if it fails nothing was
    reserved. EC2 errors map as for instances (InsufficientInstanceCapacity:
    CapacityError for the zone, quotas: QuotaError)."""
    p = req.placement
    ec2 = provider.client(p.region)
    zone = p.zone or first_zone(provider, p.region)
    tags = {**{str(k): str(v) for k, v in dict(provider.settings.get("tags") or {}).items()},
            **req.tags(), "Name": name_tag(req), TAG_KIND: "fleet"}
    args: dict[str, Any] = {
        "InstanceType": p.instance_type, "InstancePlatform": "Linux/UNIX", "AvailabilityZone": zone,
        "InstanceCount": int(p.nodes), "InstanceMatchCriteria": "targeted", "Tenancy": "default",
        "ClientToken": f"skyplan-{req.token}" if req.token else "",
        "TagSpecifications": [{"ResourceType": RESERVATION_KIND,
                               "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}],
    }
    if not args["ClientToken"]:
        args.pop("ClientToken")
    if req.reserve_hours:
        args["EndDateType"] = "limited"
        args["EndDate"] = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=float(req.reserve_hours))
    else:
        args["EndDateType"] = "unlimited"
    with provider._guard(f"{zone} (capacity reservation {p.instance_type} x{p.nodes})"):
        raw = ec2.create_capacity_reservation(**args)["CapacityReservation"]
    if "Tags" not in raw:
        raw = {**raw, "Tags": args["TagSpecifications"][0]["Tags"]}
    return [to_instance(raw, provider=provider.name, region=p.region)]


TAG_TOKEN = "skyplan:launch-token"


def buy_block(provider, req: LaunchRequest) -> list[Instance]:
    """Buy the cheapest Capacity Block offering of ``placement.nodes`` instances of
    ``placement.instance_type`` in the plan's zone for ``reserve_hours`` hours,
    starting at ``req.reserve_start`` (ISO 8601) or later.

    Failure contract: the purchase is tagged with the launch's token and a retry
    first looks for a block with that tag, so a lost answer never buys a second
    block; no offering in the zone is a CapacityError for it, and nothing is bought."""
    p = req.placement
    if not req.reserve_hours:
        raise ProviderError(f"{req.address}: a Capacity Block is bought for duration_hours; none is set",
                            provider=provider.name, hint="set duration_hours on the fleet")
    ec2 = provider.client(p.region)
    zone = p.zone or first_zone(provider, p.region)
    tags = {**{str(k): str(v) for k, v in dict(provider.settings.get("tags") or {}).items()},
            **req.tags(), "Name": name_tag(req), TAG_KIND: "fleet"}
    if req.token:
        tags[TAG_TOKEN] = req.token
        with provider._guard(f"{p.region} (describe_capacity_reservations)"):
            raws = ec2.describe_capacity_reservations(Filters=[
                {"Name": f"tag:{TAG_TOKEN}", "Values": [req.token]}])["CapacityReservations"]
        if raws:
            return [to_instance(raws[0], provider=provider.name, region=p.region)]
    hours = block_hours(req.reserve_hours)
    where = f"{zone} (capacity block {p.instance_type} x{p.nodes}, {hours} h)"
    offers = [o for o in _offerings(provider, p.region, p.instance_type, int(p.nodes), hours, req.reserve_start)
              if o.get("AvailabilityZone") == zone]
    if not offers:
        raise CapacityError(f"{provider.name}: no Capacity Block offering of {p.nodes} x {p.instance_type} "
                            f"for {hours} h in {zone}" + (f" from {req.reserve_start}" if req.reserve_start else ""),
                            scope="zone", provider=provider.name)
    offer = min(offers, key=lambda o: (float(o.get("UpfrontFee") or 0), o.get("StartDate")))
    spec = [{"ResourceType": RESERVATION_KIND, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]
    with provider._guard(where):  # no client token: never retried blindly, see the token tag above
        raw = provider.client(p.region, attempts=1).purchase_capacity_block(CapacityBlockOfferingId=offer["CapacityBlockOfferingId"],
                                          InstancePlatform="Linux/UNIX", TagSpecifications=spec)
    raw = raw.get("CapacityReservation") or (raw.get("CapacityReservations") or [{}])[0]
    if "Tags" not in raw:
        raw = {**raw, "Tags": spec[0]["Tags"]}
    inst = to_instance(raw, provider=provider.name, region=p.region)
    fee = {"upfront_fee": offer.get("UpfrontFee"), "currency": offer.get("CurrencyCode")}
    return [replace(inst, attributes={**inst.attributes, **{k: v for k, v in fee.items() if v}})]


def block_hours(hours: float) -> int:
    """EC2 sells blocks by whole hours: ``hours`` rounded up."""
    return int(-(-float(hours) // 1))


def _offerings(provider, region: str, itype: str, count: int, hours: int, start: str | None) -> list[dict]:
    args: dict[str, Any] = {"InstanceType": itype, "InstanceCount": count, "CapacityDurationHours": hours}
    if start:
        args["StartDateRange"] = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
    with provider._guard(f"{region} (capacity block offerings {itype} x{count}, {hours} h)"):
        return list(provider.client(region).describe_capacity_block_offerings(**args)
                    .get("CapacityBlockOfferings", ()))


def block_offerings(provider, region: str, itype: str, count: int, hours: float,
                    start: str | None = None) -> list[BlockQuote]:
    """What ``buy_block`` would choose from, read without buying: every offering of
    ``count`` x ``itype`` for ``hours`` (rounded up to whole hours) from ``start``.

    Failure contract: read-only; raises TransientError/AuthError/ProviderError."""
    def iso(v):
        return v.isoformat() if isinstance(v, dt.datetime) else str(v)

    whole = block_hours(hours)
    return [BlockQuote(region, o.get("AvailabilityZone", ""), o.get("InstanceType") or itype,
                       int(o.get("InstanceCount") or count), float(o.get("CapacityBlockDurationHours") or whole),
                       float(o.get("UpfrontFee") or 0), iso(o.get("StartDate")), iso(o.get("EndDate")),
                       o.get("CurrencyCode") or "USD")
            for o in _offerings(provider, region, itype, count, whole, start) if o.get("StartDate")]


def not_started(info: ReservationInfo) -> str | None:
    """Why nothing can launch into ``info`` yet: a Capacity Block before its start."""
    if info.kind == "capacity-block" and info.state in ("scheduled", "payment-pending"):
        return f"Capacity Block {info.id} starts at {info.start_date or 'a time EC2 has not reported'}"
    return None


def first_zone(provider, region: str) -> str:
    with provider._guard(f"{region} (describe_availability_zones)"):
        zones = provider.client(region).describe_availability_zones(
            Filters=[{"Name": "state", "Values": ["available"]}])["AvailabilityZones"]
    if not zones:
        raise ProviderError(f"{provider.name}: no available zone in {region} to reserve capacity in",
                            provider=provider.name)
    return sorted(z["ZoneName"] for z in zones)[0]


def list_region(provider, region: str, lineage: str) -> list[Instance]:
    """The live reservations of ``lineage`` in ``region`` (one paginated describe).

    Failure contract: read-only; raises TransientError/AuthError/ProviderError."""
    ec2 = provider.client(region)
    filters = [{"Name": f"tag:{TAG_LINEAGE}", "Values": [lineage]}, {"Name": "state", "Values": list(LIVE)}]
    with provider._guard(f"{region} (describe_capacity_reservations)"):
        raws = [r for page in ec2.get_paginator("describe_capacity_reservations").paginate(Filters=filters)
                for r in page.get("CapacityReservations", ())]
    return [to_instance(r, provider=provider.name, region=region) for r in raws]


def describe(provider, reservation_id: str) -> ReservationInfo | None:
    """One reservation by id (``cr-…`` searched in every configured region, or
    ``REGION/cr-…``), whatever its state; None when no region knows it.

    Failure contract: read-only; raises TransientError/AuthError/ProviderError."""
    region, _, rid = reservation_id.rpartition("/")
    for r in ((region,) if region else provider.regions):
        try:
            with provider._guard(f"{r} (describe_capacity_reservations {rid})"):
                raws = provider.client(r).describe_capacity_reservations(
                    CapacityReservationIds=[rid])["CapacityReservations"]
        except ProviderError as exc:
            if awserr.error_code(exc.__cause__).startswith("InvalidCapacityReservationId"):
                continue
            raise
        if raws:
            return of_raw(raws[0], r)
    return None


def cancel(provider, inst: Instance) -> None:
    """Cancel one reservation skyplan made. Already cancelled, expired or unknown
    is not an error.

    Failure contract: one ``cancel_capacity_reservation``; on error the
    reservation keeps its tags and the next refresh still lists it. A Capacity
    Block cannot be cancelled on EC2: nothing is called, it runs to its end."""
    if inst.attributes.get("reservation") == "capacity_block":
        return
    try:
        with provider._guard(f"{inst.region} (cancel_capacity_reservation {inst.id})"):
            provider.client(inst.region).cancel_capacity_reservation(CapacityReservationId=inst.id)
    except ProviderError as exc:
        code = awserr.error_code(exc.__cause__)
        if code == "IncorrectState" or code.startswith("InvalidCapacityReservationId"):
            return
        raise

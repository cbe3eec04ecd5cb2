"""EC2 capacity reservations and launch idempotency in front of moto's EC2 server.

moto has no On-Demand Capacity Reservations and launches again on a repeated
``ClientToken``. ``Reservations`` answers these EC2 Query-API actions in EC2's
own XML (shapes from botocore's ``ec2`` service model), so boto3 runs
unmodified:

- ``CreateCapacityReservation`` (idempotent on ``ClientToken``), ``DescribeCapacityReservations``
  (ids, ``tag:KEY`` / ``state`` / ``instance-type`` / ``availability-zone`` filters),
  ``CancelCapacityReservation``;
- ``RunInstances`` with ``CapacityReservationSpecification.CapacityReservationTarget``:
  the target must exist in the call's region, be ``active``, and match the
  instance type and zone; a launch larger than ``AvailableInstanceCount`` fails
  with ``ReservationCapacityExceeded``. The instances then count against the
  reservation until they stop or terminate (as on EC2), and ``DescribeInstances``
  / ``RunInstances`` answers carry ``capacityReservationId`` and
  ``capacityReservationSpecification``;
- a Capacity Block (``add(kind="capacity-block", start=, end=)``) is ``scheduled``
  before its start (a launch into it fails with
  ``InvalidCapacityReservationId.NotActive``), ``active`` until its end, then
  ``expired``; a launch into it must use ``InstanceMarketOptions.MarketType =
  capacity-block``, and into any other reservation must not;
- ``DescribeCapacityBlockOfferings`` answers deterministic offerings for the
  asked instance type, count and hours (``block_offers``: per zone suffix, hours
  after the earliest start, and a fee factor; the fee is ``block_rate`` $/h per
  instance), and ``PurchaseCapacityBlock`` of a described offering makes a
  ``capacity-block`` reservation with the offering's zone, start and end;
- every ``RunInstances`` honours ``ClientToken``: a repeat of an answered call
  returns the first call's reservation and launches nothing.

Tests read and change state through ``reservation(id)`` and ``cancel(id)``
(e.g. a reservation cancelled behind skyplan's back).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid
from typing import Any, Callable
from xml.sax.saxutils import escape

NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
ACCOUNT = "123456789012"
_INSTANCE_ID = re.compile(rb"<instanceId>(i-[0-9a-f]+)</instanceId>")
HANDLED = ("CreateCapacityReservation", "DescribeCapacityReservations", "CancelCapacityReservation",
           "DescribeCapacityBlockOfferings", "PurchaseCapacityBlock")
TARGET = "CapacityReservationSpecification.CapacityReservationTarget.CapacityReservationId"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _iso(t: dt.datetime | None) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z") if t else ""


def _parse_time(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def _tags(params: dict[str, str], prefix: str = "TagSpecifications") -> dict[str, str]:
    out: dict[str, str] = {}
    for n in range(1, 20):
        if f"{prefix}.{n}.ResourceType" not in params:
            break
        for m in range(1, 60):
            key = params.get(f"{prefix}.{n}.Tag.{m}.Key")
            if key is None:
                break
            out[key] = params.get(f"{prefix}.{n}.Tag.{m}.Value", "")
    return out


def _filters(params: dict[str, str]) -> list[tuple[str, list[str]]]:
    out = []
    for n in range(1, 50):
        name = params.get(f"Filter.{n}.Name")
        if name is None:
            break
        values = []
        for m in range(1, 200):
            v = params.get(f"Filter.{n}.Value.{m}")
            if v is None:
                break
            values.append(v)
        out.append((name, values))
    return out


def _indexed(params: dict[str, str], prefix: str) -> list[str]:
    out = []
    for n in range(1, 1000):
        v = params.get(f"{prefix}.{n}")
        if v is None:
            break
        out.append(v)
    return out


class Reservations:
    """Capacity reservations per region, and answered RunInstances per client token."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.items: dict[str, dict[str, Any]] = {}  # id -> reservation
            self.placed: dict[str, str] = {}  # instance id -> reservation id
            self.tokens: dict[tuple[str, str, str], Any] = {}  # (region, action, token) -> answer
            self.offers: dict[str, dict[str, Any]] = {}  # capacity block offering id -> offering
            self.block_offers = [("a", 0.0, 1.0), ("b", 24.0, 0.8)]  # (zone suffix, start after, fee factor)
            self.block_rate = 4.0  # $/h per instance of a block before its factor
            self.purchases = 0

    # -- state for tests ------------------------------------------------------------------------------
    def reservation(self, rid: str) -> dict[str, Any]:
        with self.lock:
            r = dict(self.items[rid])
        r["available"] = self._available(r)
        return r

    def cancel(self, rid: str) -> None:
        with self.lock:
            self.items[rid]["state"] = "cancelled"

    def add(self, region: str, *, instance_type: str, zone: str, count: int, state: str = "active",
            tags: dict[str, str] | None = None, end: dt.datetime | None = None,
            start: dt.datetime | None = None, kind: str = "default") -> str:
        """A reservation made outside skyplan (e.g. to be brought with ``existing = true``)."""
        rid = "cr-" + uuid.uuid4().hex[:17]
        with self.lock:
            self.items[rid] = {"id": rid, "region": region, "instance_type": instance_type, "zone": zone,
                               "total": count, "state": state, "tags": dict(tags or {}), "end": end,
                               "start": start or _now(), "created": _now(), "criteria": "targeted",
                               "type": kind}
        return rid

    # -- dispatch -------------------------------------------------------------------------------------
    def handle(self, action: str, region: str, params: dict[str, str],
               forward: Callable[[], tuple[str, list, bytes]]) -> tuple[str, list, bytes] | None:
        """The answer to one EC2 call, or None to let moto answer it unchanged."""
        if action == "CreateCapacityReservation":
            return self._create(region, params)
        if action == "DescribeCapacityReservations":
            return self._describe(region, params)
        if action == "CancelCapacityReservation":
            return self._cancel(region, params)
        if action == "DescribeCapacityBlockOfferings":
            return self._offerings(region, params)
        if action == "PurchaseCapacityBlock":
            return self._purchase(region, params)
        if action == "RunInstances":
            return self._run(region, params, forward)
        if action == "DescribeInstances":
            status, headers, body = forward()
            return status, headers, self._annotate(body)
        return None

    # -- actions --------------------------------------------------------------------------------------
    def _create(self, region: str, p: dict[str, str]):
        token = p.get("ClientToken", "")
        with self.lock:
            if token and (region, "create", token) in self.tokens:
                return _ok("CreateCapacityReservation",
                           _element("capacityReservation", self.items[self.tokens[(region, "create", token)]],
                                    self._available(self.items[self.tokens[(region, "create", token)]])))
            for need in ("InstanceType", "InstancePlatform", "InstanceCount"):
                if not p.get(need):
                    return _error("MissingParameter", f"The request must contain the parameter {need}")
            zone = p.get("AvailabilityZone", "")
            if not zone.startswith(region):
                return _error("InvalidParameterValue", f"Invalid availability zone: [{zone}]")
            count = int(p["InstanceCount"])
            if count < 1:
                return _error("InvalidParameterValue", "InstanceCount must be at least 1")
            end = _parse_time(p["EndDate"]) if p.get("EndDate") else None
            if p.get("EndDateType", "unlimited") == "limited" and end is None:
                return _error("InvalidParameterCombination", "EndDate is required when EndDateType is limited")
            if end is not None and end <= _now():
                return _error("InvalidParameterValue", "EndDate must be in the future")
            rid = self.add(region, instance_type=p["InstanceType"], zone=zone, count=count,
                           tags=_tags(p), end=end)
            self.items[rid]["criteria"] = p.get("InstanceMatchCriteria", "open")
            if token:
                self.tokens[(region, "create", token)] = rid
            return _ok("CreateCapacityReservation", _element("capacityReservation", self.items[rid], count))

    def _describe(self, region: str, p: dict[str, str]):
        ids = _indexed(p, "CapacityReservationId")
        with self.lock:
            found = [r for r in self.items.values() if r["region"] == region]
            for r in found:
                self._tick(r)
            missing = [i for i in ids if i not in {r["id"] for r in found}]
            if missing:
                return _error("InvalidCapacityReservationId.NotFound",
                              f"The capacity reservation ID '{missing[0]}' does not exist")
            if ids:
                found = [r for r in found if r["id"] in ids]
            for name, values in _filters(p):
                if name.startswith("tag:"):
                    found = [r for r in found if r["tags"].get(name[4:]) in values]
                elif name == "state":
                    found = [r for r in found if r["state"] in values]
                elif name == "instance-type":
                    found = [r for r in found if r["instance_type"] in values]
                elif name == "availability-zone":
                    found = [r for r in found if r["zone"] in values]
            body = "".join(_element("item", r, self._available(r)) for r in found)
        return _ok("DescribeCapacityReservations", f"<capacityReservationSet>{body}</capacityReservationSet>")

    def _cancel(self, region: str, p: dict[str, str]):
        rid = p.get("CapacityReservationId", "")
        with self.lock:
            r = self.items.get(rid)
            if r is None or r["region"] != region:
                return _error("InvalidCapacityReservationId.NotFound",
                              f"The capacity reservation ID '{rid}' does not exist")
            if r["state"] not in ("active", "pending", "scheduled"):
                return _error("IncorrectState", f"The capacity reservation '{rid}' is in state {r['state']}")
            if r["type"] == "capacity-block":
                return _error("UnsupportedOperation", "Capacity Blocks cannot be cancelled")
            r["state"] = "cancelled"
        return _ok("CancelCapacityReservation", "<return>true</return>")

    def _offerings(self, region: str, p: dict[str, str]):
        if not p.get("CapacityDurationHours"):
            return _error("MissingParameter", "The request must contain the parameter CapacityDurationHours")
        hours = int(p["CapacityDurationHours"])
        itype, count = p.get("InstanceType", ""), int(p.get("InstanceCount") or 1)
        earliest = _parse_time(p["StartDateRange"]) if p.get("StartDateRange") else _now()
        latest_end = _parse_time(p["EndDateRange"]) if p.get("EndDateRange") else None
        earliest = max(earliest, _now()).replace(microsecond=0)
        body = []
        with self.lock:
            for suffix, after, factor in self.block_offers:
                start = earliest + dt.timedelta(hours=after)
                end = start + dt.timedelta(hours=hours)
                if latest_end is not None and end > latest_end:
                    continue
                oid = "cb-" + uuid.uuid5(uuid.NAMESPACE_OID, f"{region}{suffix}{itype}{count}{start}{hours}").hex[:17]
                fee = f"{self.block_rate * factor * hours * count:.2f}"
                self.offers[oid] = {"id": oid, "region": region, "zone": region + suffix, "instance_type": itype,
                                    "count": count, "start": start, "end": end, "hours": hours, "fee": fee}
                fields = [("capacityBlockOfferingId", oid), ("instanceType", itype),
                          ("availabilityZone", region + suffix), ("instanceCount", str(count)),
                          ("startDate", _iso(start)), ("endDate", _iso(end)),
                          ("capacityBlockDurationHours", str(hours)), ("upfrontFee", fee),
                          ("currencyCode", "USD"), ("tenancy", "default")]
                body.append("<item>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in fields) + "</item>")
        return _ok("DescribeCapacityBlockOfferings",
                   f"<capacityBlockOfferingSet>{''.join(body)}</capacityBlockOfferingSet>")

    def _purchase(self, region: str, p: dict[str, str]):
        for need in ("CapacityBlockOfferingId", "InstancePlatform"):
            if not p.get(need):
                return _error("MissingParameter", f"The request must contain the parameter {need}")
        with self.lock:
            o = self.offers.get(p["CapacityBlockOfferingId"])
            if o is None or o["region"] != region:
                return _error("InvalidCapacityBlockOfferingId.NotFound",
                              f"The capacity block offering ID '{p['CapacityBlockOfferingId']}' does not exist")
            rid = self.add(region, instance_type=o["instance_type"], zone=o["zone"], count=o["count"],
                           tags=_tags(p, "TagSpecification"), start=o["start"], end=o["end"],
                           kind="capacity-block")
            self.items[rid]["fee"] = o["fee"]
            self.purchases += 1
            self._tick(self.items[rid])
            return _ok("PurchaseCapacityBlock",
                       _element("capacityReservation", self.items[rid], self._available(self.items[rid])))

    def _run(self, region: str, p: dict[str, str], forward):
        token = p.get("ClientToken", "")
        key = (region, "run", token)
        with self.lock:
            if token and key in self.tokens:
                status, headers, body = self.tokens[key]
                return status, headers, self._annotate(body)
            rid = p.get(TARGET)
            if rid:
                r = self.items.get(rid)
                if r is not None:
                    self._tick(r)
                if r is None or r["region"] != region:
                    return _error("InvalidCapacityReservationId.NotFound",
                                  f"The capacity reservation ID '{rid}' does not exist")
                if r["state"] != "active":
                    return _error("InvalidCapacityReservationId.NotActive",
                                  f"The capacity reservation '{rid}' is not active (state {r['state']})")
                market = p.get("InstanceMarketOptions.MarketType")
                if (r["type"] == "capacity-block") != (market == "capacity-block"):
                    return _error("InvalidParameterCombination",
                                  "InstanceMarketOptions.MarketType must be capacity-block exactly when "
                                  f"launching into a Capacity Block (reservation '{rid}')")
                if p.get("InstanceType") != r["instance_type"]:
                    return _error("InvalidParameterCombination",
                                  f"The instance type '{p.get('InstanceType')}' does not match the instance type "
                                  f"'{r['instance_type']}' of capacity reservation '{rid}'")
                zone = p.get("Placement.AvailabilityZone")
                if zone and zone != r["zone"]:
                    return _error("InvalidParameterCombination",
                                  f"The availability zone '{zone}' does not match the availability zone "
                                  f"'{r['zone']}' of capacity reservation '{rid}'")
                wanted = int(p.get("MaxCount") or 1)
                if wanted > self._available(r):
                    return _error("ReservationCapacityExceeded",
                                  "The requested reservation does not have sufficient compatible and available "
                                  "capacity for this request.")
            status, headers, body = forward()
            if status.startswith("200"):
                if rid:
                    for iid in _INSTANCE_ID.findall(body):
                        self.placed[iid.decode()] = rid
                if token:
                    self.tokens[key] = (status, headers, body)
        return status, headers, self._annotate(body)

    # -- helpers --------------------------------------------------------------------------------------
    def _tick(self, r: dict[str, Any]) -> None:
        """A Capacity Block is scheduled until its start and expired after its end."""
        if r["type"] != "capacity-block" or r["state"] in ("cancelled",):
            return
        t = _now()
        r["state"] = "scheduled" if t < r["start"] else ("expired" if r["end"] and t >= r["end"] else "active")

    def _available(self, r: dict[str, Any]) -> int:
        self._tick(r)
        if r["state"] != "active":
            return 0
        used = sum(1 for iid, rid in self.placed.items() if rid == r["id"] and _holds(r["region"], iid))
        return max(0, r["total"] - used)

    def _annotate(self, body: bytes) -> bytes:
        with self.lock:
            placed = dict(self.placed)
        if not placed:
            return body

        def add(m: re.Match) -> bytes:
            rid = placed.get(m.group(1).decode())
            if not rid:
                return m.group(0)
            return (m.group(0) + f"<capacityReservationId>{rid}</capacityReservationId>"
                    "<capacityReservationSpecification><capacityReservationPreference>capacity-reservations-only"
                    "</capacityReservationPreference><capacityReservationTarget><capacityReservationId>"
                    f"{rid}</capacityReservationId></capacityReservationTarget>"
                    "</capacityReservationSpecification>".encode())

        return _INSTANCE_ID.sub(add, body)


def _holds(region: str, iid: str) -> bool:
    """Whether instance ``iid`` still takes a reserved slot: pending or running (a
    stopped or terminated instance gives its slot back, as on EC2)."""
    from moto.ec2.models import ec2_backends

    inst = ec2_backends[ACCOUNT][region].instances.get(iid) if hasattr(
        ec2_backends[ACCOUNT][region], "instances") else None
    if inst is None:
        for res in ec2_backends[ACCOUNT][region].reservations.values():
            for i in res.instances:
                if i.id == iid:
                    inst = i
    return inst is not None and inst.state in ("pending", "running")


def _element(tag: str, r: dict[str, Any], available: int) -> str:
    tags = "".join(f"<item><key>{escape(k)}</key><value>{escape(v)}</value></item>" for k, v in r["tags"].items())
    end = r.get("end")
    fields = [
        ("capacityReservationId", r["id"]), ("ownerId", ACCOUNT),
        ("capacityReservationArn", f"arn:aws:ec2:{r['region']}:{ACCOUNT}:capacity-reservation/{r['id']}"),
        ("availabilityZoneId", r["zone"].replace(r["region"], "use1-az")), ("instanceType", r["instance_type"]),
        ("instancePlatform", "Linux/UNIX"), ("availabilityZone", r["zone"]), ("tenancy", "default"),
        ("totalInstanceCount", str(r["total"])), ("availableInstanceCount", str(available)),
        ("ebsOptimized", "false"), ("ephemeralStorage", "false"), ("state", r["state"]),
        ("startDate", _iso(r["start"])), ("endDate", _iso(end)), ("endDateType", "limited" if end else "unlimited"),
        ("instanceMatchCriteria", r["criteria"]), ("createDate", _iso(r["created"])),
        ("reservationType", r["type"]),
    ]
    inner = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in fields if v != "")
    return f"<{tag}>{inner}<tagSet>{tags}</tagSet></{tag}>"


def _ok(action: str, inner: str):
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<{action}Response xmlns="{NS}">'
            f"<requestId>{uuid.uuid4()}</requestId>{inner}</{action}Response>").encode()
    return "200 OK", [("Content-Type", "text/xml")], body


def _error(code: str, message: str, status: int = 400):
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error><Code>{code}</Code><Message>{escape(message)}</Message></Error></Errors>"
            f"<RequestID>{uuid.uuid4()}</RequestID></Response>").encode()
    return f"{status} Bad Request", [("Content-Type", "text/xml")], body

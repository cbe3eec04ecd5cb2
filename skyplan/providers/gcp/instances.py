"""Turn Compute Engine instance resources (REST JSON) into skyplan Instance values (pure).

Compute Engine calls a stopped VM ``TERMINATED``. skyplan reads it as:

- ``preempted`` for a spot VM whose stop was a preemption (a
  ``compute.instances.preempted`` operation after its last start): nobody
  started it again and only re-placing it elsewhere helps;
- ``succeeded``/``failed`` for a job node that printed its exit line to the
  serial console and powered itself off;
- ``stopped`` with ``stopped_by = "autostop"`` for a node whose idle timer
  powered it off (a guest ``shutdown -h`` leaves a Compute Engine VM
  ``TERMINATED``, its disks kept and billed): it carries the ``skyplan:autostop``
  label and the last autostop line on its serial console says so;
- ``stopped`` otherwise (someone stopped it).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Mapping

from skyplan.providers.base import (
    STOPPED_BY_AUTOSTOP, TAG_ADDRESS, TAG_AUTOSTOP, TAG_GROUP, TAG_LINEAGE, TAG_RANK, Instance,
)
from skyplan.providers.gcp import labels as lab
from skyplan.providers.gcp.launch import TAG_KIND, TAG_PRICING, region_of

STATE_MAP = {
    "PROVISIONING": "pending", "STAGING": "pending", "RUNNING": "running", "REPAIRING": "running",
    "STOPPING": "stopped", "SUSPENDING": "stopped", "SUSPENDED": "stopped", "TERMINATED": "stopped",
    "PENDING_STOP": "stopped",
}
PREEMPTED_OPERATION = "compute.instances.preempted"
_EXIT = re.compile(r"skyplan: exit_code=(\d+)")


def last(url: str | None) -> str:
    return (url or "").rstrip("/").rsplit("/", 1)[-1]


def zone_of(raw: Mapping[str, Any]) -> str:
    return last(raw.get("zone"))


def project_of(raw: Mapping[str, Any], default: str = "") -> str:
    m = re.search(r"/projects/([^/]+)/", raw.get("selfLink") or raw.get("zone") or "")
    return m.group(1) if m else default


def provider_id(project: str, zone: str, name: str) -> str:
    """An instance's id in skyplan: ``PROJECT/ZONE/NAME`` (what ``skyplan import`` takes)."""
    return f"{project}/{zone}/{name}"


def is_spot(raw: Mapping[str, Any]) -> bool:
    s = raw.get("scheduling") or {}
    return s.get("provisioningModel") == "SPOT" or bool(s.get("preemptible"))


def is_job(raw: Mapping[str, Any]) -> bool:
    return lab.to_tags(raw.get("labels") or {}).get(TAG_KIND) == "job"


def stopped(raw: Mapping[str, Any]) -> bool:
    return raw.get("status") in ("TERMINATED", "STOPPING", "SUSPENDED", "SUSPENDING")


def preempted_by(raw: Mapping[str, Any], operations: Mapping[str, list[Mapping[str, Any]]]) -> bool:
    """A stopped spot VM with a preemption operation newer than its last start.
    ``operations`` maps an instance's name (and target id) to its preemption operations."""
    if not (is_spot(raw) and stopped(raw)):
        return False
    ops = list(operations.get(str(raw.get("id", "")), ())) + [
        o for o in operations.get(raw.get("name", ""), ()) if zone_of(o) == zone_of(raw)]
    started = _when(raw.get("lastStartTimestamp") or raw.get("creationTimestamp"))
    return any(_when(o.get("insertTime")) >= started for o in ops)


def _when(stamp: str | None) -> datetime:
    """An RFC 3339 timestamp (Compute Engine writes local offsets, e.g. -08:00)."""
    try:
        found = datetime.fromisoformat(str(stamp))
    except ValueError:
        return datetime.min.replace(tzinfo=timezone.utc)
    return found if found.tzinfo else found.replace(tzinfo=timezone.utc)


def exit_code_of(console: str) -> int | None:
    """The exit code the startup script printed to the serial console (the last one)."""
    found = _EXIT.findall(console or "")
    return int(found[-1]) if found else None


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _reserved_by(raw: Mapping[str, Any], project: str, zone: str) -> str | None:
    from skyplan.providers.gcp.reservations import reserved_by

    return reserved_by(raw, project, zone)


def has_autostop(raw: Mapping[str, Any]) -> bool:
    return TAG_AUTOSTOP in lab.to_tags(raw.get("labels") or {})


def to_instance(raw: Mapping[str, Any], *, provider: str, project: str, preempted: bool = False,
                exit_code: int | None = None, autostopped: bool = False) -> Instance:
    """One instance resource as an Instance. ``exit_code`` is the one read from the
    serial console of a stopped job node (it finished by itself); ``autostopped``:
    that console says the node's idle timer stopped it."""
    tags = lab.to_tags(raw.get("labels") or {})
    zone = zone_of(raw)
    if is_spot(raw):
        pricing = "spot"
    else:
        pricing = "reserved" if tags.get(TAG_PRICING) == "reserved" else "on_demand"
    state = STATE_MAP.get(raw.get("status", ""), "pending")
    nic = (raw.get("networkInterfaces") or [{}])[0]
    access = (nic.get("accessConfigs") or [{}])[0]
    attributes: dict[str, Any] = {
        "name": raw.get("name"),
        "instance_id": raw.get("id"),
        "private_ip": nic.get("networkIP"),
        "public_ip": access.get("natIP"),
        "launch_time": raw.get("creationTimestamp"),
        "status": raw.get("status"),
        "label_fingerprint": raw.get("labelFingerprint"),
        "capacity_reservation_id": _reserved_by(raw, project_of(raw, project), zone),
    }
    if preempted:
        state = "preempted"
        attributes["state_reason"] = "preempted by Compute Engine"
    elif exit_code is not None and stopped(raw) and tags.get(TAG_KIND) == "job":
        attributes["finished"] = True
        attributes["exit_code"] = exit_code
        state = "succeeded" if exit_code == 0 else "failed"
    elif autostopped and stopped(raw) and has_autostop(raw):
        attributes["stopped_by"] = STOPPED_BY_AUTOSTOP
        attributes["ended_at"] = raw.get("lastStopTimestamp")
    return Instance(
        provider=provider,
        id=provider_id(project_of(raw, project), zone, raw.get("name", "")),
        address=tags.get(TAG_ADDRESS, ""),
        lineage=tags.get(TAG_LINEAGE, ""),
        group=_int(tags.get(TAG_GROUP)),
        rank=_int(tags.get(TAG_RANK)),
        region=region_of(zone) if zone else "",
        zone=zone or None,
        instance_type=last(raw.get("machineType")),
        pricing=pricing,
        state=state,
        tags=tags,
        attributes={k: v for k, v in attributes.items() if v is not None},
    )


__all__ = ["to_instance", "has_autostop", "exit_code_of", "preempted_by", "provider_id", "is_spot", "is_job", "stopped",
           "PREEMPTED_OPERATION", "STATE_MAP", "zone_of", "last"]

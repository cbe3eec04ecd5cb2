"""Turn EC2 ``describe_instances`` records into skyplan Instance values (pure)."""

from __future__ import annotations

import re
from typing import Any, Mapping

from skyplan.providers.aws.launch import TAG_KIND, TAG_PRICING
from skyplan.providers.base import (
    STOPPED_BY_AUTOSTOP, TAG_ADDRESS, TAG_AUTOSTOP, TAG_GROUP, TAG_LINEAGE, TAG_RANK, Instance,
)

STATE_MAP = {
    "pending": "pending", "running": "running", "stopping": "stopped", "stopped": "stopped",
    "shutting-down": "terminated", "terminated": "terminated",
}
LIVE_STATES = ("pending", "running", "stopping", "stopped")


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


_EXIT = re.compile(r"skyplan: exit_code=(\d+)")
_WHEN = re.compile(r"\((\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) GMT\)")


def job_finished(raw: Mapping[str, Any]) -> bool:
    """A job node that shut itself down after ``run`` (stopped, or terminated for
    a one-time spot node), as opposed to one stopped or terminated by someone."""
    tags = {t["Key"]: t["Value"] for t in raw.get("Tags", ()) or ()}
    reason = (raw.get("StateReason") or {}).get("Code", "")
    return tags.get(TAG_KIND) == "job" and "InstanceInitiatedShutdown" in reason and \
        raw.get("State", {}).get("Name") in ("stopping", "stopped", "shutting-down", "terminated")


def spot_interrupted(raw: Mapping[str, Any]) -> bool:
    """A spot node EC2 stopped to take its capacity back (a persistent request's
    ``stop`` interruption). Nobody can start it again; EC2 restarts it when
    capacity returns, so for skyplan it was preempted."""
    reason = (raw.get("StateReason") or {}).get("Code", "")
    return raw.get("InstanceLifecycle") == "spot" and reason == "Server.SpotInstanceShutdown" and \
        raw.get("State", {}).get("Name") in ("stopping", "stopped")


def autostopped(raw: Mapping[str, Any]) -> bool:
    """A node stopped by its own idle timer: it carries ``skyplan:autostop`` and EC2
    says the stop came from inside (``Client.InstanceInitiatedShutdown``, the reason
    of a guest ``shutdown -h`` under ``InstanceInitiatedShutdownBehavior = stop``)."""
    tags = {t["Key"]: t["Value"] for t in raw.get("Tags", ()) or ()}
    reason = (raw.get("StateReason") or {}).get("Code", "")
    return TAG_AUTOSTOP in tags and tags.get(TAG_KIND) != "job" and reason == "Client.InstanceInitiatedShutdown" \
        and raw.get("State", {}).get("Name") in ("stopping", "stopped")


def exit_code_of(console: str) -> int | None:
    """The exit code the boot script printed to the console (the last one), if any."""
    found = _EXIT.findall(console or "")
    return int(found[-1]) if found else None


def visible(raw: Mapping[str, Any]) -> bool:
    """Live instances, plus job nodes that finished by themselves (their result counts)."""
    return raw.get("State", {}).get("Name") in LIVE_STATES or job_finished(raw)


def to_instance(raw: Mapping[str, Any], *, provider: str, region: str, exit_code: int | None = None) -> Instance:
    """One EC2 instance as an Instance. A job node that finished by itself is
    ``succeeded`` when ``exit_code`` (read from its console) is 0, else ``failed``."""
    tags = {t["Key"]: t["Value"] for t in raw.get("Tags", ()) or ()}
    lifecycle = raw.get("InstanceLifecycle")
    if lifecycle == "spot":
        pricing = "spot"
    else:
        pricing = "reserved" if tags.get(TAG_PRICING) == "reserved" else "on_demand"
    state = STATE_MAP.get(raw.get("State", {}).get("Name", ""), "pending")
    if spot_interrupted(raw):
        state = "preempted"
    attributes: dict[str, Any] = {
        "image_id": raw.get("ImageId"),
        "private_ip": raw.get("PrivateIpAddress"),
        "public_ip": raw.get("PublicIpAddress"),
        "launch_time": str(raw["LaunchTime"]) if raw.get("LaunchTime") else None,
        "spot_request_id": raw.get("SpotInstanceRequestId"),
        "capacity_reservation_id": raw.get("CapacityReservationId"),
    }
    if raw.get("StateReason"):
        attributes["state_reason"] = raw["StateReason"].get("Message") or raw["StateReason"].get("Code")
    if autostopped(raw):
        attributes["stopped_by"] = STOPPED_BY_AUTOSTOP
        when = _WHEN.search(raw.get("StateTransitionReason") or "")  # "User initiated (2026-01-02 03:04:05 GMT)"
        if when:
            attributes["ended_at"] = when.group(1).replace(" ", "T") + "+00:00"
    if job_finished(raw):
        # Finished by itself: succeeded only on a readable exit code 0. Without one
        # (EC2 posts console output minutes after a stop, or the script died before
        # printing it) the node is failed, not a stopped or lost node that drift
        # repair would start or launch again; a later refresh that reads exit code 0
        # turns it into succeeded.
        attributes["finished"] = True
        if exit_code is not None:
            attributes["exit_code"] = exit_code
        state = "succeeded" if exit_code == 0 else "failed"
    rank = _int(tags[TAG_RANK]) if TAG_RANK in tags else _int(raw.get("AmiLaunchIndex"))
    return Instance(
        provider=provider,
        id=raw["InstanceId"],
        address=tags.get(TAG_ADDRESS, ""),
        lineage=tags.get(TAG_LINEAGE, ""),
        group=_int(tags.get(TAG_GROUP)),
        rank=rank,
        region=region,
        zone=(raw.get("Placement") or {}).get("AvailabilityZone"),
        instance_type=raw.get("InstanceType", ""),
        pricing=pricing,
        state=state,
        tags=tags,
        attributes={k: v for k, v in attributes.items() if v is not None},
    )


def flatten(pages) -> list[Mapping[str, Any]]:
    """Instances of every reservation of every page of describe_instances."""
    return [inst for page in pages for res in page.get("Reservations", ()) for inst in res.get("Instances", ())]

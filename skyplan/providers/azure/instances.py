"""Turn ARM virtual machine JSON (and its instance view) into skyplan Instance values (pure).

Azure carries skyplan's tags as ``skyplan-address``, ``skyplan-lineage``, ...;
an Instance reports them under skyplan's own names (``skyplan:address``), as
every provider does, and ``AzureProvider.update`` writes them back dashed.

A guest ``shutdown -h`` (a node's idle timer, ``autostop``) leaves an Azure VM
``PowerState/stopped``, not deallocated: Azure keeps billing its compute. Such
a node carrying ``skyplan-autostop`` whose serial log's last autostop line says
the timer stopped it is ``stopped`` with ``stopped_by = "autostop"`` and
``compute_billed = True``.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from skyplan.providers.azure.launch import (
    TAG_ADDRESS, TAG_AUTOSTOP, TAG_GROUP, TAG_KIND, TAG_LINEAGE, TAG_PRICING, TAG_RANK, skyplan_tag,
)
from skyplan.providers.base import STOPPED_BY_AUTOSTOP, Instance

_EXIT = re.compile(r"skyplan: exit_code=(\d+)")


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def power_state(view: Mapping[str, Any] | None) -> str | None:
    """``PowerState/running`` -> ``running`` (None without an instance view)."""
    for s in (view or {}).get("statuses") or ():
        code = str(s.get("code") or "")
        if code.startswith("PowerState/"):
            return code.split("/", 1)[1]
    return None


def is_spot(vm: Mapping[str, Any]) -> bool:
    return str((vm.get("properties") or {}).get("priority") or "").lower() == "spot"


def job_finished(vm: Mapping[str, Any], power: str | None) -> bool:
    """A job node that powered itself off after ``run``."""
    return (vm.get("tags") or {}).get(TAG_KIND) == "job" and power == "stopped"


def exit_code_of(serial: str) -> int | None:
    found = _EXIT.findall(serial or "")
    return int(found[-1]) if found else None


def resource_group_of(resource_id: str) -> str:
    parts = resource_id.split("/")
    for i, part in enumerate(parts):
        if part.lower() == "resourcegroups" and i + 1 < len(parts):
            return parts[i + 1]
    return ""


def state_of(vm: Mapping[str, Any], power: str | None) -> str:
    prov = str((vm.get("properties") or {}).get("provisioningState") or "").lower()
    if prov in ("deleting",):
        return "terminated"
    if prov in ("creating", "updating") and power in (None, "starting"):
        return "pending"
    if prov == "failed":
        return "failed"
    if power in ("deallocated", "deallocating"):
        # Nobody but Azure deallocates a spot service node skyplan manages (skyplan stops with powerOff).
        return "preempted" if is_spot(vm) else "stopped"
    if power in ("stopped", "stopping"):
        return "stopped"
    if power == "starting":
        return "pending"
    return "running"


def has_autostop(vm: Mapping[str, Any]) -> bool:
    return TAG_AUTOSTOP in (vm.get("tags") or {}) and (vm.get("tags") or {}).get(TAG_KIND) != "job"


def to_instance(vm: Mapping[str, Any], *, provider: str, view: Mapping[str, Any] | None = None,
                exit_code: int | None = None, autostopped: bool = False) -> Instance:
    """One VM as an Instance. A job node that powered itself off is ``succeeded`` when
    ``exit_code`` (read from its serial log) is 0, else ``failed``."""
    tags = {str(k): str(v) for k, v in (vm.get("tags") or {}).items()}
    props = vm.get("properties") or {}
    reported = {skyplan_tag(k): v for k, v in tags.items()}  # skyplan-address -> skyplan:address
    region = str(vm.get("location") or "")
    zones = vm.get("zones") or []
    power = power_state(view if view is not None else props.get("instanceView"))
    state = state_of(vm, power)
    pricing = "spot" if is_spot(vm) else ("reserved" if tags.get(TAG_PRICING) == "reserved" else "on_demand")
    attributes: dict[str, Any] = {
        "name": vm.get("name"),
        "resource_group": resource_group_of(str(vm.get("id") or "")),
        "vm_id": props.get("vmId"),
        "eviction_policy": props.get("evictionPolicy"),
        "power_state": power,
        "nic_ids": [n.get("id") for n in (props.get("networkProfile") or {}).get("networkInterfaces") or ()],
        "os_disk": (((props.get("storageProfile") or {}).get("osDisk") or {}).get("managedDisk") or {}).get("id"),
        "capacity_reservation_id": ((props.get("capacityReservation") or {}).get("capacityReservationGroup")
                                    or {}).get("id"),
    }
    if state == "preempted":
        attributes["state_reason"] = "spot VM evicted by Azure (deallocated)"
    if job_finished(vm, power):
        attributes["finished"] = True
        if exit_code is not None:
            attributes["exit_code"] = exit_code
        state = "succeeded" if exit_code == 0 else "failed"
    elif autostopped and state == "stopped" and has_autostop(vm):
        attributes["stopped_by"] = STOPPED_BY_AUTOSTOP
        attributes["compute_billed"] = power in ("stopped", "stopping")  # allocated until deallocated
    return Instance(
        provider=provider, id=str(vm.get("id") or ""), address=tags.get(TAG_ADDRESS, ""),
        lineage=tags.get(TAG_LINEAGE, ""), group=_int(tags.get(TAG_GROUP)), rank=_int(tags.get(TAG_RANK)),
        region=region, zone=f"{region}-{zones[0]}" if zones else None,
        instance_type=str((props.get("hardwareProfile") or {}).get("vmSize") or ""),
        pricing=pricing, state=state, tags=reported,
        attributes={k: v for k, v in attributes.items() if v not in (None, [])},
    )

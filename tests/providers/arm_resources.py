"""The resources behind the ARM emulator: routing, resource groups, network objects, VMs, LROs.

``ArmResources`` holds the emulator's state and answers one ARM call
(``_route``) the way Resource Manager does for the calls the azure provider
makes; ``arm_emulator.ArmEmulator`` serves it over HTTP and injects faults.
Callers hold ``self.lock``.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import uuid
from typing import Any

from tests.providers.arm_reservations import ArmReservations

VM = "microsoft.compute/virtualmachines"
_RG = re.compile(r"^/subscriptions/([^/]+)/resourcegroups/([^/]+)(/.*)?$", re.I)
_PROVIDER = re.compile(r"^/providers/([^/]+)/([^/]+)(?:/([^/]+))?(?:/([^/]+))?(?:/([^/]+))?$", re.I)


class ArmError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


class ArmResources(ArmReservations):
    """State and answers; the attributes are set by ``ArmEmulator.reset``."""

    subscription: str
    url: str
    page_size: int
    groups: dict[str, dict]
    resources: dict[str, dict]
    operations: dict[str, dict]
    faults: list[dict]
    serial: dict[str, str]

    def _async_fault(self, body: dict) -> dict | None:
        props = body.get("properties") or {}
        size = (props.get("hardwareProfile") or {}).get("vmSize")
        for f in list(self.faults):
            if not f.get("async") or f["kind"] not in ("capacity", "quota"):
                continue
            if f.get("size") and f["size"] != size:
                continue
            if f.get("region") and f["region"] != body.get("location"):
                continue
            if f.get("zone") and f["zone"] not in (body.get("zones") or []):
                continue
            self._use(f)
            return f
        return None

    def _use(self, f: dict) -> None:
        f["times"] -= 1
        if f["times"] <= 0:
            self.faults.remove(f)

    # -- routing ---------------------------------------------------------------------------------
    def _route(self, method: str, path: str, query: dict, body: Any) -> tuple[int, Any, dict]:
        if path.startswith("/_operations/"):
            return self._operation(path.rsplit("/", 1)[1])
        m = re.match(r"^/subscriptions/([^/]+)/providers/Microsoft\.Compute/virtualMachines$", path, re.I)
        if m and method == "GET":
            return self._list(None, query)
        m = re.match(r"^/subscriptions/([^/]+)/providers/Microsoft\.Compute/capacityReservationGroups$", path, re.I)
        if m and method == "GET":
            return self._subscription_groups(query)
        m = re.match(r"^/subscriptions/([^/]+)/resourcegroups$", path, re.I)
        if m and method == "GET":
            tag = re.match(r"tagName eq '([^']+)'", query.get("$filter", ""))
            return 200, {"value": [g for g in self.groups.values() if not tag or tag.group(1) in g["tags"]]}, {}
        m = _RG.match(path)
        if not m:
            raise ArmError(404, "InvalidResourceType", f"no route for {path}")
        rg, rest = m.group(2), m.group(3) or ""
        if not rest:
            return self._group(method, rg, body)
        if rg.lower() not in self.groups:
            raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
        if rest.lower() == "/resources" and method == "GET":
            return 200, {"value": [{"id": r["id"], "name": r["name"], "type": r["type"], "location": r.get("location")}
                                   for k, r in sorted(self.resources.items()) if _rg_of(k) == rg.lower()]}, {}
        pm = _PROVIDER.match(rest)
        if not pm:
            raise ArmError(404, "InvalidResourceType", f"no route for {path}")
        ns, type_, name, sub, extra = pm.groups()
        full_type = f"{ns}/{type_}"
        if full_type.lower() == "microsoft.compute/capacityreservationgroups":
            return self._reservation_route(method, rg, name, sub, extra, query, body)
        if name is None:
            if full_type.lower() == VM and method == "GET":
                return self._list(rg, query)
            if method == "GET":
                return 200, {"value": [self._view(r) for k, r in sorted(self.resources.items())
                                       if r["type"].lower() == full_type.lower() and _rg_of(k) == rg.lower()]}, {}
            raise ArmError(405, "MethodNotAllowed", f"{method} on a collection")
        rid = f"/subscriptions/{self.subscription}/resourceGroups/{rg}/providers/{full_type}/{name}"
        if sub is not None and extra is not None:  # child resource: subnets
            return self._resource(method, f"{rid}/{sub}/{extra}", f"{full_type}/{sub}", extra, body, rg, query,
                                  parent=rid)
        if sub is not None:
            return self._action(method, rid, sub, query)
        return self._resource(method, rid, full_type, name, body, rg, query)

    def _group(self, method: str, rg: str, body: Any) -> tuple[int, Any, dict]:
        key = rg.lower()
        rid = f"/subscriptions/{self.subscription}/resourceGroups/{rg}"
        if method == "HEAD":
            return (204 if key in self.groups else 404), None, {}
        if method == "GET":
            if key not in self.groups:
                raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
            return 200, self.groups[key], {}
        if method == "PUT":
            existed = key in self.groups
            self.groups[key] = {"id": rid, "name": rg, "type": "Microsoft.Resources/resourceGroups",
                                "location": body["location"], "tags": body.get("tags") or {},
                                "properties": {"provisioningState": "Succeeded"}}
            return (200 if existed else 201), self.groups[key], {}
        if method == "DELETE":
            if key not in self.groups:
                raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
            del self.groups[key]
            for k in [k for k in self.resources if _rg_of(k) == key]:
                del self.resources[k]
            return self._accepted_location("Succeeded")
        raise ArmError(405, "MethodNotAllowed", method)

    def _resource(self, method: str, rid: str, type_: str, name: str, body: Any, rg: str, query: dict,
                  parent: str | None = None) -> tuple[int, Any, dict]:
        key = rid.lower()
        if parent is not None and parent.lower() not in self.resources:
            raise ArmError(404, "ResourceNotFound", f"The Resource '{parent}' was not found.")
        if method == "GET":
            if key not in self.resources:
                raise ArmError(404, "ResourceNotFound", f"The Resource '{type_}/{name}' under resource group "
                                                        f"'{rg}' was not found.")
            return 200, self._view(self.resources[key], query.get("$expand") == "instanceView"), {}
        if method == "PUT":
            if type_.lower() == VM:
                return self._put_vm(key, rid, name, body)
            return self._put(key, rid, type_, name, body, parent)
        if method == "PATCH":
            if key not in self.resources:
                raise ArmError(404, "ResourceNotFound", f"The Resource '{type_}/{name}' was not found.")
            res = self.resources[key]
            if "tags" in (body or {}):
                res["tags"] = body["tags"] or {}
            return 200, self._view(res), {}
        if method == "DELETE":
            if key not in self.resources:
                return 204, None, {}
            self._check_in_use(key, type_)
            res = self.resources.pop(key)
            if parent is not None:
                sub = self.resources[parent.lower()]["properties"].get("subnets", [])
                sub[:] = [s for s in sub if s["id"].lower() != key]
            if type_.lower() == VM:
                self._release(res)
            return self._accepted_async()
        raise ArmError(405, "MethodNotAllowed", method)

    def _release(self, vm: dict) -> None:
        """What deleting a VM does to its NICs and OS disk: deleted with ``deleteOption: Delete``,
        else detached and left."""
        props = vm["properties"]
        for nic in (props.get("networkProfile") or {}).get("networkInterfaces") or []:
            n = self.resources.get(nic["id"].lower())
            if n is None:
                continue
            n["properties"].pop("virtualMachine", None)
            if (nic.get("properties") or {}).get("deleteOption") == "Delete":
                del self.resources[nic["id"].lower()]
        disk = (props.get("storageProfile") or {}).get("osDisk") or {}
        if disk.get("deleteOption") == "Delete":
            self.resources.pop(str((disk.get("managedDisk") or {}).get("id", "")).lower(), None)

    def _check_in_use(self, key: str, type_: str) -> None:
        t = type_.lower()
        if t == "microsoft.network/networkinterfaces" and self.resources[key]["properties"].get("virtualMachine"):
            raise ArmError(400, "NicInUse", "Network interface is in use by a virtual machine")
        if t.endswith("/subnets"):
            for r in self.resources.values():
                for cfg in (r.get("properties") or {}).get("ipConfigurations") or []:
                    if ((cfg.get("properties") or {}).get("subnet") or {}).get("id", "").lower() == key:
                        raise ArmError(400, "InUseSubnetCannotBeDeleted", "Subnet is in use")
        if t == "microsoft.network/virtualnetworks":
            sub_prefix = key + "/subnets/"
            for r in self.resources.values():
                for cfg in (r.get("properties") or {}).get("ipConfigurations") or []:
                    if ((cfg.get("properties") or {}).get("subnet") or {}).get("id", "").lower().startswith(sub_prefix):
                        raise ArmError(400, "InUseSubnetCannotBeDeleted", "A subnet of the network is in use")
        if t == "microsoft.network/networksecuritygroups":
            for r in self.resources.values():
                nsg = ((r.get("properties") or {}).get("networkSecurityGroup") or {}).get("id", "")
                if nsg.lower() == key:
                    raise ArmError(400, "InUseNetworkSecurityGroupCannotBeDeleted", "NSG is in use")

    def _put(self, key: str, rid: str, type_: str, name: str, body: dict, parent: str | None):
        existed = key in self.resources
        props = dict(body.get("properties") or {})
        props["provisioningState"] = "Succeeded"
        res = {"id": rid, "name": name, "type": type_, "properties": props, "etag": f'W/"{uuid.uuid4()}"'}
        if parent is None:
            res["location"] = body.get("location")
            res["tags"] = body.get("tags") or {}
        if type_.lower() == "microsoft.network/virtualnetworks":
            props.setdefault("subnets", [])
            for s in props["subnets"]:
                s.setdefault("id", f"{rid}/subnets/{s['name']}")
        if type_.lower() == "microsoft.network/networkinterfaces":
            for i, cfg in enumerate(props.get("ipConfigurations") or []):
                cfg.setdefault("id", f"{rid}/ipConfigurations/{cfg.get('name', 'ipconfig1')}")
                cfg.setdefault("properties", {})["privateIPAddress"] = f"10.0.0.{next(self.ids) % 250 + 4}"
                subnet = (cfg["properties"].get("subnet") or {}).get("id", "")
                if subnet and subnet.lower() not in self.resources:
                    raise ArmError(400, "InvalidResourceReference", f"Resource {subnet} referenced by {rid} "
                                                                    "was not found.")
        self.resources[key] = res
        if parent is not None:
            subs = self.resources[parent.lower()]["properties"].setdefault("subnets", [])
            subs[:] = [s for s in subs if s["id"].lower() != key] + [{"id": rid, "name": name,
                                                                      "properties": props}]
        op = self._new_op("Succeeded")
        return (200 if existed else 201), self._view(res), {"Azure-AsyncOperation": op, "Retry-After": 0}

    def _put_vm(self, key: str, rid: str, name: str, body: dict):
        props = json.loads(json.dumps(body.get("properties") or {}))
        (props.get("osProfile") or {}).pop("adminPassword", None)  # write-only: never stored or returned
        for nic in (props.get("networkProfile") or {}).get("networkInterfaces") or []:
            n = self.resources.get(nic["id"].lower())
            if n is None:
                raise ArmError(400, "NotFound", f"Resource {nic['id']} was not found.")
            other = (n["properties"].get("virtualMachine") or {}).get("id", "")
            if other and other.lower() != key:
                raise ArmError(400, "NicInUse", f"Network interface {nic['id']} is used by {other}")
        if key in self.resources:  # an update: only tags change here
            res = self.resources[key]
            res["tags"] = body.get("tags") or {}
            return 200, self._view(res), {"Azure-AsyncOperation": self._new_op("Succeeded"), "Retry-After": 0}
        self._check_vm_reservation(body)
        props["provisioningState"] = "Creating"
        props["vmId"] = str(uuid.uuid4())
        props["timeCreated"] = "2026-12-01T00:00:00Z"
        os_disk = props.setdefault("storageProfile", {}).setdefault("osDisk", {})
        os_disk.setdefault("name", f"{name}_OsDisk_1_{uuid.uuid4().hex[:8]}")
        disk_id = rid.rsplit("/providers/", 1)[0] + f"/providers/Microsoft.Compute/disks/{os_disk['name']}"
        os_disk["managedDisk"] = {**(os_disk.get("managedDisk") or {}), "id": disk_id}
        res = {"id": rid, "name": name, "type": "Microsoft.Compute/virtualMachines", "location": body.get("location"),
               "tags": body.get("tags") or {}, "properties": props, "_power": "starting"}
        if body.get("zones"):
            res["zones"] = body["zones"]
        self.resources[key] = res
        self.resources[disk_id.lower()] = {"id": disk_id, "name": os_disk["name"], "type": "Microsoft.Compute/disks",
                                           "location": body.get("location"), "tags": {},
                                           "properties": {"provisioningState": "Succeeded"}}
        for nic in (props.get("networkProfile") or {}).get("networkInterfaces") or []:
            self.resources[nic["id"].lower()]["properties"]["virtualMachine"] = {"id": rid}
        fault = self._async_fault(body)
        op = self._new_op("Failed" if fault else "Succeeded", vm=key,
                          error={"code": fault["code"], "message": fault.get("message", fault["code"])} if fault else None)
        return 201, self._view(res), {"Azure-AsyncOperation": op, "Retry-After": 0}

    def _action(self, method: str, rid: str, action: str, query: dict):
        key = rid.lower()
        res = self.resources.get(key)
        if res is None:
            raise ArmError(404, "ResourceNotFound", f"The Resource '{rid}' was not found.")
        a = action.lower()
        if a == "instanceview" and method == "GET":
            return 200, _instance_view(res), {}
        if method != "POST":
            raise ArmError(405, "MethodNotAllowed", method)
        if a == "start":
            res["_power"] = "running"
            res.pop("_evicted", None)
        elif a == "deallocate":
            res["_power"] = "deallocated"
        elif a == "poweroff":
            res["_power"] = "stopped"
        elif a == "retrievebootdiagnosticsdata":
            return 200, {"consoleScreenshotBlobUri": f"{self.url}/_blobs/{key}.bmp",
                         "serialConsoleLogBlobUri": f"{self.url}/_blobs{key}"}, {}
        else:
            raise ArmError(404, "InvalidAction", action)
        return self._accepted_async()

    def _list(self, rg: str | None, query: dict):
        if query.get("$expand") == "instanceView" and not query.get("$filter"):
            raise ArmError(400, "InvalidParameter", "The $expand=instanceView option can only be specified "
                                                     "together with a valid $filter option.")
        items = [r for k, r in sorted(self.resources.items())
                 if r["type"].lower() == VM and (rg is None or _rg_of(k) == rg.lower())]
        with_view = query.get("statusOnly") == "true"
        start = int(query.get("$skiptoken") or 0)
        page = items[start:start + self.page_size]
        out: dict[str, Any] = {"value": [self._view(r, with_view) for r in page]}
        if start + self.page_size < len(items):
            q = {k: v for k, v in query.items() if k != "$skiptoken"}
            q["$skiptoken"] = str(start + self.page_size)
            base = (f"/subscriptions/{self.subscription}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines"
                    if rg else f"/subscriptions/{self.subscription}/providers/Microsoft.Compute/virtualMachines")
            out["nextLink"] = f"{self.url}{base}?{urllib.parse.urlencode(q)}"
        return 200, out, {}

    # -- long-running operations ------------------------------------------------------------------
    def _new_op(self, final: str, vm: str | None = None, error: dict | None = None) -> str:
        oid = uuid.uuid4().hex
        self.operations[oid] = {"polls": 0, "final": final, "vm": vm, "error": error}
        return f"{self.url}/_operations/{oid}"

    def _accepted_async(self):
        return 202, None, {"Azure-AsyncOperation": self._new_op("Succeeded"), "Retry-After": 0}

    def _accepted_location(self, final: str):
        return 202, None, {"Location": self._new_op(final), "Retry-After": 0}

    def _operation(self, oid: str):
        op = self.operations.get(oid)
        if op is None:
            raise ArmError(404, "NotFound", "no such operation")
        op["polls"] += 1
        if op["polls"] < 2:
            return 200, {"status": "InProgress"}, {"Retry-After": 0}
        vm = self.resources.get(op["vm"]) if op["vm"] else None
        if vm is not None and vm["properties"]["provisioningState"] == "Creating":
            vm["properties"]["provisioningState"] = op["final"]
            vm["_power"] = "running" if op["final"] == "Succeeded" else "stopped"
        out: dict[str, Any] = {"status": op["final"], "name": oid}
        if op["error"]:
            out["error"] = op["error"]
        return 200, out, {}

    def _view(self, res: dict, with_view: bool = False) -> dict:
        out = {k: json.loads(json.dumps(v)) for k, v in res.items() if not k.startswith("_")}
        (out.get("properties") or {}).get("osProfile", {}).pop("adminPassword", None)  # never returned by ARM
        if with_view and res["type"].lower() == VM:
            out["properties"]["instanceView"] = _instance_view(res)
        return out



def _rg_of(lower_id: str) -> str:
    parts = lower_id.split("/")
    return parts[4] if len(parts) > 4 else ""


def _instance_view(res: dict) -> dict:
    power = res.get("_power", "running")
    return {"statuses": [
        {"code": f"ProvisioningState/{res['properties'].get('provisioningState', 'Succeeded').lower()}",
         "level": "Info"},
        {"code": f"PowerState/{power}", "level": "Info"}]}

"""Capacity reservation groups and capacity reservations in the ARM emulator.

The shapes are Resource Manager's (``Microsoft.Compute/capacityReservationGroups``
and its child ``capacityReservations``):

- group PUT (synchronous), GET (``properties.capacityReservations`` and
  ``virtualMachinesAssociated`` as id lists), DELETE (long-running; refused while
  the group still holds a reservation or a VM), list per resource group and per
  subscription;
- reservation PUT (long-running: ``Creating`` -> ``Succeeded``; ``sku.name`` the
  VM size, ``sku.capacity`` the count, ``zones`` optional but within the group's),
  GET with ``$expand=instanceView`` giving ``utilizationInfo.currentCapacity`` and
  ``virtualMachinesAllocated``, DELETE (long-running; refused while VMs use it).

A VM created with ``properties.capacityReservation.capacityReservationGroup.id``
needs the group and a reservation of its size (and zone, for a zonal one) in it.
It counts against that reservation while it is allocated (not deallocated); as
on Azure, VMs beyond the reserved count may still associate (overallocation) and
are simply not among ``virtualMachinesAllocated``. Callers hold ``self.lock``.
"""

from __future__ import annotations

import uuid
from typing import Any

GROUP = "microsoft.compute/capacityreservationgroups"
RESERVATION = "microsoft.compute/capacityreservationgroups/capacityreservations"


def _error(status: int, code: str, message: str):
    from tests.providers.arm_resources import ArmError

    return ArmError(status, code, message)


class ArmReservations:
    subscription: str
    resources: dict[str, dict]

    # -- helpers used by tests ------------------------------------------------------------------
    def add_reservation(self, resource_group: str, group: str, *, size: str, count: int, region: str = "eastus",
                        zone: str | None = None) -> str:
        """A group with one reservation made outside skyplan (to be brought); its ARM id."""
        with self.lock:
            self.groups.setdefault(resource_group.lower(), {
                "id": f"/subscriptions/{self.subscription}/resourceGroups/{resource_group}", "name": resource_group,
                "type": "Microsoft.Resources/resourceGroups", "location": region, "tags": {},
                "properties": {"provisioningState": "Succeeded"}})
            gid = self._group_id(resource_group, group)
            self.resources[gid.lower()] = {"id": gid, "name": group, "type": "Microsoft.Compute/capacityReservationGroups",
                                           "location": region, "tags": {}, "properties": {},
                                           **({"zones": [zone]} if zone else {})}
            self.resources[f"{gid}/capacityReservations/{group}-cr".lower()] = self._reservation_of(
                gid, f"{group}-cr", {"location": region, "sku": {"name": size, "capacity": count},
                                     **({"zones": [zone]} if zone else {})}, "Succeeded")
            return gid

    def reservation_usage(self, group_id: str) -> dict:
        """{"capacity", "allocated", "associated"} summed over the group's reservations."""
        with self.lock:
            rs = self._members(group_id.lower())
            return {"capacity": sum(int(r["sku"]["capacity"]) for r in rs),
                    "allocated": sum(len(self._allocated(r)) for r in rs),
                    "associated": len(self._associated(group_id.lower()))}

    def delete_reservation_behind_back(self, group_id: str) -> None:
        """Someone deletes the group's reservations in the portal."""
        with self.lock:
            for r in self._members(group_id.lower()):
                self.resources.pop(r["id"].lower(), None)

    # -- routing (from ArmResources._route) -----------------------------------------------------
    def _reservation_route(self, method: str, rg: str, group: str | None, child: str | None, name: str | None,
                           query: dict, body: Any):
        if group is None:
            if method != "GET":
                raise _error(405, "MethodNotAllowed", method)
            return 200, {"value": [self._group_view(r) for k, r in sorted(self.resources.items())
                                   if r["type"].lower() == GROUP and k.split("/")[4] == rg.lower()]}, {}
        gid = self._group_id(rg, group)
        if child is None:
            return self._crg(method, gid, group, body)
        if gid.lower() not in self.resources:
            raise _error(404, "ResourceNotFound", f"The Resource 'Microsoft.Compute/capacityReservationGroups/"
                                                  f"{group}' under resource group '{rg}' was not found.")
        if name is None:
            return 200, {"value": [self._reservation_view(r, False) for r in self._members(gid.lower())]}, {}
        return self._crg_reservation(method, gid, name, body, query)

    def _subscription_groups(self, query: dict):
        return 200, {"value": [self._group_view(r) for _, r in sorted(self.resources.items())
                               if r["type"].lower() == GROUP]}, {}

    def _crg(self, method: str, gid: str, name: str, body: Any):
        key = gid.lower()
        if method == "GET":
            if key not in self.resources:
                raise _error(404, "ResourceNotFound", f"The Resource 'Microsoft.Compute/capacityReservationGroups/"
                                                      f"{name}' was not found.")
            return 200, self._group_view(self.resources[key]), {}
        if method == "PUT":
            existed = key in self.resources
            res = self.resources.get(key) or {"id": gid, "name": name,
                                              "type": "Microsoft.Compute/capacityReservationGroups", "properties": {}}
            res.update(location=(body or {}).get("location"), tags=(body or {}).get("tags") or {})
            if (body or {}).get("zones"):
                res["zones"] = list(body["zones"])
            self.resources[key] = res
            return (200 if existed else 201), self._group_view(res), {}
        if method == "DELETE":
            if key not in self.resources:
                return 204, None, {}
            if self._members(key) or self._associated(key):
                raise _error(409, "OperationNotAllowed", "The capacity reservation group can only be deleted once "
                                                         "every capacity reservation in it is deleted and every "
                                                         "virtual machine is disassociated from it.")
            del self.resources[key]
            return self._accepted_async()
        raise _error(405, "MethodNotAllowed", method)

    def _crg_reservation(self, method: str, gid: str, name: str, body: Any, query: dict):
        rid = f"{gid}/capacityReservations/{name}"
        key = rid.lower()
        if method == "GET":
            if key not in self.resources:
                raise _error(404, "ResourceNotFound", f"The Resource 'Microsoft.Compute/capacityReservationGroups/"
                                                      f"capacityReservations/{name}' was not found.")
            return 200, self._reservation_view(self.resources[key], query.get("$expand") == "instanceView"), {}
        if method == "PUT":
            body = body or {}
            sku = body.get("sku") or {}
            if not sku.get("name") or int(sku.get("capacity") or 0) < 0:
                raise _error(400, "InvalidParameter", "sku.name and sku.capacity are required.")
            group_zones = self.resources[gid.lower()].get("zones") or []
            if body.get("zones") and not set(body["zones"]) <= set(group_zones):
                raise _error(400, "InvalidParameter", f"The zones {body['zones']} of the capacity reservation "
                                                      f"are not within the zones {group_zones} of its group.")
            existed = key in self.resources
            self.resources[key] = self._reservation_of(gid, name, body, "Creating")
            op = self._new_op("Succeeded", vm=key)
            return (200 if existed else 201), self._reservation_view(self.resources[key], False), {
                "Azure-AsyncOperation": op, "Retry-After": 0}
        if method == "DELETE":
            if key not in self.resources:
                return 204, None, {}
            if self._allocated(self.resources[key]):
                raise _error(409, "OperationNotAllowed", "The capacity reservation cannot be deleted while virtual "
                                                         "machines are allocated against it.")
            del self.resources[key]
            return self._accepted_async()
        raise _error(405, "MethodNotAllowed", method)

    # -- VMs ------------------------------------------------------------------------------------
    def _check_vm_reservation(self, body: dict) -> None:
        """A VM naming a group needs a reservation of its size (and zone) there."""
        props = body.get("properties") or {}
        gid = str(((props.get("capacityReservation") or {}).get("capacityReservationGroup") or {}).get("id") or "")
        if not gid:
            return
        if gid.lower() not in self.resources:
            raise _error(404, "NotFound", f"The capacity reservation group '{gid}' was not found.")
        size = (props.get("hardwareProfile") or {}).get("vmSize")
        zones = body.get("zones") or []
        if not any(r["sku"]["name"] == size and self._zone_fits(r, zones) for r in self._members(gid.lower())):
            raise _error(400, "InvalidParameter", f"The capacity reservation group '{gid}' holds no capacity "
                                                  f"reservation for VM size {size} in zone(s) {zones or 'none'}.")

    # -- counts ---------------------------------------------------------------------------------
    @staticmethod
    def _zone_fits(reservation: dict, zones: list) -> bool:
        rz = reservation.get("zones") or []
        return list(rz) == list(zones) if rz else not zones

    def _members(self, gkey: str) -> list[dict]:
        prefix = gkey + "/capacityreservations/"
        return [r for k, r in sorted(self.resources.items()) if k.startswith(prefix) and "/" not in k[len(prefix):]]

    def _associated(self, gkey: str) -> list[dict]:
        return [r for r in self.resources.values() if r["type"].lower() == "microsoft.compute/virtualmachines"
                and str((((r["properties"].get("capacityReservation") or {}).get("capacityReservationGroup")
                          or {}).get("id") or "")).lower() == gkey]

    def _allocated(self, reservation: dict) -> list[dict]:
        """The VMs counted against ``reservation``: allocated ones of its size and zone, in
        creation order, up to its capacity (those beyond are overallocated)."""
        gkey = reservation["id"].lower().rsplit("/capacityreservations/", 1)[0]
        using = [vm for vm in self._associated(gkey)
                 if vm["properties"].get("hardwareProfile", {}).get("vmSize") == reservation["sku"]["name"]
                 and self._zone_fits(reservation, vm.get("zones") or [])
                 and vm.get("_power") != "deallocated" and vm["properties"].get("provisioningState") != "Failed"]
        return using[:int(reservation["sku"]["capacity"])]

    # -- shapes ---------------------------------------------------------------------------------
    def _group_id(self, rg: str, name: str) -> str:
        return f"/subscriptions/{self.subscription}/resourceGroups/{rg}/providers/Microsoft.Compute/" \
               f"capacityReservationGroups/{name}"

    @staticmethod
    def _reservation_of(gid: str, name: str, body: dict, state: str) -> dict:
        res = {"id": f"{gid}/capacityReservations/{name}", "name": name,
               "type": "Microsoft.Compute/capacityReservationGroups/capacityReservations",
               "location": body.get("location"), "tags": body.get("tags") or {},
               "sku": {"name": body["sku"]["name"], "capacity": int(body["sku"]["capacity"])},
               "properties": {"provisioningState": state, "reservationId": str(uuid.uuid5(uuid.NAMESPACE_URL, gid + name)),
                              "platformFaultDomainCount": 1, "timeCreated": "2026-12-01T00:00:00Z"}}
        if body.get("zones"):
            res["zones"] = list(body["zones"])
        return res

    def _group_view(self, res: dict) -> dict:
        key = res["id"].lower()
        out = {k: v for k, v in res.items() if not k.startswith("_")}
        out["properties"] = {**res.get("properties", {}),
                             "capacityReservations": [{"id": r["id"]} for r in self._members(key)],
                             "virtualMachinesAssociated": [{"id": vm["id"]} for vm in self._associated(key)]}
        return out

    def _reservation_view(self, res: dict, with_view: bool) -> dict:
        out = {k: v for k, v in res.items() if not k.startswith("_")}
        props = dict(res["properties"])
        gkey = res["id"].lower().rsplit("/capacityreservations/", 1)[0]
        props["virtualMachinesAssociated"] = [
            {"id": vm["id"]} for vm in self._associated(gkey)
            if vm["properties"].get("hardwareProfile", {}).get("vmSize") == res["sku"]["name"]]
        if with_view:
            state = props["provisioningState"]
            props["instanceView"] = {
                "utilizationInfo": {"currentCapacity": int(res["sku"]["capacity"]) if state == "Succeeded" else 0,
                                    "virtualMachinesAllocated": [{"id": vm["id"]} for vm in self._allocated(res)]},
                "statuses": [{"code": f"ProvisioningState/{state.lower()}", "level": "Info"}]}
        out["properties"] = props
        return out

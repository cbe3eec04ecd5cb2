"""Compute Engine specific reservations for the emulator (``GceReservations`` is
mixed into ``GceEmulator``), in the REST shapes google-cloud-compute sends and
reads: ``reservations.insert`` / ``get`` / ``delete`` (zone operations) and
``reservations.aggregatedList``. A reservation keeps ``specificReservation.count``
instances of one machine type; ``inUseCount`` is counted live from the
instances inserted with ``reservationAffinity`` SPECIFIC_RESERVATION naming it
that are not stopped. An insert naming a reservation that does not exist, is
not READY, is of another machine type, or is full is refused.
"""

from __future__ import annotations

import re

from tests.providers.gce_rules import NAME, ApiError, numeric_id, now, zone_url

ROUTES = [
    ("POST", r"/projects/(?P<p>[^/]+)/zones/(?P<z>[^/]+)/reservations", "reservations.insert"),
    ("GET", r"/projects/(?P<p>[^/]+)/zones/(?P<z>[^/]+)/reservations/(?P<n>[^/]+)", "reservations.get"),
    ("DELETE", r"/projects/(?P<p>[^/]+)/zones/(?P<z>[^/]+)/reservations/(?P<n>[^/]+)", "reservations.delete"),
    ("GET", r"/projects/(?P<p>[^/]+)/aggregated/reservations", "reservations.aggregatedList"),
]
AFFINITY_KEY = "compute.googleapis.com/reservation-name"


class GceReservations:
    """The reservation half of the emulator; needs ``self.reservations`` (dict) and ``self.instances``."""

    def reservation(self, project: str, zone: str, name: str) -> dict:
        """The reservation as a ``get`` returns it (for tests)."""
        with self.lock:
            return self._shown(self.reservations[(project, zone, name)])

    def add_reservation(self, project: str, zone: str, name: str, machine_type: str, count: int) -> None:
        """A reservation made outside skyplan (to be brought with ``existing = true``)."""
        with self.lock:
            self.reservations[(project, zone, name)] = self._new_reservation(project, zone, {
                "name": name, "specificReservationRequired": True,
                "specificReservation": {"count": str(count), "instanceProperties": {"machineType": machine_type}}},
                status="READY")

    def drop_reservation(self, project: str, zone: str, name: str) -> None:
        """Delete a reservation behind skyplan's back."""
        with self.lock:
            self.reservations.pop((project, zone, name), None)

    def _new_reservation(self, project: str, zone: str, body: dict, status: str = "CREATING") -> dict:
        name = body.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            raise ApiError(400, "invalid", f"Invalid value for field 'resource.name': '{name}'.")
        spec = dict(body.get("specificReservation") or {})
        props = dict(spec.get("instanceProperties") or {})
        if not props.get("machineType") or int(spec.get("count") or 0) < 1:
            raise ApiError(400, "invalid", "Invalid value for field 'resource.specificReservation': a machine type "
                                           "and a count of at least 1 are required.")
        return {**body, "kind": "compute#reservation", "id": numeric_id(), "creationTimestamp": now(),
                "zone": zone_url(project, zone), "selfLink": f"{zone_url(project, zone)}/reservations/{name}",
                "status": status, "specificReservation": {**spec, "instanceProperties": props,
                                                          "count": str(int(spec["count"]))}}

    def _in_use(self, project: str, zone: str, name: str) -> int:
        return sum(1 for (p, z, _), i in self.instances.items() if p == project and z == zone
                   and i.get("status") not in ("TERMINATED", "STOPPING", "STOPPED")
                   and reserved_name(i) == name)

    def _shown(self, r: dict) -> dict:
        project = r["selfLink"].split("/projects/")[1].split("/")[0]
        zone = r["zone"].rsplit("/", 1)[-1]
        spec = dict(r["specificReservation"], inUseCount=str(self._in_use(project, zone, r["name"])))
        return {**r, "specificReservation": spec}

    def check_affinity(self, project: str, zone: str, body: dict) -> None:
        """Refuse an instance insert that names a reservation it cannot use."""
        name = reserved_name(body)
        if name is None:
            return
        r = self.reservations.get((project, zone, name))
        if r is None:
            raise ApiError(400, "invalid", f"Could not find the given reservation with the following name: {name}")
        if r["status"] != "READY":
            raise ApiError(400, "invalid", f"Reservation {name} is in {r['status']} state; it requires reservation "
                                           "to be in READY state")
        machine = str(body.get("machineType") or "").rsplit("/", 1)[-1]
        if machine != r["specificReservation"]["instanceProperties"]["machineType"]:
            raise ApiError(400, "invalid", f"The machine type {machine} does not match the machine type of "
                                           f"reservation {name}")
        if self._in_use(project, zone, name) >= int(r["specificReservation"]["count"]):
            raise ApiError(400, "invalid", f"Specific reservation {name} does not have enough resources for "
                                           "the request")

    # -- handlers (dispatched by name) ----------------------------------------------------------------
    def _reservations_insert(self, args, query, body, fault):
        project, zone = args["p"], args["z"]
        rid = query.get("requestId")
        if rid and rid in self.request_ids:
            return self.operations[self.request_ids[rid]]
        key = (project, zone, str(body.get("name")))
        if key in self.reservations:
            raise ApiError(409, "alreadyExists",
                           f"The resource 'projects/{project}/zones/{zone}/reservations/{key[2]}' already exists")
        r = self._new_reservation(project, zone, body)
        self.reservations[key] = r
        self.zones_seen.add((project, zone))
        op = self._start(project, zone, "insert", None, "reserve", target_name=key[2])
        op["targetLink"] = r["selfLink"]
        if rid:
            self.request_ids[rid] = (project, zone, op["name"])
        return op

    def _reservations_get(self, args, query, body, fault):
        r = self.reservations.get((args["p"], args["z"], args["n"]))
        if r is None:
            raise ApiError(404, "notFound", f"The resource 'projects/{args['p']}/zones/{args['z']}/reservations/"
                                            f"{args['n']}' was not found")
        return self._shown(r)

    def _reservations_delete(self, args, query, body, fault):
        r = self._reservations_get(args, query, body, fault)
        self.reservations[(args["p"], args["z"], args["n"])]["status"] = "DELETING"
        op = self._start(args["p"], args["z"], "delete", None, "unreserve", target_name=args["n"])
        op["targetLink"] = r["selfLink"]
        return op

    def _reservations_aggregatedList(self, args, query, body, fault):
        found = [(z, self._shown(r)) for (p, z, _), r in sorted(self.reservations.items()) if p == args["p"]]
        return self._aggregated(args["p"], found, query, "compute#reservationAggregatedList", "reservations")

    def finish_reservation(self, effect: str, project: str, zone: str, name: str) -> None:
        if effect == "reserve" and (project, zone, name) in self.reservations:
            self.reservations[(project, zone, name)]["status"] = "READY"
        elif effect == "unreserve":
            self.reservations.pop((project, zone, name), None)


def reserved_name(resource: dict) -> str | None:
    aff = resource.get("reservationAffinity") or {}
    if aff.get("consumeReservationType") != "SPECIFIC_RESERVATION":
        return None
    values = aff.get("values") or []
    if aff.get("key") != AFFINITY_KEY or not values:
        raise ApiError(400, "invalid", "A SPECIFIC_RESERVATION affinity needs key "
                                       f"'{AFFINITY_KEY}' and the reservation name in values")
    return re.sub(r"^.*/reservations/", "", str(values[0]))

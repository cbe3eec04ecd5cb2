"""Live free capacity of the fleets that are cloud reservations, read at refresh.

The solver packs workloads onto a reservation only as far as it is really free.
For each fleet backed by a reservation — brought (``existing = true,
reservation_id``) or provisioned earlier and still in state — the fleet's
provider describes it (``SupportsReservations.describe_reservation``; AWS:
``describe_capacity_reservations``) and the fleet handed to the solver says:

- where the reserved instances are and their type (``region``, ``zone``,
  ``instance_type``), with the per-instance resources from the catalog offer of
  that type;
- how many instances workloads may take: ``AvailableInstanceCount`` plus the
  instances of this state's own workloads that run in it now (the plan places
  those again, so their slots are theirs to keep). A reservation that is not
  ``active`` (cancelled, expired) holds nothing;
- for a brought Capacity Block, the hours it still holds its instances
  (``hours_left``): only workloads whose duration fits go onto it. A block
  that has not started yet (``scheduled``) holds all its instances from its
  start (``starts_at``): a workload placed on it waits for it, unless its
  ``start_by`` is earlier (then the solver places it elsewhere). The same
  holds for a block skyplan bought that has not started, and for one to buy
  whose ``start`` is later than now.

A Capacity Block to buy (provisioned, not in state) is priced by what the
cloud sells now: its provider's ``block_offerings``
(``SupportsBlockOfferings``; AWS: ``describe_capacity_block_offerings``) for
each instance type of the catalog that fits the fleet, ``nodes`` instances for
``duration_hours`` from its ``start``. The fleet handed to the solver carries
the offerings (``offerings``): the solver prices the block by the cheapest
offering of each zone and type (as apply buys), its upfront fee once, and its
workloads wait for that offering's start (a workload's ``start_by`` is held
against the latest start among the offerings: the block is never promised
earlier than one it could be bought from). A block no offering sells has none,
and the plan says so; without provider access (``plan -refresh=false``)
or with credentials not allowed to read offerings, offerings stay None and
the plan prices the block at the list price, saying it is an estimate.

A brought reservation the cloud does not know is an error naming the fleet. A
provisioned one that is gone is not handled here: refresh already reports the
fleet ``missing`` and the plan makes a new one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Mapping, Sequence

from skyplan.catalog.offer import Offer
from skyplan.config.model import Fleet, FleetCapacity
from skyplan.errors import AuthError, ProviderError
from skyplan.providers.base import Provider, ReservationInfo, SupportsBlockOfferings, SupportsReservations
from skyplan.state.model import Snapshot

HOLDING = ("pending", "running")  # instance states that take a reserved slot


def reservation_of_record(snapshot: Snapshot, address: str) -> str | None:
    rec = snapshot.resources.get(address)
    if rec is None or rec.tainted:
        return None
    for grp in rec.groups:
        for inst in grp.instances:
            if inst.attributes.get("reservation"):
                return inst.id
    return None


def own_use(snapshot: Snapshot, reservation_id: str) -> int:
    """Instances of this state's workloads running in ``reservation_id`` now."""
    return sum(1 for rec in snapshot.resources.values() for grp in rec.groups for inst in grp.instances
               if inst.attributes.get("capacity_reservation_id") == reservation_id and inst.state in HOLDING)


def live_fleets(fleets: Mapping[str, Fleet], snapshot: Snapshot, providers: Mapping[str, Provider],
                offers: Mapping[str, Sequence[Offer]]) -> dict[str, Fleet]:
    """``fleets`` with what their reservations hold now (see the module docstring).

    Raises ProviderError when a brought reservation does not exist, or when a
    provider cannot be read (nothing is assumed free on the strength of an error)."""
    out = dict(fleets)
    for address, fleet in sorted(fleets.items()):
        brought = fleet.existing and fleet.reservation_id
        rid = fleet.reservation_id if brought else (
            reservation_of_record(snapshot, address) if fleet.reservation else None)
        prov = providers.get(fleet.provider or "")
        if not rid or not isinstance(prov, SupportsReservations):
            continue
        info = prov.describe_reservation(rid)
        if brought:
            if info is None:
                raise ProviderError(
                    f"{address}: provider {fleet.provider} has no capacity reservation {rid}",
                    provider=fleet.provider or "",
                    hint="check reservation_id (and the provider's regions), or drop the fleet")
            out[address] = _brought(fleet, info, snapshot, offers.get(fleet.provider or "", ()))
        elif info is not None and info.usable and info.total == fleet.nodes:
            out[address] = replace(fleet, free_nodes=info.available + own_use(snapshot, info.id),
                                   instance_type=info.instance_type, zone=info.zone)
        elif info is not None and info.total == fleet.nodes and later_start(info):
            out[address] = replace(fleet, free_nodes=info.total, instance_type=info.instance_type,
                                   zone=info.zone, starts_at=later_start(info))
    return out


def to_buy(fleet: Fleet, snapshot: Snapshot, address: str) -> bool:
    """Whether ``fleet`` is a Capacity Block this plan would buy (none in state yet)."""
    return (fleet.reservation == "capacity_block" and not fleet.existing and bool(fleet.duration_hours)
            and reservation_of_record(snapshot, address) is None)


def quoted_blocks(fleets: Mapping[str, Fleet], snapshot: Snapshot, providers: Mapping[str, Provider],
                  offers: Mapping[str, Sequence[Offer]], now: dt.datetime | None = None) -> dict[str, Fleet]:
    """``fleets`` with the offerings of each Capacity Block to buy (module docstring)."""
    from skyplan.solver.items import hardware_fits

    out = dict(fleets)
    for address, fleet in sorted(fleets.items()):
        prov = providers.get(fleet.provider or "")
        if not to_buy(fleet, snapshot, address) or not isinstance(prov, SupportsBlockOfferings):
            continue
        kinds = sorted({(o.region, o.instance_type) for o in offers.get(fleet.provider or "", ())
                        if hardware_fits(o, fleet.resources) and (not fleet.region or o.region == fleet.region)})
        try:
            quotes = tuple(q for region, itype in kinds for q in prov.block_offerings(
                region, itype, max(1, int(fleet.nodes or 1)), float(fleet.duration_hours), fleet.start))
        except AuthError:
            continue  # not allowed to read them: priced at the list price, which the plan calls an estimate
        after = now or dt.datetime.now(dt.timezone.utc)  # read after asking: "now" is when the cloud answered
        quotes = tuple(replace(q, later=_parse(q.starts_at) > after) for q in quotes)
        starts = [q.starts_at for q in quotes if q.later]
        out[address] = replace(fleet, offerings=quotes,
                               starts_at=max(starts, key=_parse) if starts else None)
    return out


def later_start(info: ReservationInfo, now: dt.datetime | None = None) -> str | None:
    """When a scheduled Capacity Block starts, if that is after ``now``; else None."""
    if info.kind != "capacity-block" or info.state != "scheduled" or not info.start_date:
        return None
    now = now or dt.datetime.now(dt.timezone.utc)
    return info.start_date if _parse(info.start_date) > now else None


def planned_starts(fleets: Mapping[str, Fleet], snapshot: Snapshot,
                   now: dt.datetime | None = None) -> dict[str, Fleet]:
    """``fleets`` where a Capacity Block to buy (not in state) has a ``start`` after
    ``now``: its workloads wait for that start (``starts_at``)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    out = dict(fleets)
    for address, fleet in fleets.items():
        if (fleet.reservation == "capacity_block" and not fleet.existing and fleet.start and not fleet.starts_at
                and reservation_of_record(snapshot, address) is None and _parse(fleet.start) > now):
            out[address] = replace(fleet, starts_at=fleet.start)
    return out


def hours_left(info: ReservationInfo, now: dt.datetime | None = None) -> float | None:
    """Hours a Capacity Block still holds its instances (from now, or its start
    if later, to its end); None for reservations without an end bound."""
    if info.kind != "capacity-block" or not info.end_date:
        return None
    now = now or dt.datetime.now(dt.timezone.utc)
    start = _parse(info.start_date) if info.start_date else now
    return max(0.0, (_parse(info.end_date) - max(now, start)).total_seconds() / 3600.0)


def _parse(text: str) -> dt.datetime:
    t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def _brought(fleet: Fleet, info: ReservationInfo, snapshot: Snapshot, offers: Sequence[Offer]) -> Fleet:
    starts = later_start(info)
    free = info.available + own_use(snapshot, info.id) if info.usable else (info.total if starts else 0)
    state = info.state
    if info.kind == "capacity-block" and state == "scheduled" and info.start_date:
        state = f"scheduled: the block starts {info.start_date}"
    offer = next((o for o in offers if o.instance_type == info.instance_type and o.region == info.region), None) \
        or next((o for o in offers if o.instance_type == info.instance_type), None)
    cap = FleetCapacity(offer.accelerator if offer else None, offer.accelerator_count if offer else 0, free,
                        offer.vcpus if offer else None, offer.memory_gib if offer else None)
    return replace(fleet, capacity=(cap,), region=info.region, zone=info.zone, instance_type=info.instance_type,
                   reservation_state=state, reservation_id=info.id,  # the cloud's own spelling of the id
                   hours_left=hours_left(info), starts_at=starts)

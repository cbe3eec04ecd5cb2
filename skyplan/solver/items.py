"""Items and options: what the solver places, and the ways each can run.

An *item* is one workload instance or one provisioned fleet: ``groups`` replica
groups of ``nodes`` nodes each. An *option* is one way to run one group: an
offer at one pricing model on one provider key, or a slot on a fleet. Options
are built once per distinct requirement signature, so ten thousand identical
workloads share one look-up (skyplan.solver.candidates finds them).
"""

from __future__ import annotations

import fnmatch
from dataclasses import MISSING, dataclass, fields
from typing import Sequence

from skyplan.catalog.offer import Offer
from skyplan.config.model import Fleet, PlacementSpec, Resources, Workload

SERVICE_HOURS = 730.0  # a month of a long-running service
DEFAULT_JOB_HOURS = 1.0  # a job that declares no duration_hours is costed for one hour
FLEET_HOURS = SERVICE_HOURS
# A service with ``spot { fallback_on_demand = true }`` runs a preempted spot replica on
# on-demand until the zone it was lost in is tried again; each interruption is costed
# as this many hours at the offer's on-demand price instead of its spot price.
FALLBACK_HOURS = 6.0


@dataclass(frozen=True)
class Item:
    address: str
    kind: str  # job | service | fleet
    resources: Resources
    nodes: int
    groups: int
    pricing: tuple[str, ...]
    hours: float
    max_hourly_cost: float | None
    placement: PlacementSpec
    data_gb: float = 0.0
    depends_on: tuple[str, ...] = ()
    spot_base: int | None = None  # a spot block's on-demand replicas (None: no spot block)
    spot_fallback: bool = False  # its fallback_on_demand
    in_fallback: bool = False  # spot was lost lately (blocked scopes): no new spot replica
    start_by: str | None = None  # RFC 3339: a Capacity Block starting later is not waited for
    late_fleet: str | None = None  # the fleet it names, dropped because its block starts after start_by
    # a job Uniform Progress paces between spot and on-demand: its placement carries the
    # on-demand $/h a deadline switch may reach; not started yet, the hours to its deadline
    # (spot is then costed with the on-demand hours the policy is expected to need, ``group_cost``)
    paced: bool = False
    window: float | None = None
    changeover: float = 0.0

    @property
    def spot_split(self) -> bool:
        """Whether the model counts this item's groups on spot apart from the rest."""
        return self.spot_base is not None

    @classmethod
    def of_workload(cls, w: Workload, in_fallback: bool = False, window: float | None = None) -> "Item":
        """``window``: hours to the deadline of a job not started yet (``SolveOptions.windows``);
        it counts only for a job Uniform Progress paces between spot and on-demand."""
        hours = SERVICE_HOURS if w.kind == "service" else float(w.duration_hours or DEFAULT_JOB_HOURS)
        if w.kind == "service" and w.duration_hours:
            hours = float(w.duration_hours)
        spot = w.spot if w.kind == "service" else None
        return cls(str(w.address), w.kind, w.resources, max(1, int(w.num_nodes)), max(1, int(w.replicas)),
                   tuple(w.pricing) or ("on_demand",), hours, w.max_hourly_cost, w.placement,
                   float(w.data_gb or 0.0), tuple(str(d) for d in w.depends_on),
                   spot_base=spot.base_on_demand_replicas if spot is not None else None,
                   spot_fallback=bool(spot is not None and spot.fallback_on_demand),
                   in_fallback=bool(spot is not None and spot.fallback_on_demand and in_fallback),
                   start_by=w.start_by, **paced(w, window))

    @classmethod
    def of_fleet(cls, f: Fleet) -> "Item":
        placement = f.placement
        if f.provider and not placement.providers:
            from dataclasses import replace

            placement = replace(placement, providers=(f.provider,))
        if f.region and not placement.regions:
            from dataclasses import replace

            placement = replace(placement, regions=(f.region,))
        return cls(str(f.address), "fleet", f.resources, max(1, int(f.nodes or 1)), 1,
                   tuple(f.pricing) or ("reserved",), float(f.duration_hours or FLEET_HOURS), None, placement,
                   0.0, tuple(str(d) for d in f.depends_on))


def paced(w: Workload, window: float | None) -> dict:
    """The ``paced``/``window``/``changeover`` fields of a job Uniform Progress paces, else none."""
    spec = w.deadline
    if (spec is None or not spec.has_deadline or spec.strategy != "uniform_progress" or w.kind != "job"
            or not {"spot", "on_demand"} <= set(w.pricing)):
        return {}
    from skyplan.deadline.expected import rounded

    return {"paced": True, "window": None if window is None else rounded(window),
            "changeover": float(spec.changeover_hours)}


class cached_property:  # noqa: N801 - functools' has a lock per first read, which shows at 10^5 options
    """A value computed on first read and kept on the instance."""

    def __init__(self, func):
        self.func, self.name = func, func.__name__

    def __get__(self, obj, cls=None):
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.func(obj)
        return value


@dataclass(frozen=True)
class Option:
    """One way to run one group of an item."""

    provider: str  # provider key
    kind: str  # provider kind
    region: str
    zone: str | None
    instance_type: str
    pricing: str
    price: float  # per node, $/h
    nodes: int
    group_hourly: float  # price * nodes
    group_cost: float  # expected cost of one group over the item's hours
    offer: Offer | None = None
    fleet: str | None = None
    fleet_entry: int = -1
    accelerators: str | None = None
    vcpus: float = 0.0
    memory_gib: float = 0.0
    reservation: str | None = None  # a fleet's cloud reservation, when known at plan time
    fleet_node: int = -1  # exact fleet packing: the (first) fleet node the group is packed onto
    starts_at: str | None = None  # a Capacity Block to buy: its offering's start, when later than the plan

    @classmethod
    def of_offer(cls, provider: str, kind: str, offer: Offer, pricing: str, price: float, nodes: int,
                 group_hourly: float, group_cost: float, accelerators: str | None, vcpus: float,
                 memory_gib: float) -> "Option":
        """The option of running on a catalog ``offer`` (no fleet, no reservation).
        Candidate generation makes tens of thousands of these per large solve, so
        the fields are set at once rather than through the frozen ``__init__``
        (one ``object.__setattr__`` per field); the result is the same Option."""
        opt = object.__new__(cls)
        d = _OPTION_DEFAULTS.copy()
        d["provider"] = provider
        d["kind"] = kind
        d["region"] = offer.region
        d["zone"] = offer.zone
        d["instance_type"] = offer.instance_type
        d["pricing"] = pricing
        d["price"] = price
        d["nodes"] = nodes
        d["group_hourly"] = group_hourly
        d["group_cost"] = group_cost
        d["offer"] = offer
        d["accelerators"] = accelerators
        d["vcpus"] = vcpus
        d["memory_gib"] = memory_gib
        # ``key`` and ``sort_key`` as their cached properties would compute them: every option's are read
        d["key"] = key = (provider, offer.region, offer.zone or "", offer.instance_type, pricing, "")
        d["sort_key"] = (round(group_cost, 9), round(group_hourly, 9)) + key
        object.__setattr__(opt, "__dict__", d)
        return opt

    @cached_property
    def key(self) -> tuple:
        key = (self.provider, self.region, self.zone or "", self.instance_type, self.pricing, self.fleet or "")
        # exact packing: a node is known by its capacity entry and its index in it
        return key + (self.fleet_entry, self.fleet_node) if self.fleet_node >= 0 else key

    @cached_property
    def sort_key(self) -> tuple:
        return (round(self.group_cost, 9), round(self.group_hourly, 9)) + self.key

    @cached_property
    def region_key(self) -> tuple[str, str]:
        return (self.kind, self.region)

    def domain(self, spread: str) -> tuple:
        if spread == "provider":
            return (self.provider,)
        if spread == "region":
            return (self.provider, self.region)
        return (self.provider, self.region, self.zone or "")

    @cached_property
    def infra(self) -> str:
        return "/".join(p for p in (self.provider, self.region, self.zone) if p)


_OPTION_DEFAULTS = {f.name: f.default for f in fields(Option) if f.default is not MISSING}


def glob_any(value: str | None, patterns: Sequence[str]) -> bool:
    return value is not None and any(fnmatch.fnmatchcase(value, p) for p in patterns)


def provider_allowed(cfg_key: str, kind: str, spec: PlacementSpec) -> bool:
    return not spec.providers or glob_any(cfg_key, spec.providers) or glob_any(kind, spec.providers)


def region_allowed(region: str, zone: str | None, spec: PlacementSpec) -> bool:
    if spec.regions and not glob_any(region, spec.regions):
        return False
    if spec.exclude_regions and glob_any(region, spec.exclude_regions):
        return False
    if spec.zones and not glob_any(zone, spec.zones):
        return False
    if spec.exclude_zones and glob_any(zone, spec.exclude_zones):
        return False
    return True


# Offers that are shared machines rather than whole VMs bought per node: a
# Kubernetes node or this machine runs a workload that asks for less than it has.
SHARED_KINDS = ("kubernetes", "local")


def hardware_fits(offer: Offer, res: Resources) -> bool:
    """Any-of accelerator match (name and count per node), cpus/memory minimum or
    exact, and instance type when given.

    A cloud VM must match the accelerator count exactly, and a workload that
    needs no accelerator is not offered accelerator VMs unless it names one
    by instance type. A shared machine
    (SHARED_KINDS) fits any request it can hold: up to its accelerator count,
    vCPUs and memory, with or without accelerators. The CPU architecture must
    be the one asked for (``arch_fits``)."""
    if not arch_fits(offer, res):
        return False
    if offer.provider in SHARED_KINDS:
        return _shared_fits(offer, res)
    if res.accelerators:
        if not any(offer.accelerator == a.name and abs(offer.accelerator_count - a.count) < 1e-9
                   for a in res.accelerators):
            return False
    elif offer.accelerator and not res.instance_type:  # a named instance type is taken as it is
        return False
    if res.cpus is not None and not res.cpus.admits(offer.vcpus):
        return False
    if res.memory is not None and not res.memory.admits(offer.memory_gib):
        return False
    if res.instance_type and offer.instance_type != res.instance_type:
        return False
    return True


def arch_fits(offer: Offer, res: Resources) -> bool:
    """``arch`` x86_64 (the default), arm64 or any. A workload that does not say
    takes a named instance type as it is, and this machine as it is."""
    if res.arch is None and (res.instance_type or offer.provider == "local"):
        return True
    want = res.effective_arch
    return want == "any" or offer.arch == want


def _shared_fits(offer: Offer, res: Resources) -> bool:
    if res.accelerators and not any(offer.accelerator == a.name and a.count <= offer.accelerator_count + 1e-9
                                    for a in res.accelerators):
        return False
    if res.cpus is not None and res.cpus.value > offer.vcpus + 1e-9:
        return False
    if res.memory is not None and res.memory.value > offer.memory_gib + 1e-9:
        return False
    return not res.instance_type or offer.instance_type == res.instance_type


def served(offer: Offer, res: Resources) -> str | None:
    """The accelerators one node of the workload gets from ``offer`` ("H100:2"): the
    whole VM's for a cloud VM; on a shared machine, the smallest any-of request
    it can hold (what the pod asks for), none for a CPU workload."""
    if offer.provider not in SHARED_KINDS:
        return offer.accelerators
    counts = [a.count for a in res.accelerators if a.name == offer.accelerator]
    return f"{offer.accelerator}:{min(counts)}" if counts else None


def offer_price(offer: Offer, pricing: str, kind: str) -> float | None:
    """The price of ``offer`` under ``pricing``. A provisioned fleet asking for
    reserved capacity pays the on-demand list price when no reserved price is
    listed."""
    price = offer.price(pricing)
    if price is None and pricing == "reserved" and kind == "fleet":
        price = offer.on_demand
    return price


def is_blocked(provider: str, region: str, zone: str | None, blocked, pricing: str | None = None) -> bool:
    """Whether a scope of ``blocked`` covers the place: (provider, region or None, zone
    or None), blocking every pricing model, or with a fourth element, only that one
    (where spot capacity was lost, on-demand is still there); ``pricing`` None asks
    whether every pricing model is blocked there."""
    for b in blocked:
        b_provider, b_region, b_zone = b[:3]
        only = b[3] if len(b) > 3 else None
        if b_provider != provider or (only is not None and only != pricing):
            continue
        if b_region is None or (b_region == region and (b_zone is None or b_zone == zone)):
            return True
    return False


def spot_lost(blocked) -> bool:
    """Whether some scope of ``blocked`` is one where spot capacity was lost (it names
    spot): what puts a ``fallback_on_demand`` service in fallback. A zone avoided for
    failed readiness blocks every pricing model and is no reason to leave spot."""
    return any(len(b) > 3 and b[3] == "spot" for b in blocked)


def fallback_hours(offer: Offer, hours: float) -> float:
    """Expected hours one spot replica of a fallback service spends on on-demand over
    ``hours``: interruptions (the offer's rate per month, SERVICE_HOURS) x FALLBACK_HOURS."""
    return min(hours, offer.interruption_rate * (hours / SERVICE_HOURS) * FALLBACK_HOURS)


def group_cost(item: Item, offer: Offer, pricing: str, eff: float) -> float:
    """Expected cost of one group of ``item`` on ``offer`` over its hours, at the
    effective price ``eff``; a spot group of a fallback service counts its expected
    fallback hours at the on-demand price, one of a job paced by Uniform Progress
    the spot and on-demand hours the policy is expected to run (``deadline.expected``)."""
    hours = item.hours
    if pricing == "spot" and item.window is not None and offer.on_demand is not None and offer.spot is not None:
        from skyplan.deadline.expected import availability, expected_hours

        spot_h, on_demand_h = expected_hours(hours, item.window, item.changeover,
                                             availability(offer.interruption_band))
        return item.nodes * (offer.spot * spot_h + offer.on_demand * on_demand_h)
    if pricing == "spot" and item.spot_fallback and offer.on_demand is not None:
        fb = fallback_hours(offer, hours)
        return item.nodes * (eff * (hours - fb) + offer.on_demand * fb)
    return eff * item.nodes * hours


def effective_price(offer: Offer, pricing: str, price: float, restart_overhead: float) -> float:
    """Spot's expected price: price * (1 + interruption rate * restart overhead)."""
    if pricing == "spot":
        return price * (1.0 + offer.interruption_rate * restart_overhead)
    return price

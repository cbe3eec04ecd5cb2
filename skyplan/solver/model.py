"""The solver's output values: where each node group runs, and its fallbacks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping



@dataclass(frozen=True)
class Placement:
    """Where one node group (one replica of ``nodes`` nodes) runs, at what price."""

    provider: str  # provider key ("aws", "aws.west", "local", ...)
    region: str
    zone: str | None
    instance_type: str
    pricing: str  # on_demand | spot | reserved
    hourly_price: float  # per node
    nodes: int = 1
    fleet: str | None = None  # fleet address when packed onto an existing/provisioned fleet
    accelerators: str | None = None  # e.g. "H100:8" per node, for display
    vcpus: float = 0
    memory_gib: float = 0
    reservation: str | None = None  # the fleet's cloud reservation when known at plan time (brought)
    starts_at: str | None = None  # RFC 3339: on a Capacity Block not started yet, when it starts (the group waits)

    @property
    def hourly_cost(self) -> float:
        return self.hourly_price * self.nodes

    @property
    def infra(self) -> str:
        return "/".join(p for p in (self.provider, self.region, self.zone) if p)

    def to_json(self) -> dict:
        return {
            "provider": self.provider, "region": self.region, "zone": self.zone,
            "instance_type": self.instance_type, "pricing": self.pricing,
            "hourly_price": self.hourly_price, "nodes": self.nodes, "fleet": self.fleet,
            "accelerators": self.accelerators, "vcpus": self.vcpus, "memory_gib": self.memory_gib,
            **({"reservation": self.reservation} if self.reservation else {}),
            **({"starts_at": self.starts_at} if self.starts_at else {}),
        }

    @classmethod
    def from_json(cls, d: Mapping) -> "Placement":
        return cls(**{k: d.get(k) for k in (
            "provider", "region", "zone", "instance_type", "pricing", "hourly_price",
            "nodes", "fleet", "accelerators", "vcpus", "memory_gib", "reservation", "starts_at") if k in d})


@dataclass(frozen=True)
class GroupPlacement:
    """The chosen placement of one replica group and its ranked fallbacks."""

    chosen: Placement
    fallbacks: tuple[Placement, ...] = ()

    def to_json(self) -> dict:
        return {"chosen": self.chosen.to_json(), "fallbacks": [f.to_json() for f in self.fallbacks]}

    @classmethod
    def from_json(cls, d: Mapping) -> "GroupPlacement":
        return cls(Placement.from_json(d["chosen"]), tuple(Placement.from_json(f) for f in d.get("fallbacks", ())))


@dataclass(frozen=True)
class WorkloadPlacement:
    """Placement of every replica group of one workload or fleet address."""

    address: str
    groups: tuple[GroupPlacement, ...]
    approved_hourly_cost: float  # apply never exceeds this (sum over groups) when failing over
    expected_cost: float = 0.0  # over duration_hours (services: 730 h), incl. spot overhead and egress
    explanation: str = ""
    kept: bool = False  # True when stability kept the prior placement
    # a job Uniform Progress paces: the $/h a deadline switch to on-demand may reach (the
    # on-demand price of the machines it is placed on), beyond the approved $/h; else None
    on_demand_ceiling: float | None = None

    @property
    def hourly_cost(self) -> float:
        return sum(g.chosen.hourly_cost for g in self.groups)

    def to_json(self) -> dict:
        return {
            "address": self.address, "groups": [g.to_json() for g in self.groups],
            "approved_hourly_cost": self.approved_hourly_cost, "expected_cost": self.expected_cost,
            "explanation": self.explanation, "kept": self.kept,
            **({"on_demand_ceiling": self.on_demand_ceiling} if self.on_demand_ceiling is not None else {}),
        }

    @classmethod
    def from_json(cls, d: Mapping) -> "WorkloadPlacement":
        return cls(
            d["address"], tuple(GroupPlacement.from_json(g) for g in d["groups"]),
            d["approved_hourly_cost"], d.get("expected_cost", 0.0), d.get("explanation", ""), d.get("kept", False),
            d.get("on_demand_ceiling"),
        )


@dataclass(frozen=True)
class CloudPlan:
    """The cheapest plan that buys cloud capacity from ``cloud`` alone (a provider
    kind), under the same constraints; costs None when there is none."""

    cloud: str
    hourly_cost: float | None
    total_cost: float | None  # expected, over the workloads' durations (the objective)
    status: str  # optimal | feasible (time limit hit) | infeasible | unsolved
    reason: str = ""  # why there is no such plan

    @property
    def feasible(self) -> bool:
        return self.total_cost is not None

    def to_json(self) -> dict:
        return {"cloud": self.cloud, "hourly_cost": self.hourly_cost, "total_cost": self.total_cost,
                "status": self.status, "reason": self.reason}

    @classmethod
    def from_json(cls, d: Mapping) -> "CloudPlan":
        return cls(d["cloud"], d.get("hourly_cost"), d.get("total_cost"), d.get("status", ""), d.get("reason", ""))


@dataclass(frozen=True)
class SingleCloudComparison:
    """A solution that buys from several clouds against the cheapest single-cloud
    plan (skyplan.solver.single_cloud)."""

    hourly_cost: float  # the solution's
    total_cost: float
    clouds_used: tuple[str, ...]
    plans: tuple[CloudPlan, ...]  # one per cloud the problem offers, cheapest first, infeasible last

    @property
    def best(self) -> CloudPlan | None:
        return next((p for p in self.plans if p.feasible), None)

    @property
    def saving(self) -> float | None:
        """Expected cost the solution saves against the best single-cloud plan."""
        best = self.best
        return None if best is None else round(best.total_cost - self.total_cost, 6)

    def to_json(self) -> dict:
        best = self.best
        return {"hourly_cost": self.hourly_cost, "total_cost": self.total_cost,
                "clouds_used": list(self.clouds_used), "best": best.cloud if best else None,
                "saving": self.saving, "plans": [p.to_json() for p in self.plans]}

    @classmethod
    def from_json(cls, d: Mapping) -> "SingleCloudComparison":
        return cls(d["hourly_cost"], d["total_cost"], tuple(d.get("clouds_used", ())),
                   tuple(CloudPlan.from_json(p) for p in d.get("plans", ())))


@dataclass(frozen=True)
class FleetChoice:
    """Whether a provisioned fleet is bought: its cost against its workloads'
    instances bought directly (skyplan.solver.fleet_choice)."""

    address: str
    bought: bool
    kept_by_config: bool  # keep = true
    fleet_cost: float  # its nodes over its hours
    direct_cost: float | None  # the workloads on it, placed without it; None: nowhere else to go
    nodes: int
    instance_type: str
    hours: float
    workloads: tuple[str, ...] = ()
    # a Capacity Block: fleet_cost is the catalog's list price over its hours, an
    # estimate of the offering's upfront fee (known when apply buys it)
    estimate: bool = False
    offering: Any = None  # config.model.BlockQuote: the Capacity Block offering fleet_cost is the fee of

    def to_json(self) -> dict:
        q = self.offering
        return {"address": self.address, "bought": self.bought, "keep": self.kept_by_config,
                "fleet_cost": self.fleet_cost, "direct_cost": self.direct_cost, "nodes": self.nodes,
                "instance_type": self.instance_type, "hours": self.hours, "workloads": list(self.workloads),
                **({"estimate": True} if self.estimate else {}),
                **({"offering": {"zone": q.zone, "upfront_fee": q.upfront_fee, "currency": q.currency,
                                 "starts_at": q.starts_at, "ends_at": q.ends_at}} if q is not None else {})}


@dataclass(frozen=True)
class Solution:
    placements: Mapping[str, WorkloadPlacement] = field(default_factory=dict)
    total_hourly_cost: float = 0.0
    total_cost: float = 0.0
    status: str = "optimal"  # optimal | feasible (time limit hit; best found kept)
    gap: float = 0.0  # proven relative optimality gap
    backend: str = ""
    solve_seconds: float = 0.0
    candidates: Mapping[str, tuple] = field(default_factory=dict)  # address -> considered candidates (for display)
    single_cloud: SingleCloudComparison | None = None  # with SolveOptions.compare_single_cloud, when >= 2 clouds are used
    fleets: tuple[FleetChoice, ...] = ()  # per provisioned fleet: bought or not, and why
    reused: int = 0  # workloads kept from the memo without being solved again (skyplan.solver.memo)
    # the memo of this solve's self-contained workloads (and of its single-cloud solves), to store
    memo: Mapping[str, Mapping[str, dict]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def unbought(self) -> frozenset[str]:
        return frozenset(c.address for c in self.fleets if not c.bought)


@dataclass(frozen=True)
class Candidate:
    """One option the solver considered for a workload, as the optimize table shows
    it. Costs are for the whole workload (every replica group) on this option."""

    infra: str
    instance_type: str
    vcpus: float
    memory: float
    accelerators: str | None
    pricing: str
    hourly_cost: float
    est_cost: float
    chosen: bool = False
    arch: str = ""  # CPU architecture of the machine ("" for a fleet slot)

    def to_json(self) -> dict:
        return {
            "infra": self.infra, "instance_type": self.instance_type, "vcpus": self.vcpus,
            "memory": self.memory, "accelerators": self.accelerators, "pricing": self.pricing,
            "hourly_cost": self.hourly_cost, "est_cost": self.est_cost, "chosen": self.chosen,
            "arch": self.arch,
        }

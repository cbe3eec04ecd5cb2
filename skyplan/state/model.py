"""What state holds: one record per managed address, read as an immutable snapshot."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from skyplan.providers.base import Instance
from skyplan.solver.model import Placement

# Resource status values.
CREATING = "creating"  # provider call under way (crash marker)
RUNNING = "running"
SUCCEEDED = "succeeded"  # a job that finished with exit 0
FAILED = "failed"  # a job that finished non-zero, or a create that failed with nothing launched
STOPPED = "stopped"
STATUSES = (CREATING, RUNNING, SUCCEEDED, FAILED, STOPPED)


@dataclass(frozen=True)
class GroupRecord:
    """One replica group as created: its placement and the nodes the provider returned."""

    placement: Placement
    instances: tuple[Instance, ...] = ()

    @property
    def objects(self) -> int:
        """How many provider objects make up the group: one per node, or the one
        cloud reservation that holds all of a fleet's nodes (``reservation`` attribute)."""
        if self.instances and all(i.attributes.get("reservation") for i in self.instances):
            return len(self.instances)
        return self.placement.nodes

    def to_json(self) -> dict:
        return {"placement": self.placement.to_json(), "instances": [i.to_json() for i in self.instances]}

    @classmethod
    def from_json(cls, d: Mapping) -> "GroupRecord":
        return cls(Placement.from_json(d["placement"]), tuple(Instance.from_json(i) for i in d.get("instances", ())))


@dataclass(frozen=True)
class ResourceRecord:
    address: str
    kind: str  # "workload" | "fleet"
    status: str = RUNNING
    groups: tuple[GroupRecord, ...] = ()
    attributes: Mapping[str, Any] = field(default_factory=dict)  # config view it was made from (Workload.attributes())
    config_hash: str = ""
    tainted: bool = False
    depends_on: tuple[str, ...] = ()
    created_at: str = ""
    updated_at: str = ""
    reason: str = ""  # why a create failed with nothing launched (status FAILED, no groups)
    # a job Uniform Progress paces: what the plan that placed it approved ("hourly",
    # "on_demand_hourly" a deadline switch may reach, "work_hours", "approved_at"); drift
    # repair and watch keep within it and carry it over to the placements they make
    envelope: Mapping[str, Any] = field(default_factory=dict)

    # The first group's placement, for the flat columns (provider, region, ...).
    @property
    def placement(self) -> Placement | None:
        return self.groups[0].placement if self.groups else None

    @property
    def hourly_cost(self) -> float:
        return sum(g.placement.hourly_cost for g in self.groups)

    @property
    def instances(self) -> tuple[Instance, ...]:
        return tuple(i for g in self.groups for i in g.instances)

    @property
    def endpoints(self) -> list[str]:
        """``host:port`` of each ready replica of a service (its rank-0 node): the node's
        own ``endpoint`` attribute (the local provider's port per replica), else its
        address and the first declared port. With a readiness block a replica counts
        once its last probe said ready (``attributes["readiness"]["status"]``);
        without one, while it runs. Empty for a job."""
        if self.kind != "workload" or self.attributes.get("kind") != "service":
            return []
        ports = list(self.attributes.get("ports") or ())
        probed = bool(self.attributes.get("readiness"))
        out = []
        for inst in self.instances:
            if inst.rank != 0 or inst.state != RUNNING:
                continue
            if probed and (inst.attributes.get("readiness") or {}).get("status") != "ready":
                continue
            endpoint = inst.attributes.get("endpoint") or (f"{inst.ip}:{ports[0]}" if inst.ip and ports else None)
            if endpoint:
                out.append(str(endpoint))
        return out

    def known_attributes(self) -> dict[str, Any]:
        """What a config expression may read of this resource once it exists
        (``workload.x.ip``, ``.placement``, ``.instances``, ``.status``...)."""
        attrs = dict(self.attributes)
        attrs["status"] = self.status
        attrs["placement"] = self.placement.to_json() if self.placement else None
        attrs["instances"] = [i.to_json() for i in self.instances]
        attrs["ips"] = [i.ip for i in self.instances if i.ip]
        attrs["endpoints"] = self.endpoints
        attrs["hourly_cost"] = self.hourly_cost
        return attrs

    def to_json(self) -> dict:
        return {
            "address": self.address, "kind": self.kind, "status": self.status,
            "groups": [g.to_json() for g in self.groups], "attributes": dict(self.attributes),
            "config_hash": self.config_hash, "tainted": self.tainted, "depends_on": list(self.depends_on),
            "created_at": self.created_at, "updated_at": self.updated_at,
            **({"reason": self.reason} if self.reason else {}),
            **({"envelope": dict(self.envelope)} if self.envelope else {}),
        }

    @classmethod
    def from_json(cls, d: Mapping) -> "ResourceRecord":
        return cls(
            address=d["address"], kind=d["kind"], status=d.get("status", RUNNING),
            groups=tuple(GroupRecord.from_json(g) for g in d.get("groups", ())),
            attributes=d.get("attributes", {}), config_hash=d.get("config_hash", ""),
            tainted=bool(d.get("tainted", False)), depends_on=tuple(d.get("depends_on", ())),
            created_at=d.get("created_at", ""), updated_at=d.get("updated_at", ""),
            reason=d.get("reason", "") or "",
            envelope=dict(d.get("envelope") or {}),
        )


@dataclass(frozen=True)
class Snapshot:
    """State as read at one moment. ``resources`` is keyed by address string."""

    lineage: str
    serial: int
    resources: Mapping[str, ResourceRecord] = field(default_factory=dict)
    outputs: Mapping[str, Any] = field(default_factory=dict)  # name -> {"value", "sensitive"}
    # address -> the attribute paths recorded as sensitive (``env.TOKEN``), for
    # resources that have any; a destroy plan hides them without the config.
    sensitive: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def known_attributes(self) -> dict[str, dict[str, Any]]:
        """address -> ResourceRecord.known_attributes() for every resource."""
        return {address: rec.known_attributes() for address, rec in self.resources.items()}

    @classmethod
    def empty(cls, lineage: str = "") -> "Snapshot":
        return cls(lineage=lineage, serial=0)

"""Small builders of hand-made DesiredGraph / Solution / Snapshot values for planner tests."""

from __future__ import annotations

from skyplan.addrs import Address
from skyplan.config.model import DesiredGraph, Lifecycle, ProviderConfig, Resources, Workload, resource_hash
from skyplan.providers.base import Instance
from skyplan.solver.model import GroupPlacement, Placement, Solution, WorkloadPlacement
from skyplan.state.model import GroupRecord, ResourceRecord, Snapshot

LINEAGE = "5f0c2b3a-1111-4222-8333-444455556666"


def workload(name: str, key=None, **kw) -> Workload:
    kw.setdefault("run", f"python {name}.py")
    return Workload(Address("workload", name, key), **kw)


def graph(*resources, outputs=None, variables=None) -> DesiredGraph:
    return DesiredGraph(
        root="/cfg", providers={"aws": ProviderConfig("aws", regions=("us-east-1", "us-west-2")),
                                "local": ProviderConfig("local")},
        workloads={str(r.address): r for r in resources}, outputs=outputs or {}, variables=variables or {},
        config_hash="cafe",
    )


def place(region="us-east-1", zone="us-east-1a", itype="p5.48xlarge", pricing="spot", price=40.0, nodes=1,
          provider="aws", accelerators="H100:8") -> Placement:
    return Placement(provider, region, zone, itype, pricing, price, nodes, accelerators=accelerators)


def wplace(address: str, *placements: Placement, fallbacks=(), kept=False) -> WorkloadPlacement:
    groups = tuple(GroupPlacement(p, tuple(fallbacks)) for p in placements)
    return WorkloadPlacement(address, groups, sum(p.hourly_cost for p in placements) * 1.2, kept=kept)


def solution(*wps: WorkloadPlacement) -> Solution:
    return Solution({w.address: w for w in wps}, total_hourly_cost=sum(w.hourly_cost for w in wps),
                    backend="test")


def instances(address: str, p: Placement, group: int = 0, n: int | None = None) -> tuple[Instance, ...]:
    return tuple(Instance(p.provider, f"i-{address.replace('.', '-')}-{group}-{r}", address, LINEAGE, group, r,
                          p.region, p.zone, p.instance_type, p.pricing)
                 for r in range(p.nodes if n is None else n))


def record(w: Workload, *placements: Placement, status="running", nodes_present=None, **kw) -> ResourceRecord:
    groups = tuple(GroupRecord(p, instances(str(w.address), p, i, nodes_present)) for i, p in enumerate(placements))
    return ResourceRecord(str(w.address), "workload", status, groups, w.attributes(), resource_hash(w),
                          depends_on=tuple(str(d) for d in w.depends_on), **kw)


def snapshot(*records: ResourceRecord, serial=3, outputs=None) -> Snapshot:
    return Snapshot(LINEAGE, serial, {r.address: r for r in records}, outputs or {})


__all__ = ["workload", "graph", "place", "wplace", "solution", "instances", "record", "snapshot",
           "Lifecycle", "Resources", "LINEAGE"]

"""An in-process provider for drift tests: a real Provider implementation that
keeps its objects in a dict, so tests can change things "behind skyplan's back"."""

from __future__ import annotations

import itertools
import threading
from dataclasses import replace
from typing import Any, Mapping, Sequence

from skyplan.catalog.offer import Offer
from skyplan.errors import ProviderError
from skyplan.providers.base import TAG_RANK, Instance, LaunchRequest
from skyplan.solver.model import Placement
from skyplan.state.model import GroupRecord, ResourceRecord, Snapshot

LINEAGE = "lin-0001"


class MemoryProvider:
    """Objects live in ``self.objects`` keyed by id; ``fail`` makes every call raise."""

    def __init__(self, name: str = "mem", region: str = "r1", lineage: str = LINEAGE):
        self.name = name
        self.lineage = lineage
        self.region = region
        self.objects: dict[str, Instance] = {}
        self.fail: Exception | None = None
        self.list_calls = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def offers(self):
        return [Offer(provider="mem", region=self.region, zone=f"{self.region}a", instance_type="m.small",
                      vcpus=2, memory_gib=4, on_demand=0.1, spot=0.03)]

    def create(self, req: LaunchRequest) -> list[Instance]:
        if self.fail:
            raise self.fail
        out = []
        for rank in range(req.placement.nodes):
            inst = self.add(req.address, group=req.group, rank=rank, lineage=req.lineage,
                            zone=req.placement.zone, instance_type=req.placement.instance_type,
                            pricing=req.placement.pricing)
            out.append(inst)
        return out

    def add(self, address: str, *, group: int = 0, rank: int = 0, lineage: str | None = None, zone: str | None = "r1a",
            instance_type: str = "m.small", pricing: str = "on_demand", state: str = "running",
            tags: Mapping[str, str] | None = None) -> Instance:
        lineage = lineage or self.lineage
        with self._lock:
            iid = f"{self.name}-{next(self._ids)}"
        base_tags = {"skyplan:address": address, "skyplan:lineage": lineage, "skyplan:group": str(group),
                     TAG_RANK: str(rank)}
        inst = Instance(provider=self.name, id=iid, address=address, lineage=lineage, group=group, rank=rank,
                        region=self.region, zone=zone, instance_type=instance_type, pricing=pricing,
                        state=state, tags={**base_tags, **(tags or {})})
        self.objects[iid] = inst
        return inst

    def list_managed(self, lineage: str) -> list[Instance]:
        self.list_calls += 1
        if self.fail:
            raise self.fail
        return [i for i in self.objects.values() if i.lineage == lineage]

    def update(self, inst: Instance, changes: Mapping[str, Any]) -> Instance:
        new = replace(self.objects[inst.id], **changes)
        self.objects[inst.id] = new
        return new

    def delete(self, insts: Sequence[Instance]) -> None:
        for inst in insts:
            self.objects.pop(inst.id, None)

    # behind skyplan's back
    def change(self, iid: str, **changes: Any) -> None:
        self.objects[iid] = replace(self.objects[iid], **changes)


def placement(provider: str = "mem", nodes: int = 1, zone: str | None = "r1a", pricing: str = "on_demand") -> Placement:
    return Placement(provider=provider, region="r1", zone=zone, instance_type="m.small", pricing=pricing,
                     hourly_price=0.1, nodes=nodes)


def record(address: str, groups: Sequence[Sequence[Instance]], *, kind: str = "job", status: str = "running",
           provider: str = "mem", pricing: str = "on_demand") -> ResourceRecord:
    grs = tuple(GroupRecord(placement(provider, max(1, len(g)), g[0].zone if g else "r1a", pricing), tuple(g))
                for g in groups)
    return ResourceRecord(address=address, kind="workload", status=status, groups=grs, attributes={"kind": kind})


def snapshot(*records: ResourceRecord, lineage: str = LINEAGE) -> Snapshot:
    return Snapshot(lineage=lineage, serial=3, resources={r.address: r for r in records})


def error(message: str = "connection refused") -> ProviderError:
    return ProviderError(message)

"""An in-process provider with set latencies and scripted failures, and helpers that
build plans for it. Real code implementing the Provider interface, not a mock."""

from __future__ import annotations

import itertools
import random
import threading
import time
from typing import Callable, Mapping, Sequence

from skyplan.errors import CapacityError, ProviderError
from skyplan.planner.model import Action, Change, Plan
from skyplan.providers.base import Instance, LaunchRequest
from skyplan.solver.model import GroupPlacement, Placement, WorkloadPlacement


class SimProvider:
    """Launches instantly-"running" nodes after ``latency(address)`` seconds.

    ``fail``: addresses whose create raises ProviderError. ``capacity``: placements
    (infra, instance_type) that raise CapacityError at ``scope``. Records the
    order of calls and the highest concurrency seen."""

    def __init__(self, name: str = "sim", latency: Callable[[str], float] | float = 0.0, *,
                 fail: Sequence[str] = (), capacity: Mapping[tuple[str, str], str] | None = None,
                 job_state: str = "running"):
        self.name = name
        self.latency = latency if callable(latency) else (lambda a, v=latency: v)
        self.fail = set(fail)
        self.capacity = dict(capacity or {})
        self.job_state = job_state
        self.lock = threading.Lock()
        self.live: dict[str, Instance] = {}
        self.calls: list[tuple[str, str]] = []  # (op, address) in start order
        self.finished: list[tuple[str, str]] = []  # (op, address) in finish order
        self.running = 0
        self.max_running = 0
        self.tried: list[tuple[str, str]] = []  # (infra, instance_type) create attempts
        self._ids = itertools.count(1)

    def _enter(self, op: str, address: str) -> None:
        with self.lock:
            self.calls.append((op, address))
            self.running += 1
            self.max_running = max(self.max_running, self.running)

    def _leave(self, op: str, address: str) -> None:
        with self.lock:
            self.running -= 1
            self.finished.append((op, address))

    def offers(self):
        return []

    def create(self, req: LaunchRequest) -> list[Instance]:
        self._enter("create", req.address)
        try:
            time.sleep(self.latency(req.address))
            p = req.placement
            with self.lock:
                self.tried.append((p.infra, p.instance_type))
            scope = self.capacity.get((p.infra, p.instance_type))
            if scope:
                raise CapacityError(f"no {p.instance_type} capacity in {p.infra}", scope=scope, provider=self.name)
            if req.address in self.fail:
                raise ProviderError(f"simulated failure creating {req.address}", provider=self.name)
            out = []
            for rank in range(p.nodes):
                inst = Instance(provider=p.provider, id=f"i-{next(self._ids)}", address=req.address,
                                lineage=req.lineage, group=req.group, rank=rank, region=p.region, zone=p.zone,
                                instance_type=p.instance_type, pricing=p.pricing,
                                state=self.job_state if req.kind == "job" else "running", tags=req.tags())
                out.append(inst)
            with self.lock:
                for inst in out:
                    self.live[inst.id] = inst
            return out
        finally:
            self._leave("create", req.address)

    def list_managed(self, lineage: str) -> list[Instance]:
        with self.lock:
            return [i for i in self.live.values() if i.lineage == lineage]

    def update(self, inst: Instance, changes) -> Instance:
        self._enter("update", inst.address)
        try:
            time.sleep(self.latency(inst.address))
            return inst
        finally:
            self._leave("update", inst.address)

    def delete(self, insts) -> None:
        addr = insts[0].address if insts else ""
        self._enter("delete", addr)
        try:
            time.sleep(self.latency(addr))
            with self.lock:
                for i in insts:
                    self.live.pop(i.id, None)
        finally:
            self._leave("delete", addr)


def placement(provider: str = "sim", region: str = "r1", zone: str | None = "r1a", itype: str = "m.large",
              price: float = 1.0, nodes: int = 1) -> Placement:
    return Placement(provider=provider, region=region, zone=zone, instance_type=itype, pricing="on_demand",
                     hourly_price=price, nodes=nodes)


def create_change(address: str, deps: Sequence[str] = (), *, kind: str = "service", groups=None,
                  approved: float | None = None, run: str | None = None) -> Change:
    groups = groups or (GroupPlacement(placement()),)
    wp = WorkloadPlacement(address, tuple(groups),
                           approved if approved is not None else sum(g.chosen.hourly_cost for g in groups))
    after = {"kind": kind, "run": run, "env": {}, "resources": {}, "num_nodes": 1, "replicas": len(groups)}
    return Change(address=address, action=Action.CREATE, after=after, depends_on=tuple(deps), placement=wp,
                  config_hash="h-" + address)


def random_dag(n: int, seed: int, max_deps: int = 3) -> dict[str, list[str]]:
    rng = random.Random(seed)
    names = [f"workload.w{i}" for i in range(n)]
    deps: dict[str, list[str]] = {}
    for i, name in enumerate(names):
        k = rng.randint(0, min(max_deps, i))
        deps[name] = rng.sample(names[:i], k) if i else []
    return deps


def plan_of(changes: Sequence[Change], lineage: str) -> Plan:
    return Plan(changes=tuple(changes), lineage=lineage, serial=0)

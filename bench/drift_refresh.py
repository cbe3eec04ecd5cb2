"""How refresh scales: classification of large states, and asking providers at once.

Prints figures; run with ``python bench/drift_refresh.py``.

1. classify: states of 1,000 and 10,000 workloads (2 nodes each) where 1% of
   nodes changed tags, 1% are gone and 1% more objects are unmanaged.
2. concurrency: 8 providers whose list call takes 0.25 s each (a cloud API's
   latency), refreshed with the default thread pool vs one at a time (the
   baseline, measured in the same run).
"""

from __future__ import annotations

import os
import sys
import time
import tracemalloc
from dataclasses import replace

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from skyplan.drift import classify, refresh  # noqa: E402
from skyplan.providers.base import Instance  # noqa: E402
from skyplan.solver.model import Placement  # noqa: E402
from skyplan.state.model import GroupRecord, ResourceRecord, Snapshot  # noqa: E402

LINEAGE = "bench"


def node(addr: str, rank: int, provider: str = "p0") -> Instance:
    return Instance(provider=provider, id=f"{addr}#{rank}", address=addr, lineage=LINEAGE, rank=rank,
                    region="r1", zone="r1a", instance_type="m.large",
                    tags={"skyplan:address": addr, "skyplan:lineage": LINEAGE, "team": "ml"})


def world(n: int, provider: str = "p0") -> tuple[Snapshot, list[Instance]]:
    placement = Placement(provider=provider, region="r1", zone="r1a", instance_type="m.large",
                          pricing="on_demand", hourly_price=1.0, nodes=2)
    records, live = {}, []
    for i in range(n):
        addr = f"workload.w{i}"
        nodes = [node(addr, 0, provider), node(addr, 1, provider)]
        records[addr] = ResourceRecord(address=addr, kind="workload", groups=(GroupRecord(placement, tuple(nodes)),),
                                       attributes={"kind": "service"})
        for j, inst in enumerate(nodes):
            k = (2 * i + j) % 100
            if k == 0:
                live.append(replace(inst, tags={**inst.tags, "team": "ops"}))
            elif k == 1:
                continue  # gone
            else:
                live.append(inst)
    for i in range(n // 50):
        live.append(node(f"workload.orphan{i}", 0, provider))
    return Snapshot(lineage=LINEAGE, serial=1, resources=records), live


def bench_classify(n: int) -> None:
    snap, live = world(n)
    t = time.perf_counter()
    r = classify(snap, {"p0": live})
    took = time.perf_counter() - t
    tracemalloc.start()
    classify(snap, {"p0": live})
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    c = r.counts()
    print(f"classify {n:>6} workloads / {2 * n:>6} nodes: {took:6.2f} s, peak {peak:6.1f} MiB "
          f"({c['changed']} changed, {c['missing']} missing, {c['unmanaged']} unmanaged, "
          f"{took / (2 * n) * 1e6:.1f} us/node)")


class SlowProvider:
    def __init__(self, name: str, live: list[Instance], latency: float):
        self.name, self.live, self.latency = name, live, latency

    def list_managed(self, lineage: str) -> list[Instance]:
        time.sleep(self.latency)
        return self.live

    def offers(self):
        return []

    # Refresh only lists; the bench never changes anything.
    def create(self, *args):
        raise RuntimeError("the refresh bench provider only lists")

    update = delete = create


def bench_concurrency(providers: int = 8, latency: float = 0.25) -> None:
    records, provs = {}, {}
    for p in range(providers):
        snap, live = world(100, provider=f"p{p}")
        records.update({f"{a}_{p}": replace(r, address=f"{a}_{p}") for a, r in snap.resources.items()})
        provs[f"p{p}"] = SlowProvider(f"p{p}", [replace(i, address=f"{i.address}_{p}") for i in live], latency)
    snap = Snapshot(lineage=LINEAGE, serial=1, resources=records)
    t = time.perf_counter()
    refresh(snap, provs, max_workers=1)
    serial = time.perf_counter() - t
    t = time.perf_counter()
    refresh(snap, provs)
    parallel = time.perf_counter() - t
    print(f"refresh {providers} providers x {latency:.2f} s list latency: one at a time {serial:.2f} s, "
          f"concurrent {parallel:.2f} s, speed-up {serial / parallel:.1f}x")


if __name__ == "__main__":
    t0 = time.perf_counter()
    import deepdiff  # noqa: F401,E402  (imported lazily by classify; timed apart)

    print(f"deepdiff import (once per process): {time.perf_counter() - t0:.2f} s")
    bench_classify(1_000)
    bench_classify(10_000)
    bench_concurrency()

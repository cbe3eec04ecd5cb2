"""A small real deployment for crash tests: a few local jobs and services planned with
the real planner against a real state file and refreshed through the real local
provider. ``python -m tests.apply.crashrig ROOT [URL NAME]`` applies it (state in
ROOT/.skyplan/state.db, or the PostgreSQL state NAME at URL) and prints ``ready``
just before apply starts (so the test can kill it at a random point)."""

from __future__ import annotations

import sys
from pathlib import Path

from skyplan.addrs import Address
from skyplan.config.model import DesiredGraph, ProviderConfig, Workload
from skyplan.planner.options import PlanOptions
from skyplan.solver.model import GroupPlacement, Placement, Solution, WorkloadPlacement

SHAPE = {  # name -> (kind, depends_on)
    "prep": ("job", ()), "train": ("job", ("prep",)), "eval": ("job", ("train",)),
    "a": ("job", ()), "b": ("job", ()), "c": ("job", ("a",)),
    "api": ("service", ()), "worker": ("service", ("prep",)),
}


def graph(root: str) -> DesiredGraph:
    wls = {}
    for name, (kind, deps) in SHAPE.items():
        addr = Address("workload", name)
        wls[str(addr)] = Workload(address=addr, kind=kind, run="true" if kind == "job" else "sleep 60",
                                  depends_on=tuple(Address("workload", d) for d in deps))
    cfg = ProviderConfig(kind="local", settings={"root": root})
    return DesiredGraph(root=root, providers={"local": cfg}, workloads=wls)


def solution(g: DesiredGraph) -> Solution:
    p = Placement(provider="local", region="local", zone=None, instance_type="local", pricing="on_demand",
                  hourly_price=0.0)
    return Solution(placements={a: WorkloadPlacement(a, (GroupPlacement(p),), 0.0) for a in g.workloads})


def providers(g: DesiredGraph):
    from skyplan.providers.local import LocalProvider

    return {"local": LocalProvider(g.providers["local"])}


def make_plan(g: DesiredGraph, store, provs):
    """Refresh, then plan: what `skyplan plan` does, minus config loading and solving."""
    from skyplan import drift, planner

    snap = store.snapshot()
    refreshed = drift.refresh(snap, provs)
    plan = planner.plan(g, solution(g), snap, refreshed.snapshot, PlanOptions(), drift=refreshed.drift,
                        unmanaged=refreshed.unmanaged)
    return plan, refreshed


def location(root: str, where: list[str]):
    """The state the rig applies to: ROOT's SQLite file, or a PostgreSQL (URL, NAME)."""
    from skyplan.state.location import PostgresLocation

    return PostgresLocation(*where) if where else Path(root) / ".skyplan" / "state.db"


def main(root: str, *where: str) -> int:
    from skyplan.apply import apply_plan
    from skyplan.state.location import open_store

    g = graph(root)
    store = open_store(location(root, list(where)))
    provs = providers(g)
    plan, _ = make_plan(g, store, provs)
    with store.lock("apply"):  # as `skyplan apply` holds it: a kill leaves it behind
        print("ready", flush=True)
        res = apply_plan(plan, store, provs, parallelism=4, poll_interval=0.01)
    print("done" if res.ok else "failed", flush=True)
    return 0 if res.ok else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))

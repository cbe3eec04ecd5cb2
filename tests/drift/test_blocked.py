"""Lost spot nodes become solver blocks for the repair."""

from __future__ import annotations

from skyplan.drift import blocked_from_drift, blocked_scopes, refresh
from tests.drift.memory_provider import MemoryProvider, record, snapshot


def test_preempted_spot_zone_is_blocked_on_demand_is_not():
    mem = MemoryProvider()
    s = mem.add("workload.spot", pricing="spot", zone="r1b")
    o = mem.add("workload.od", pricing="on_demand")
    snap = snapshot(record("workload.spot", [[s]], pricing="spot"), record("workload.od", [[o]]))
    mem.delete([s, o])
    r = refresh(snap, {"mem": mem})
    assert blocked_from_drift(r) == {"workload.spot": (("mem", "r1", "r1b", "spot"),)}
    assert blocked_scopes(r) == (("mem", "r1", "r1b", "spot"),)


def test_losses_in_two_zones_block_the_region():
    mem = MemoryProvider()
    a = mem.add("workload.a", pricing="spot", zone="r1a")
    b = mem.add("workload.b", pricing="spot", zone="r1b")
    snap = snapshot(record("workload.a", [[a]], pricing="spot"), record("workload.b", [[b]], pricing="spot"))
    mem.delete([a, b])
    r = refresh(snap, {"mem": mem})
    assert blocked_from_drift(r) == {"workload.a": (("mem", "r1", None, "spot"),), "workload.b": (("mem", "r1", None, "spot"),)}


def test_no_drift_no_blocks():
    mem = MemoryProvider()
    a = mem.add("workload.a", pricing="spot")
    assert blocked_from_drift(refresh(snapshot(record("workload.a", [[a]], pricing="spot")), {"mem": mem})) == {}

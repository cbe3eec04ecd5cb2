"""The pure parts of repair: what must be replaced, what is put back in place,
and the approved-cost envelope."""

from __future__ import annotations

import pytest

from skyplan.drift import refresh
from skyplan.drift.repair import check_envelope, in_place_restores, needs_replacement
from skyplan.errors import PlanError
from skyplan.planner.model import Action, Change, Plan
from skyplan.solver.model import GroupPlacement, WorkloadPlacement
from tests.drift.memory_provider import MemoryProvider, placement, record, snapshot


def test_immutable_drift_and_exited_services_need_replacement():
    mem = MemoryProvider()
    a, b, c, d = (mem.add(f"workload.{n}") for n in "abcd")
    snap = snapshot(record("workload.a", [[a]], kind="service"), record("workload.b", [[b]], kind="service"),
                    record("workload.c", [[c]], kind="job"), record("workload.d", [[d]], kind="service"))
    mem.change(a.id, instance_type="m.huge")
    mem.change(b.id, state="failed")
    mem.change(c.id, state="failed")  # a job that failed by itself is not drift
    mem.change(d.id, tags={**d.tags, "x": "y"})
    r = refresh(snap, {"mem": mem})
    declared = ["workload.a", "workload.b", "workload.c", "workload.d"]
    assert needs_replacement(r, declared) == ("workload.a", "workload.b")
    assert needs_replacement(r, ["workload.b"]) == ("workload.b",)


def test_tags_and_stopped_nodes_are_restored_in_place():
    mem = MemoryProvider()
    a = mem.add("workload.a", tags={"team": "ml"})
    b = mem.add("workload.b")
    snap = snapshot(record("workload.a", [[a]], kind="service"), record("workload.b", [[b]], kind="service"))
    mem.change(a.id, tags={**{k: v for k, v in a.tags.items() if k != "team"}, "owner": "x"})
    mem.change(b.id, state="stopped")
    r = refresh(snap, {"mem": mem})
    restores = {x.address: x for x in in_place_restores(snap, r, skip=())}
    assert restores["workload.a"].changes == {"tags": {"team": "ml", "owner": None}}
    assert restores["workload.b"].changes == {"state": "running"}
    assert in_place_restores(snap, r, skip=["workload.a", "workload.b"]) == ()


def _plan(cost: float, approved: float) -> Plan:
    p = placement()
    wp = WorkloadPlacement("workload.a", (GroupPlacement(p.__class__(**{**p.to_json(), "hourly_price": cost})),),
                           approved_hourly_cost=approved)
    return Plan(changes=(Change("workload.a", Action.CREATE, placement=wp),), lineage="l", serial=1)


def test_repair_above_the_approved_cost_is_refused():
    check_envelope(_plan(1.0, 1.0))
    with pytest.raises(PlanError, match="above its approved"):
        check_envelope(_plan(2.0, 1.0))


def test_adopted_nodes_are_written_to_state_and_nothing_else(tmp_path):
    from skyplan.drift.repair import accept_fixes, state_fixes
    from skyplan.state import StateStore

    with StateStore.open(tmp_path / "state.db") as store:
        mem = MemoryProvider(lineage=store.lineage)
        rec = record("workload.train", [[]], status="creating")
        store.record(rec, action="create")
        other = mem.add("workload.other")
        store.record(record("workload.other", [[other]], kind="service"), action="create")
        node = mem.add("workload.train")  # launched, then the apply was killed
        mem.change(other.id, tags={**other.tags, "x": "1"})
        r = refresh(store.snapshot(), {"mem": mem})
        assert state_fixes(r, skip=()) == ("workload.train",)
        assert state_fixes(r, skip=["workload.train"]) == ()
        assert accept_fixes(store, r, ["workload.train"]) == 1
        assert [i.id for i in store.get("workload.train").instances] == [node.id]
        assert store.get("workload.train").status == "running"
        assert "x" not in store.get("workload.other").instances[0].tags  # not accepted: it is repaired instead
        assert refresh(store.snapshot(), {"mem": mem}).counts()["changed"] == 1


def _repair(pricing: str, cost: float, envelope: dict, approved: float = 100.0) -> Plan:
    from skyplan.state.model import ResourceRecord

    p = placement()
    wp = WorkloadPlacement("workload.a", (GroupPlacement(p.__class__(**{**p.to_json(), "hourly_price": cost,
                                                                         "pricing": pricing})),),
                           approved_hourly_cost=approved)
    prior = ResourceRecord("workload.a", "workload", envelope=envelope)
    return Plan(changes=(Change("workload.a", Action.DELETE_THEN_CREATE, placement=wp, prior=prior),), lineage="l", serial=1,
                options={"repair": True})


def test_a_paced_job_keeps_within_the_envelope_recorded_with_it_not_the_repair_plans_own():
    env = {"hourly": 1.0, "on_demand_hourly": 0.9, "work_hours": 48.0, "approved_at": "2026-12-01T10:00:00+00:00"}
    check_envelope(_repair("spot", 1.0, env))
    with pytest.raises(PlanError, match=r"above the \$1.0000/h approved for it on 2026-12-01"):
        check_envelope(_repair("spot", 1.5, env))  # the repair plan itself would approve $100/h
    with pytest.raises(PlanError, match="above the"):
        check_envelope(_repair("on_demand", 1.5, env))  # beyond both rates
    check_envelope(_repair("spot", 1.5, {}))  # not paced: the repair plan's own approval ($100/h) holds


def test_a_deadline_switch_to_on_demand_may_reach_the_approved_on_demand_rate_and_no_more():
    env = {"hourly": 1.0, "on_demand_hourly": 3.0, "work_hours": 48.0}
    check_envelope(_repair("on_demand", 3.0, env))
    with pytest.raises(PlanError, match=r"above the \$3.0000/h of on-demand its approved plan allowed"):
        check_envelope(_repair("on_demand", 3.5, env))
    with pytest.raises(PlanError, match="above the"):
        check_envelope(_repair("spot", 2.0, env))  # on spot, the spot envelope holds

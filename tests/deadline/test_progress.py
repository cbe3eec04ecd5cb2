"""Progress measured from the state journal (time run minus a changeover per start),
or from what the job printed (SKYPLAN_PROGRESS=...)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from skyplan.deadline.policy import Mode
from skyplan.deadline.progress import measure, reported_fraction

T0 = datetime(2026, 12, 1, tzinfo=timezone.utc)


def _row(hours: float, *nodes: tuple[str, str, str]) -> dict:
    at = (T0 + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    insts = [{"id": i, "pricing": p, "state": s, "attributes": {}} for i, p, s in nodes]
    return {"at": at, "after": {"groups": [{"instances": insts}]} if nodes else None}


def test_runs_are_summed_and_each_start_costs_a_changeover():
    rows = [_row(0, ("a", "spot", "running")),
            _row(3, ("a", "spot", "preempted")),  # ran 3 h on spot
            _row(4, ("b", "on_demand", "running"))]  # restarted on on-demand
    m = measure(rows, T0 + timedelta(hours=6), changeover=0.25, duration=10)
    assert m.starts == 2 and abs(m.ran_hours - 5) < 1e-9
    assert abs(m.done_hours - 4.5) < 1e-9 and abs(m.remaining(10) - 5.5) < 1e-9
    assert m.mode is Mode.ON_DEMAND and m.first_start == T0


def test_a_node_refresh_finds_gone_stops_counting_at_its_end():
    rows = [_row(0, ("a", "spot", "running"))]
    gone = [{"id": "a", "pricing": "spot", "state": "preempted",
             "attributes": {"ended_at": (T0 + timedelta(hours=2)).timestamp()}}]
    m = measure(rows, T0 + timedelta(hours=5), changeover=0.0, duration=10, current=gone)
    assert abs(m.ran_hours - 2) < 1e-9 and m.mode is Mode.WAIT


def test_a_record_rewritten_with_the_same_nodes_is_one_run():
    rows = [_row(0, ("a", "spot", "running")), _row(1, ("a", "spot", "running"))]
    m = measure(rows, T0 + timedelta(hours=2), changeover=0.5, duration=10)
    assert m.starts == 1 and abs(m.done_hours - 1.5) < 1e-9 and m.mode is Mode.SPOT


def test_a_succeeded_job_is_done():
    rows = [_row(0, ("a", "spot", "running")), _row(1, ("a", "spot", "succeeded"))]
    m = measure(rows, T0 + timedelta(hours=2), changeover=0.0, duration=10)
    assert m.finished and m.remaining(10) == 0 and m.mode is Mode.DONE


def test_the_jobs_own_report_wins():
    assert reported_fraction(["epoch 1", "SKYPLAN_PROGRESS=0.25", "x SKYPLAN_PROGRESS = 0.42 y"]) == 0.42
    assert reported_fraction(["nothing"]) is None
    rows = [_row(0, ("a", "spot", "running"))]
    m = measure(rows, T0 + timedelta(hours=1), changeover=0.0, duration=10, reported=0.42)
    assert abs(m.done_hours - 4.2) < 1e-9


def test_rows_from_a_real_journal_are_read(tmp_path):
    from skyplan.providers.base import Instance
    from skyplan.solver.model import Placement
    from skyplan.state import StateStore
    from skyplan.state.model import GroupRecord, ResourceRecord

    store = StateStore.open(tmp_path / "state.db")
    p = Placement("local", "local", None, "local", "spot", 1.0)
    inst = Instance(provider="local", id="n1", address="workload.j", lineage=store.snapshot().lineage, pricing="spot")
    store.record(ResourceRecord("workload.j", "workload", groups=(GroupRecord(p, (inst,)),)), action="create")
    rows = list(reversed(store.history(address="workload.j")))
    m = measure(rows, datetime.now(timezone.utc) + timedelta(hours=1), changeover=0.1, duration=5)
    assert m.starts == 1 and 0.99 < m.ran_hours < 1.01 and m.mode is Mode.SPOT


def test_a_node_seen_gone_is_journalled_once(tmp_path):
    from dataclasses import replace

    from skyplan.deadline.control import observe
    from skyplan.providers.base import Instance
    from skyplan.solver.model import Placement
    from skyplan.state import StateStore
    from skyplan.state.model import GroupRecord, ResourceRecord

    store = StateStore.open(tmp_path / "state.db")
    p = Placement("local", "local", None, "local", "spot", 1.0)
    inst = Instance(provider="local", id="n1", address="workload.j", lineage="", pricing="spot")
    rec = ResourceRecord("workload.j", "workload", groups=(GroupRecord(p, (inst,)),))
    store.record(rec, action="create")
    gone = replace(rec, groups=(GroupRecord(p, (replace(inst, state="preempted"),)),))
    observe(store, store.get("workload.j"), gone)
    observe(store, store.get("workload.j"), gone)
    rows = store.history(address="workload.j")
    assert [r["action"] for r in rows] == ["observe", "create"] and "n1 preempted" in rows[0]["detail"]

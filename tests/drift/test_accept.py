"""Refresh-only acceptance writes the providers' view into a real SQLite state."""

from __future__ import annotations

import pytest

from skyplan.drift import accept_refreshed, refresh
from skyplan.errors import StalePlanError
from skyplan.state import StateStore
from tests.drift.memory_provider import MemoryProvider, record, snapshot


@pytest.fixture
def store(tmp_path):
    s = StateStore.open(tmp_path / "state.db")
    yield s
    s.close()


def test_accept_writes_changed_records_only(store):
    mem = MemoryProvider(lineage=store.lineage)
    a, b = mem.add("workload.a"), mem.add("workload.b")
    for rec in (record("workload.a", [[a]], kind="service"), record("workload.b", [[b]], kind="service")):
        store.record(rec, action="create")
    serial = store.serial
    mem.change(a.id, tags={**a.tags, "owner": "x"})
    r = refresh(store.snapshot(), {"mem": mem})
    assert [d.address for d in r.drift] == ["workload.a"]
    with store.lock("apply"):
        assert accept_refreshed(store, r) == 1
    assert store.serial == serial + 1
    assert store.get("workload.a").instances[0].tags["owner"] == "x"
    assert store.history(limit=1)[0]["action"] == "refresh"
    # accepted: the next refresh is in sync and accepting again writes nothing
    r2 = refresh(store.snapshot(), {"mem": mem})
    assert r2.drift == () and accept_refreshed(store, r2) == 0
    assert mem.objects[a.id].tags["owner"] == "x"  # no cloud change


def test_accept_missing_nodes_and_finished_job(store):
    mem = MemoryProvider(lineage=store.lineage)
    a, b = mem.add("workload.gone"), mem.add("workload.job")
    store.record(record("workload.gone", [[a]]), action="create")
    store.record(record("workload.job", [[b]]), action="create")
    mem.delete([a])
    mem.change(b.id, state="succeeded")
    assert accept_refreshed(store, refresh(store.snapshot(), {"mem": mem})) == 2
    assert store.get("workload.gone").instances == ()
    assert store.get("workload.job").status == "succeeded"


def test_accept_refuses_another_lineage(store):
    mem = MemoryProvider()
    r = refresh(snapshot(lineage="not-this-one"), {"mem": mem})
    with pytest.raises(StalePlanError):
        accept_refreshed(store, r)

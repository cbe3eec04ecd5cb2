"""The store contract: records, journal, redaction, outputs, moves, backups,
transactions, on every backend (``state_path`` is a SQLite file or a named state
in a PostgreSQL database)."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from skyplan.errors import StateError
from skyplan.state import default_state_path
from skyplan.state.model import ResourceRecord
from skyplan.state.redact import SENSITIVE
from skyplan.state.location import PostgresLocation, open_store
from skyplan.state.store import StateStore
from tests.state.conftest import make_record


@pytest.fixture
def state_path(location):
    return location


def _fresh(state_path, tmp_path):
    if isinstance(state_path, PostgresLocation):
        return PostgresLocation(state_path.url, state_path.name + "-fresh")
    return tmp_path / "fresh.db"


def test_new_state_has_a_fixed_lineage(store, state_path):
    assert store.serial == 0 and state_path.exists()
    lineage = store.lineage
    store.close()
    with open_store(state_path) as again:
        assert again.lineage == lineage


def test_new_state_file_is_private(sqlite_path):
    StateStore.open(sqlite_path).close()
    assert stat.S_IMODE(os.stat(sqlite_path).st_mode) == 0o600


def test_open_without_create_refuses_missing_state(state_path, tmp_path):
    where = _fresh(state_path, tmp_path)
    with pytest.raises(StateError, match="no state .*run skyplan apply first"):
        open_store(where, create=False)
    assert not where.exists()


def test_record_round_trips_and_bumps_serial(store):
    rec = make_record(nodes=2, groups=2)
    assert store.record(rec, action="create") == 1
    snap = store.snapshot()
    got = snap.resources["workload.train"]
    assert snap.serial == 1 and snap.lineage == store.lineage
    assert got.groups == rec.groups and got.attributes == rec.attributes
    assert got.created_at and got.updated_at
    assert ResourceRecord.from_json(got.to_json()) == got
    assert store.record(make_record(version=2), action="update") == 2
    again = store.snapshot().resources["workload.train"]
    assert again.created_at == got.created_at and again.config_hash == "h2"


def test_flat_columns_follow_the_record(store):
    store.record(make_record(nodes=3, version=4), action="create")
    row = store._conn.execute(
        "SELECT provider, region, zone, instance_type, pricing, hourly_price, provider_ids, config_hash, status"
        " FROM resources").fetchone()
    assert row[:6] == ("aws", "us-east-1", "us-east-1a", "type-4", "on_demand", 12.0)
    assert row[6].count("i-workload.train-4") == 3 and row[7:] == ("h4", "running")


def test_journal_never_holds_sensitive_values_in_clear(store):
    store.record(make_record(version=1), action="create", sensitive_paths=["env.TOKEN"])
    store.record(make_record(version=2), action="update")  # paths remembered from the stored row
    store.journal_event("workload.train", "update", "failed", "quota", after=make_record(version=3))
    store.forget("workload.train")
    text = "\n".join(str(r) for r in store._conn.execute("SELECT before, after FROM journal"))
    assert "secret-" not in text
    hist = store.history()
    assert [h["action"] for h in hist] == ["delete", "update", "update", "create"]
    assert hist[3]["after"]["attributes"]["env"]["TOKEN"] == SENSITIVE
    assert hist[1]["outcome"] == "failed" and hist[1]["serial"] == 2
    assert store.history(limit=1)[0]["action"] == "delete"


def test_state_itself_keeps_the_value_for_diffing(store):
    store.record(make_record(), action="create", sensitive_paths=["env.TOKEN"])
    assert store.snapshot().resources["workload.train"].attributes["env"]["TOKEN"] == "secret-1"
    assert store.sensitive_paths("workload.train") == ("env.TOKEN",)


def test_forget_missing_address_is_a_clear_error(store):
    with pytest.raises(StateError, match="no resource workload.nope"):
        store.forget("workload.nope")
    assert store.serial == 0


def test_outputs_bump_serial_only_when_changed_and_redact(store):
    assert store.set_outputs({"ip": {"value": "1.2.3.4"}, "key": {"value": "k", "sensitive": True}}) == 1
    assert store.set_outputs({"ip": {"value": "1.2.3.4"}, "key": {"value": "k", "sensitive": True}}) == 1
    assert store.snapshot().outputs == {"ip": {"value": "1.2.3.4", "sensitive": False},
                                        "key": {"value": "k", "sensitive": True}}
    assert store.history()[0]["after"] == {"ip": "1.2.3.4", "key": SENSITIVE}


def test_move_renames_in_state_only(store):
    store.record(make_record("workload.a"), action="create")
    store.record(make_record("workload.b"), action="create")
    with pytest.raises(StateError, match="already in state"):
        store.move("workload.a", "workload.b")
    with pytest.raises(StateError, match="only move to a workload"):
        store.move("workload.a", "fleet.a")
    with pytest.raises(StateError, match="not a resource address"):
        store.move("workload.a", "nonsense")
    store.move("workload.a", 'workload.c["x"]')
    snap = store.snapshot()
    assert sorted(snap.resources) == ["workload.b", 'workload.c["x"]']
    assert snap.resources['workload.c["x"]'].instances[0].id == "i-workload.a-1-0-0"


def test_atomic_groups_and_rolls_back(store):
    with store.atomic():
        store.record(make_record("workload.a"), action="create")
        store.record(make_record("workload.b"), action="create")
    assert store.serial == 2
    with pytest.raises(RuntimeError):
        with store.atomic():
            store.record(make_record("workload.c"), action="create")
            raise RuntimeError("boom")
    assert store.serial == 2 and "workload.c" not in store.snapshot().resources


def test_threads_share_one_store(store):
    def work(i):
        for v in range(10):
            store.record(make_record(f"workload.w{i}", v), action="update")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.serial == 60 and len(store.snapshot().resources) == 6


def test_backups_keep_the_last_n(sqlite_path):
    store = StateStore.open(sqlite_path)
    state_path = sqlite_path
    store.record(make_record(), action="create")
    made = [store.backup(keep=3) for _ in range(5)]
    kept = sorted((state_path.parent / "backups").glob("state-*.db"))
    assert kept == sorted(made[-3:])
    assert stat.S_IMODE(os.stat(kept[-1]).st_mode) == 0o600
    with StateStore.open(kept[-1]) as copy:
        assert copy.lineage == store.lineage and "workload.train" in copy.snapshot().resources
    store.close()


def test_postgres_backups_keep_the_last_n_in_the_database(pg_location):
    with open_store(pg_location) as store:
        store.record(make_record(), action="create")
        for _ in range(5):
            store.backup(keep=3)
        assert [serial for _, serial in store.backups()] == [1, 1, 1]


def test_push_checks_lineage_and_serial(store, state_path, tmp_path):
    store.record(make_record(), action="create", sensitive_paths=["env.TOKEN"])
    store.set_outputs({"o": {"value": [1, 2]}})
    doc = store.export_json()
    assert doc["serial"] == 2 and doc["resources"][0]["sensitive_paths"] == ["env.TOKEN"]
    store.record(make_record(version=2), action="update")
    with pytest.raises(StateError, match="older than this state's 3"):
        store.import_json(doc)
    with pytest.raises(StateError, match="lineage"):
        store.import_json({**doc, "lineage": "other", "serial": 9})
    assert store.import_json(doc, force=True) == 4
    snap = store.snapshot()
    assert snap.resources["workload.train"].config_hash == "h1" and snap.outputs["o"]["value"] == [1, 2]
    with open_store(_fresh(state_path, tmp_path)) as fresh:  # a never-written state takes any lineage
        assert fresh.import_json({**doc, "lineage": "other"}) == 3
        assert fresh.lineage == "other" and fresh.sensitive_paths("workload.train") == ("env.TOKEN",)


def test_push_rejects_malformed_documents(store):
    with pytest.raises(StateError, match="at resources/0/groups/0/placement: 'region' is a required"):
        store.import_json({"format_version": 1, "lineage": "x", "serial": 1, "resources": [
            {"address": "workload.a", "kind": "workload", "groups": [{"placement": {
                "provider": "aws", "zone": None, "instance_type": "t", "pricing": "spot", "hourly_price": 1}}]}]})
    with pytest.raises(StateError, match="top level"):
        store.import_json({"resources": []})
    assert store.serial == 0


def test_default_state_path(tmp_path):
    from skyplan.config.model import Settings

    assert default_state_path(tmp_path) == tmp_path / ".skyplan" / "state.db"
    assert default_state_path(tmp_path, Settings(state_path="s/x.db")) == tmp_path / "s" / "x.db"
    assert default_state_path(tmp_path, Settings(state_path="/abs/x.db")).as_posix() == "/abs/x.db"

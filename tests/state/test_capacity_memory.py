"""Capacity memory: lost spot scopes are kept in state across runs until they expire."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from skyplan.state import StateStore
from skyplan.state.capacity import clear, recall, remember

NOW = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)


def test_a_lost_zone_is_recalled_by_the_next_run_until_it_expires(tmp_path):
    path = tmp_path / "state.db"
    store = StateStore.open(path)
    serial = store.snapshot().serial
    n = remember(store, {"workload.train": [("aws", "us-east-1", "us-east-1a"), ("aws", "us-west-2", None)]},
                 NOW, ttl=timedelta(minutes=30))
    assert n == 2 and store.snapshot().serial == serial  # not a resource: no serial change
    store.close()
    again = StateStore.open(path, create=False)
    assert recall(again, NOW + timedelta(minutes=10)) == {
        "workload.train": (("aws", "us-east-1", "us-east-1a"), ("aws", "us-west-2", None))}
    assert recall(again, NOW + timedelta(minutes=31)) == {}


def test_remembering_again_extends_and_a_running_spot_node_clears(tmp_path):
    store = StateStore.open(tmp_path / "state.db")
    scope = ("local", "local", None)
    remember(store, {"workload.j": [scope]}, NOW, ttl=timedelta(minutes=5))
    remember(store, {"workload.j": [scope]}, NOW + timedelta(minutes=4), ttl=timedelta(minutes=5))
    assert recall(store, NOW + timedelta(minutes=8)) == {"workload.j": (scope,)}
    clear(store, "workload.j", "local", "local", None)
    assert recall(store, NOW + timedelta(minutes=8)) == {}


def test_the_migration_is_recorded_by_name(tmp_path):
    import sqlite3

    StateStore.open(tmp_path / "state.db").close()
    names = [r[0] for r in sqlite3.connect(tmp_path / "state.db").execute("SELECT name FROM migrations")]
    assert names[-1] == "0004_capacity_memory"


def test_postgres_state_keeps_the_memory_too(pg_location):
    from skyplan.state.location import open_store

    with open_store(pg_location) as s:
        remember(s, {"workload.j": [("gcp", "us-central1", "us-central1-a")]}, NOW)
    with open_store(pg_location) as s:
        assert recall(s, NOW + timedelta(minutes=1)) == {"workload.j": (("gcp", "us-central1", "us-central1-a"),)}
        names = [r[0] for r in s._conn.execute("SELECT name FROM migrations ORDER BY id").fetchall()]
        assert names[-1] == "0004_capacity_memory"

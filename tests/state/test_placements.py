"""The placement memo in state (skyplan.state.placements), on both backends: what a
plan stores is what the next one reads, each plan replaces it, it changes no
serial and is not state's content; a state of the schema before it gains it."""

from __future__ import annotations

import sqlite3

from skyplan.state import schema
from skyplan.state.location import open_store
from skyplan.state.store import StateStore
from tests.state.conftest import make_record

MEMO = {"d1": {"workload.a": {"placement": {"address": "workload.a"}, "backend": "closed-form"},
               "workload.b": {"placement": {"address": "workload.b"}, "backend": "closed-form"}},
        "d2": {"workload.c": {"placement": {"address": "workload.c", "explanation": "ü $1/h"}, "backend": "SCIP"}}}


def test_the_memo_a_plan_keeps_is_what_the_next_reads_and_replaces(location):
    with open_store(location) as store:
        assert store.placement_memo() == {}
        serial = store.serial
        store.keep_placements(MEMO)
        assert store.serial == serial
        assert store.snapshot().resources == {}
        assert "placement" not in str(store.export_json())
    with open_store(location, create=False) as store:
        assert store.placement_memo() == MEMO
        store.keep_placements({"d2": MEMO["d2"]})
        assert store.placement_memo() == {"d2": MEMO["d2"]}
        store.keep_placements({})
        assert store.placement_memo() == {}


def test_the_memo_is_written_under_the_plan_lock(location):
    with open_store(location) as store:
        with store.lock("plan"):
            store.keep_placements(MEMO)
        assert store.placement_memo() == MEMO


def test_a_state_of_the_previous_schema_gains_the_memo_table(tmp_path):
    path = tmp_path / "state.db"
    conn = sqlite3.connect(path, isolation_level=None)
    before = schema.MIGRATIONS[:[n for n, _ in schema.MIGRATIONS].index("0003_placement_spec")]
    for version, (name, statements) in enumerate(before):
        for sql in statements:
            conn.execute(sql)
        if version == 0:
            conn.execute("INSERT INTO meta (id, lineage, serial, created_at) VALUES (1, 'L', 0, 'then')")
        conn.execute("INSERT INTO migrations (name, applied_at) VALUES (?, 'then')", (name,))
    conn.execute(f"PRAGMA user_version = {len(before)}")
    conn.close()
    with StateStore.open(path) as store:
        store.record(make_record(), action="create")
        store.keep_placements(MEMO)
        assert store.placement_memo() == MEMO
        names = [r[0] for r in store._conn.execute("SELECT name FROM migrations ORDER BY id")]
        assert names[len(before)] == "0003_placement_spec" and names[len(before):] == [
            n for n, _ in schema.MIGRATIONS[len(before):]]

"""Opening state files: migrations recorded, future schema refused, corrupt files
reported clearly (also through the CLI, without a traceback)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from skyplan.errors import StateError
from skyplan.state import schema
from skyplan.state.store import StateStore
from tests.state.conftest import make_record


def test_migrations_are_named_and_recorded(store):
    names = [r[0] for r in store._conn.execute("SELECT name FROM migrations ORDER BY id")]
    assert names == [n for n, _ in schema.MIGRATIONS]
    assert store._conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_pending_migration_upgrades_in_place(store, state_path, monkeypatch):
    store.record(make_record(), action="create")
    store.close()
    extra = ("9999_test_index", ["CREATE INDEX resources_provider ON resources (provider)"])
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, extra])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", len(schema.MIGRATIONS))
    with StateStore.open(state_path) as s:
        assert s._conn.execute("PRAGMA user_version").fetchone()[0] == len(schema.MIGRATIONS)
        assert "workload.train" in s.snapshot().resources
        assert [r[0] for r in s._conn.execute("SELECT name FROM migrations")][-1] == "9999_test_index"


def test_future_schema_is_refused(store, state_path):
    store.close()
    conn = sqlite3.connect(state_path)
    conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StateError, match="written by a newer skyplan .*understands up to") as e:
        StateStore.open(state_path)
    assert "upgrade skyplan" in e.value.hint


def test_unknown_migration_names_are_refused(store, state_path):
    store._conn.execute("UPDATE migrations SET name = '0001_something_else' WHERE id = 1")
    store.close()
    with pytest.raises(StateError, match="migrations this skyplan does not know"):
        StateStore.open(state_path)


def test_garbage_file_is_refused(tmp_path):
    p = tmp_path / "state.db"
    p.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StateError, match="not a skyplan state file"):
        StateStore.open(p)


def test_other_sqlite_database_is_refused(tmp_path):
    p = tmp_path / "other.db"
    conn = sqlite3.connect(p)
    conn.execute("CREATE TABLE songs (title TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StateError, match="not a skyplan state file .*songs"):
        StateStore.open(p)
    # Left as it was: refusing it did not switch someone else's database to WAL.
    conn = sqlite3.connect(p)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_damaged_pages_give_a_state_error(store, state_path):
    for i in range(200):
        store.record(make_record(f"workload.w{i}", attrs_pad="x" * 2000), action="create")
    store.close()
    data = bytearray(state_path.read_bytes())
    for off in range(4096, len(data), 4096):  # keep the header, smash every page's b-tree header
        data[off:off + 12] = b"\xff" * 12
    state_path.write_bytes(bytes(data))
    with pytest.raises(StateError, match="corrupt|damaged|state file") as e:
        StateStore.open(state_path).snapshot()
    assert "backups" in e.value.hint


def test_cli_reports_corrupt_state_without_traceback(tmp_path):
    p = tmp_path / "state.db"
    p.write_bytes(b"garbage" * 50)
    out = subprocess.run([sys.executable, "-m", "skyplan.cli", "state", "list", "--state", str(p)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert "not a skyplan state file" in out.stderr and "Traceback" not in out.stderr


def test_a_damaged_record_is_a_state_error(store):
    store.record(make_record(), action="create")
    store._conn.execute("UPDATE resources SET record = '[1, \"workload.train\"]'")
    with pytest.raises(StateError, match="damaged record"):
        store.snapshot()
    with pytest.raises(StateError, match="damaged record for workload.train"):
        store.get("workload.train")

"""The PostgreSQL backend as a user meets it: ``backend = "postgres"`` in the
configuration, apply and the state commands on it, two applies at once (one
proceeds, the other names the holder), ``state migrate`` both ways, and the
URL's password in no output."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from skyplan.state.location import PostgresLocation, open_store
from skyplan.state.store import StateStore
from tests.apply.clirun import popen, run
from tests.state.conftest import make_record

SECRET = "pw-secret"

BLOCKING = """
workload "first" {
  kind = "job"
  run  = "while [ ! -f ../../go ]; do sleep 0.05; done"
}

workload "second" {
  kind       = "job"
  depends_on = [workload.first]
  run        = "true"
}
"""  # the apply waits for `first` (which waits for the file go) before it starts `second`


def _config(d: Path, loc: PostgresLocation, body: str) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "main.sky.hcl").write_text(
        f'skyplan {{\n  state {{\n    backend = "postgres"\n    url = "{loc.url}"\n    name = "{loc.name}"\n  }}\n}}\n'
        + body)
    return d


def _ok(r):
    assert r.returncode == 0, r.stdout + r.stderr
    assert SECRET not in r.stdout + r.stderr
    return r


def test_apply_and_state_commands_on_postgres_never_show_the_password(tmp_path, pg_location):
    cfg = _config(tmp_path / "cfg", pg_location, 'workload "j" {\n  kind = "job"\n  run  = "true"\n}\n')
    assert not pg_location.exists()
    _ok(run("apply", str(cfg), "-auto-approve"))
    assert pg_location.exists() and not (cfg / ".skyplan" / "state.db").exists()
    listed = _ok(run("state", "list", str(cfg)))
    assert "workload.j" in listed.stdout
    history = json.loads(_ok(run("state", "history", str(cfg), "--json", "--limit", "0")).stdout)
    assert any(h["address"] == "workload.j" and h["operation"] == "apply" for h in history)
    pulled = json.loads(_ok(run("state", "pull", str(cfg))).stdout)
    assert [r["address"] for r in pulled["resources"]] == ["workload.j"]
    plan = _ok(run("plan", str(cfg)))
    assert "No changes" in plan.stdout or "0 to add" in plan.stdout, plan.stdout


def test_two_applies_at_once_one_proceeds_the_other_names_the_holder(tmp_path, pg_location):
    cfg = _config(tmp_path / "cfg", pg_location, BLOCKING)
    a = popen("apply", str(cfg), "-auto-approve")
    try:
        deadline = time.monotonic() + 60
        holder = None
        while time.monotonic() < deadline and holder is None:
            if pg_location.exists():
                with open_store(pg_location) as s:
                    holder = s.current_lock()
            time.sleep(0.05)
        assert holder is not None and holder.pid == a.pid
        b = run("apply", str(cfg), "-auto-approve")
        assert b.returncode == 1 and "is locked by" in b.stderr and f"pid {a.pid}" in b.stderr, b.stderr
        assert holder.id in b.stderr and SECRET not in b.stdout + b.stderr
    finally:
        (cfg / ".skyplan" / "local" / "go").parent.mkdir(parents=True, exist_ok=True)
        (cfg / ".skyplan" / "local" / "go").touch()
        out, err = a.communicate(timeout=60)
    assert a.returncode == 0, out + err
    with open_store(pg_location) as s:
        assert s.current_lock() is None and {"workload.first", "workload.second"} <= set(s.snapshot().resources)


def test_state_migrate_to_postgres_and_back(tmp_path, pg_location):
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    with StateStore.open(cfg / ".skyplan" / "state.db") as s:
        s.record(make_record("workload.train", 2, nodes=2), action="create", sensitive_paths=["env"])
        s.record(make_record('fleet.pool["us"]', 1), action="create")
        s.set_outputs({"endpoint": {"value": "http://x"}, "token": {"value": "t0k", "sensitive": True}})
        before = s.export_json()
        journal = s.history()
    r = _ok(run("state", "migrate", str(cfg), "--to", pg_location.url, "--name", pg_location.name))
    assert "Copied 2 resource(s), 3 journal entries" in r.stdout and 'backend = "postgres"' in r.stdout
    with open_store(pg_location) as pg:
        moved = pg.export_json()
        assert moved["lineage"] == before["lineage"] and moved["serial"] == before["serial"]
        assert moved["resources"] == before["resources"] and moved["outputs"] == before["outputs"]
        rows = pg.history()
        assert rows[0]["action"] == "migrate"
        assert [(h["serial"], h["address"], h["action"]) for h in rows[1:]] == \
            [(h["serial"], h["address"], h["action"]) for h in journal]
    again = run("state", "migrate", str(cfg), "--to", pg_location.url, "--name", pg_location.name)
    assert again.returncode == 1 and "already holds a state" in again.stderr and SECRET not in again.stderr

    # ... and back, from a configuration that uses the PostgreSQL state, to a new file.
    other = _config(tmp_path / "other", pg_location, "")
    back = tmp_path / "back.db"
    _ok(run("state", "migrate", str(other), "--to", str(back)))
    with StateStore.open(back) as b:
        copied = b.export_json()
        assert copied["resources"] == before["resources"] and copied["serial"] == before["serial"]
        assert copied["lineage"] == before["lineage"]
        assert [h["action"] for h in b.history()][:2] == ["migrate", "migrate"]


def test_postgres_without_a_url_says_how_to_set_one(tmp_path, monkeypatch):
    monkeypatch.delenv("SKYPLAN_STATE_URL", raising=False)
    d = tmp_path / "cfg"
    d.mkdir()
    (d / "main.sky.hcl").write_text('skyplan {\n  state {\n    backend = "postgres"\n  }\n}\n')
    r = run("state", "list", str(d))
    assert r.returncode == 1 and "no database URL" in r.stderr and "SKYPLAN_STATE_URL" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("bad", ['backend = "mysql"', 'backend = "postgres"\n    url = "mysql://db"'])
def test_bad_state_settings_are_refused_with_their_position(tmp_path, bad):
    d = tmp_path / "cfg"
    d.mkdir()
    (d / "main.sky.hcl").write_text(f'skyplan {{\n  state {{\n    {bad}\n  }}\n}}\n')
    r = run("validate", str(d))
    assert r.returncode == 1 and "main.sky.hcl:" in r.stderr, r.stderr


@pytest.mark.slow
def test_database_gone_mid_apply_stops_and_lists_what_was_not_recorded(tmp_path, pg_location, pg_server,
                                                                       monkeypatch):
    monkeypatch.setenv("SKYPLAN_STATE_RETRY_SECONDS", "1")
    cfg = _config(tmp_path / "cfg", pg_location, BLOCKING)
    a = popen("apply", str(cfg), "-auto-approve")
    go = cfg / ".skyplan" / "local" / "go"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if pg_location.exists():
                with open_store(pg_location) as s:
                    rec = s.get("workload.first")
                if rec is not None and rec.instances:
                    break
            time.sleep(0.05)
        else:
            raise AssertionError("apply did not launch workload.first")
        pg_server.stop("immediate")
        go.touch()  # `first` ends now; its outcome cannot be recorded
        out, err = a.communicate(timeout=90)
    finally:
        pg_server.start()
    assert a.returncode == 1, out + err
    assert "cannot reach the state database" in err and "Traceback" not in err and SECRET not in out + err
    listed = err.split("Done but not recorded in state", 1)[1]
    assert "workload.first" in listed and "the state database could not be reached" in out
    assert "Skipped: workload.second" in err
    r = _ok(run("apply", str(cfg), "-auto-approve"))
    with open_store(pg_location) as s:
        snap = s.snapshot()
        assert {"workload.first", "workload.second"} <= set(snap.resources)
        assert len(snap.resources["workload.first"].instances) == 1, r.stdout


def test_state_commands_take_a_database_url_as_state(tmp_path, pg_location, monkeypatch):
    """``--state postgresql://...`` reaches the database (the URL is not a file path), with
    the state's name from SKYPLAN_STATE_NAME when no configuration names it."""
    with open_store(pg_location) as pg:
        pg.record(make_record("workload.train", 2, nodes=2), action="create")
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("SKYPLAN_STATE_NAME", pg_location.name)
    listed = _ok(run("state", "list", str(empty), "--state", pg_location.url, "--no-refresh"))
    assert "workload.train" in listed.stdout
    assert not list(empty.rglob("*")), "nothing is written beside the folder"
    shown = _ok(run("state", "show", "workload.train", str(empty), "--state", pg_location.url, "--no-refresh"))
    assert "workload.train" in shown.stdout
    _ok(run("state", "rm", "workload.train", str(empty), "--state", pg_location.url))
    with open_store(pg_location) as pg:
        assert pg.get("workload.train") is None
    monkeypatch.delenv("SKYPLAN_STATE_NAME")
    other = run("state", "list", str(empty), "--state", pg_location.url, "--no-refresh", "--json")
    assert other.returncode == 0 and "workload.train" not in other.stdout and SECRET not in other.stderr

"""The state commands end to end through skyplan's entry point (exit codes, output)."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
import typer

from skyplan.cli import app, main
from skyplan.state.store import StateStore
from tests.state.conftest import make_record

COMMANDS = [("state",), ("state", "list"), ("state", "show"), ("state", "mv"), ("state", "rm"), ("state", "pull"),
            ("state", "push"), ("state", "history"), ("force-unlock",), ("import",)]


def run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as e:
        code = e.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_state_command_has_help(path):
    from typer.testing import CliRunner

    cmd = typer.main.get_command(app)
    for name in path:
        assert name in getattr(cmd, "commands", {}), path  # typer groups are not click.Group
        cmd = cmd.commands[name]
    assert cmd.help
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


@pytest.fixture
def cfg(tmp_path):
    d = tmp_path / "cfg"
    d.mkdir()
    return d


@pytest.fixture
def filled(cfg):
    with StateStore.open(cfg / ".skyplan" / "state.db") as s:
        s.record(make_record("workload.train", 2, nodes=2), action="create", sensitive_paths=["env"])
        s.record(make_record('fleet.pool["us"]', 1), action="create")
    return cfg


def test_list_without_state_says_so_and_creates_nothing(capsys, cfg):
    code, out, _ = run(capsys, "state", "list", str(cfg))
    assert code == 0 and "nothing has been applied yet" in out
    code, out, _ = run(capsys, "state", "list", str(cfg), "--json")
    assert json.loads(out)["resources"] == []
    assert not (cfg / ".skyplan").exists()


def test_list_and_show(capsys, filled):
    code, out, _ = run(capsys, "state", "list", str(filled))
    assert code == 0
    assert "workload.train" in out and 'fleet.pool["us"]' in out and "aws/us-east-1/us-east-1a" in out
    assert "$5.0000/h in total" in out
    data = json.loads(run(capsys, "state", "list", str(filled), "--json")[1])
    assert [r["address"] for r in data["resources"]] == ['fleet.pool["us"]', "workload.train"]
    assert data["resources"][1]["nodes"] == 2 and data["total_hourly_cost"] == 5.0
    code, out, _ = run(capsys, "state", "show", "workload.train", str(filled))
    assert code == 0 and "i-workload.train-2-0-1" in out and "(sensitive value)" in out and "secret" not in out
    shown = json.loads(run(capsys, "state", "show", "workload.train", str(filled), "--json")[1])
    assert shown["attributes"]["env"] == "(sensitive value)" and shown["sensitive_paths"] == ["env"]
    code, _, err = run(capsys, "state", "show", "workload.nope", str(filled))
    assert code == 1 and "no resource workload.nope" in err and "Traceback" not in err


def test_mv_rm_history_with_backups(capsys, filled):
    code, out, _ = run(capsys, "state", "mv", "workload.train", "workload.trainer", str(filled))
    assert code == 0 and "Moved workload.train to workload.trainer" in out
    code, out, _ = run(capsys, "state", "rm", 'fleet.pool["us"]', str(filled))
    assert code == 0 and "i-fleet.pool" in out
    code, _, err = run(capsys, "state", "mv", "workload.x", "bad address", str(filled))
    assert code == 1 and "not a resource address" in err
    hist = json.loads(run(capsys, "state", "history", str(filled), "--json", "--limit", "2")[1])
    assert [(h["action"], h["operation"]) for h in hist] == [("forget", "state rm"), ("move", "state mv")]
    code, out, _ = run(capsys, "state", "history", str(filled))
    assert "SERIAL" in out and "moved from workload.train" in out
    assert len(list((filled / ".skyplan" / "backups").glob("state-*.db"))) == 2


def test_history_tells_the_creating_marker_from_the_result(capsys, cfg):
    from dataclasses import replace

    rec = make_record("workload.train", 1)
    with StateStore.open(cfg / ".skyplan" / "state.db") as s:
        s.record(replace(rec, status="creating"), action="create")
        s.record(rec, action="create")
    code, out, _ = run(capsys, "state", "history", str(cfg))
    assert code == 0
    lines = [line for line in out.splitlines() if "workload.train" in line]
    assert "status running" in lines[0] and "status creating" in lines[1]


def test_rm_of_a_keyless_address_forgets_every_instance(capsys, cfg):
    with StateStore.open(cfg / ".skyplan" / "state.db") as s:
        for i in range(3):
            s.record(make_record(f"workload.shard[{i}]"), action="create")
        s.record(make_record("workload.other"), action="create")
    code, out, _ = run(capsys, "state", "rm", "workload.shard", str(cfg))
    assert code == 0 and out.count("Removed workload.shard[") == 3
    with StateStore.open(cfg / ".skyplan" / "state.db") as s:
        assert list(s.snapshot().resources) == ["workload.other"]
    code, _, err = run(capsys, "state", "rm", "workload.shard", str(cfg))
    assert code == 1 and "no resource workload.shard" in err


def test_mv_of_a_keyless_address_moves_every_instance(capsys, cfg):
    with StateStore.open(cfg / ".skyplan" / "state.db") as s:
        for key in ('"a"', '"b"'):
            s.record(make_record(f"workload.shard[{key}]"), action="create")
        s.record(make_record("workload.part"), action="create")
    code, out, _ = run(capsys, "state", "mv", "workload.shard", "module.m.workload.part", str(cfg))
    assert code == 0 and 'Moved workload.shard["a"] to module.m.workload.part["a"]' in out
    with StateStore.open(cfg / ".skyplan" / "state.db") as s:
        assert sorted(s.snapshot().resources) == ['module.m.workload.part["a"]', 'module.m.workload.part["b"]',
                                                  "workload.part"]
    # One clash and nothing moves.
    with StateStore.open(cfg / ".skyplan" / "state.db") as s:
        s.record(make_record('workload.other["b"]'), action="create")
    code, _, err = run(capsys, "state", "mv", "module.m.workload.part", "workload.other", str(cfg))
    assert code == 1 and 'workload.other["b"] is already in state' in err
    with StateStore.open(cfg / ".skyplan" / "state.db") as s:
        assert 'module.m.workload.part["a"]' in s.snapshot().resources


def test_list_total_counts_only_what_runs(capsys, cfg):
    from dataclasses import replace

    with StateStore.open(cfg / ".skyplan" / "state.db") as s:
        s.record(make_record("workload.serve", 2), action="create")  # $2/h, running
        s.record(replace(make_record("workload.job", 3), status="succeeded"), action="create")
    code, out, _ = run(capsys, "state", "list", str(cfg))
    assert code == 0 and "$2.0000/h in total" in out and "3.0000" in out  # the row keeps its price
    data = json.loads(run(capsys, "state", "list", str(cfg), "--json")[1])
    assert data["total_hourly_cost"] == 2.0


def test_pull_push_round_trip_and_checks(capsys, filled, tmp_path):
    code, out, _ = run(capsys, "state", "pull", str(filled))
    doc = json.loads(out)
    assert code == 0 and doc["serial"] == 2 and len(doc["resources"]) == 2
    f = tmp_path / "backup.json"
    f.write_text(out)
    run(capsys, "state", "rm", "workload.train", str(filled))
    code, _, err = run(capsys, "state", "push", str(f), str(filled))
    assert code == 1 and "older than this state's 3" in err and "--force" in err
    code, out, _ = run(capsys, "state", "push", str(f), str(filled), "-force")
    assert code == 0 and "serial is now 4" in out
    assert "workload.train" in json.loads(run(capsys, "state", "pull", str(filled))[1])["resources"][1]["address"]
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, _, err = run(capsys, "state", "push", str(bad), str(filled))
    assert code == 1 and "is not JSON" in err
    other = tmp_path / "other"  # a fresh folder takes the document, lineage and all
    other.mkdir()
    assert run(capsys, "state", "push", str(f), str(other))[0] == 0
    assert json.loads(run(capsys, "state", "pull", str(other))[1])["lineage"] == doc["lineage"]


def test_state_flag_overrides_folder(capsys, filled, tmp_path):
    code, out, _ = run(capsys, "state", "list", str(tmp_path), "--state", str(filled / ".skyplan" / "state.db"))
    assert code == 0 and "workload.train" in out


def test_locked_state_refuses_edits_naming_the_holder(capsys, filled):
    with StateStore.open(filled / ".skyplan" / "state.db") as s, s.lock("apply") as info:
        code, _, err = run(capsys, "state", "rm", "workload.train", str(filled))
    assert code == 1 and info.id in err and "'apply'" in err


def _dead_lock(cfg) -> str:
    code = ("import os\nfrom skyplan.state.store import StateStore\n"
            f"s = StateStore.open({str(cfg / '.skyplan' / 'state.db')!r})\n"
            "cm = s.lock('apply'); info = cm.__enter__(); print(info.id, flush=True); os._exit(0)\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout.strip()


def test_force_unlock_asks_unless_forced(capsys, filled, monkeypatch):
    lock_id = _dead_lock(filled)
    monkeypatch.setattr(sys, "stdin", io.StringIO("n\n"))
    code, _, err = run(capsys, "force-unlock", lock_id, str(filled))
    assert code == 1 and "stale" in err and "cancelled" in err
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    code, out, _ = run(capsys, "force-unlock", lock_id, str(filled))
    assert code == 0 and "unlocked" in out
    lock_id = _dead_lock(filled)
    code, out, _ = run(capsys, "force-unlock", "not-the-id", str(filled), "-force")
    assert code == 1
    code, out, _ = run(capsys, "force-unlock", lock_id, str(filled), "-force")
    assert code == 0
    code, _, err = run(capsys, "force-unlock", lock_id, str(filled), "-force")
    assert code == 1 and "not locked" in err


def test_force_unlock_refuses_a_wrong_id_before_asking(capsys, filled, monkeypatch):
    lock_id = _dead_lock(filled)
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    code, out, err = run(capsys, "force-unlock", "not-the-id", str(filled))
    assert code == 1 and "does not match" in err and lock_id in err
    assert "Remove this lock?" not in out + err and "Operation:" not in err
    with StateStore.open(filled / ".skyplan" / "state.db") as s:
        assert s.current_lock().id == lock_id


def test_usage_mistakes_are_usage_errors_not_internal_ones(capsys):
    code, _, err = run(capsys, "state", "mv")
    assert code == 1 and "Missing argument" in err and "internal error" not in err
    code, _, err = run(capsys, "state", "nope")
    assert code == 1 and "No such command" in err and "internal error" not in err


def test_state_path_from_the_skyplan_block(capsys, tmp_path):
    (tmp_path / "main.sky.hcl").write_text('skyplan {\n  state {\n    path = "elsewhere/s.db"\n  }\n}\n'
                                           'workload "w" {\n  run = "true"\n}\n')
    with StateStore.open(tmp_path / "elsewhere" / "s.db") as s:
        s.record(make_record("workload.w"), action="create")
    code, out, _ = run(capsys, "state", "list", str(tmp_path))
    assert code == 0 and "workload.w" in out
    assert not (tmp_path / ".skyplan").exists()

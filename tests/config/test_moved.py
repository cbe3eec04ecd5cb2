"""moved blocks: a workload moved into a module, into count, chained, and a move
whose target already exists; renamed in state on apply without touching what runs
(the local provider's real process keeps its id)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from skyplan.config.moves import Move, MoveError, rename
from tests.apply.clirun import run

PLAN_SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "plan.schema.json").read_text())
SERVICE = 'workload "a" {\n  kind = "service"\n  run  = "sleep 300"\n}\n'


@pytest.mark.parametrize("moves, state, want", [
    ([("workload.a", "module.train.workload.a")], ["workload.a"], {"workload.a": "module.train.workload.a"}),
    ([("workload.a", "workload.b")], ["workload.a[0]", "workload.a[1]"],
     {"workload.a[0]": "workload.b[0]", "workload.a[1]": "workload.b[1]"}),
    ([("workload.a", "workload.a[0]")], ["workload.a"], {"workload.a": "workload.a[0]"}),
    ([("workload.a[0]", "workload.a")], ["workload.a[0]", "workload.a[1]"], {"workload.a[0]": "workload.a"}),
    ([("workload.a", "workload.b"), ("workload.b", "workload.c")], ["workload.a"], {"workload.a": "workload.c"}),
    ([("module.m", 'module.n["eu"]')], ["module.m.workload.x", "workload.y"],
     {"module.m.workload.x": 'module.n["eu"].workload.x'}),
    ([("module.m", "module.n")], ["module.m[0].fleet.p", "module.m[1].fleet.p"],
     {"module.m[0].fleet.p": "module.n[0].fleet.p", "module.m[1].fleet.p": "module.n[1].fleet.p"}),
    ([("workload.gone", "workload.b")], ["workload.a"], {}),
])
def test_moves_rename_as_terraform_does(moves, state, want):
    assert rename([Move(f, t) for f, t in moves], state) == want


@pytest.mark.parametrize("moves, state, message", [
    ([("workload.a", "workload.b")], ["workload.a", "workload.b"], "workload.b already exists in state"),
    ([("workload.a", "fleet.a")], ["workload.a"], "a workload moves only to a workload"),
    ([("module.a", "workload.a")], [], "a module call moves only to a module call"),
    ([("workload.a", "workload.c"), ("workload.b", "workload.c")], ["workload.a", "workload.b"], "would both move"),
])
def test_impossible_moves_are_errors(moves, state, message):
    with pytest.raises(MoveError, match=message):
        rename([Move(f, t) for f, t in moves], state)


def test_a_bad_moved_block_names_its_line(write_config):
    from skyplan.config import validate

    d = write_config('moved {\n  from = workload.a\n  to   = var.x\n}\n')
    [e] = [x for x in validate(d) if x.severity == "error"]
    assert "Invalid moved block" in e.summary and e.source.line == 3


@pytest.mark.slow
def test_moving_a_workload_into_a_module_is_a_no_op_not_a_replace(tmp_path):
    d = tmp_path / "cfg"
    d.mkdir()
    (d / "main.sky.hcl").write_text(SERVICE)
    try:
        r = run("apply", str(d), "--auto-approve")
        assert r.returncode == 0, r.stdout + r.stderr
        before = json.loads(run("state", "show", "workload.a", str(d), "--json", "-refresh=false").stdout)
        (d / "train").mkdir()
        (d / "train" / "main.sky.hcl").write_text(SERVICE)
        (d / "main.sky.hcl").write_text('module "train" {\n  source = "./train"\n}\n'
                                        'moved {\n  from = workload.a\n  to   = module.train.workload.a\n}\n')
        p = run("plan", str(d))
        assert p.returncode == 0, p.stderr
        assert "workload.a has moved to module.train.workload.a" in p.stdout and "must be replaced" not in p.stdout
        j = json.loads(run("plan", str(d), "--json").stdout)
        jsonschema.validate(j, PLAN_SCHEMA)
        [c] = j["resource_changes"]
        assert (c["address"], c["previous_address"], c["change"]["actions"]) == \
            ("module.train.workload.a", "workload.a", ["no-op"])
        r = run("apply", str(d), "--auto-approve")
        assert r.returncode == 0, r.stdout + r.stderr
        listed = run("state", "list", str(d), "-refresh=false").stdout.split()
        assert "module.train.workload.a" in listed and "workload.a" not in listed
        after = json.loads(run("state", "show", "module.train.workload.a", str(d), "--json", "-refresh=false").stdout)
        assert after["groups"] == before["groups"]  # the same process, never relaunched
        again = run("plan", str(d), "--detailed-exitcode")
        assert again.returncode == 0, again.stdout + again.stderr
    finally:
        run("destroy", str(d), "--auto-approve")


def test_removed_blocks_name_their_line_and_refuse_declared_addresses(write_config, tmp_path):
    from skyplan.config import validate
    from skyplan.config.moves import Removed

    d = write_config('removed {\n  from = workload.old\n  lifecycle {\n    destroy = "no"\n  }\n}\n')
    [e] = [x for x in validate(d) if x.severity == "error"]
    assert e.source.line == 4
    assert Removed("workload.old").covers("workload.old[3]") and not Removed("workload.old[1]").covers("workload.old[3]")
    assert Removed("module.m").covers('module.m["x"].workload.a') and not Removed("module.m").covers("module.mm.workload.a")
    (tmp_path / "both").mkdir()
    (tmp_path / "both" / "main.sky.hcl").write_text(SERVICE + 'removed {\n  from = workload.a\n}\n')
    r = run("plan", "-refresh=false", str(tmp_path / "both"))
    assert r.returncode == 1 and "removed block names workload.a, which the configuration still declares" in r.stderr


@pytest.mark.slow
def test_removed_with_destroy_false_forgets_and_leaves_it_running(tmp_path):
    d = tmp_path / "cfg"
    d.mkdir()
    (d / "main.sky.hcl").write_text(SERVICE)
    r = run("apply", str(d), "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    shown = json.loads(run("state", "show", "workload.a", str(d), "--json", "-refresh=false").stdout)
    ids = [i["id"] for g in shown["groups"] for i in g["instances"]]
    assert ids
    (d / "main.sky.hcl").write_text('removed {\n  from = workload.a\n  lifecycle {\n    destroy = false\n  }\n}\n')
    try:
        p = run("plan", str(d))
        assert p.returncode == 0, p.stderr
        assert "workload.a will be removed from state" in p.stdout and "1 to forget" in p.stdout
        j = json.loads(run("plan", str(d), "--json").stdout)
        jsonschema.validate(j, PLAN_SCHEMA)
        [c] = j["resource_changes"]
        assert c["change"]["actions"] == ["forget"]
        r = run("apply", str(d), "--auto-approve")
        assert r.returncode == 0, r.stdout + r.stderr
        assert "workload.a" not in run("state", "list", str(d), "-refresh=false").stdout
        again = run("plan", str(d), "--detailed-exitcode")  # its nodes are not strays to delete
        assert again.returncode == 0, again.stdout + again.stderr
        from skyplan.config.model import ProviderConfig
        from skyplan.providers.local.provider import LocalProvider

        local = LocalProvider(ProviderConfig(kind="local", settings={"root": str(d)}))
        assert [local.read(i).state for i in ids] == ["running"] * len(ids)  # forgotten, still running
    finally:
        from skyplan.config.model import ProviderConfig
        from skyplan.providers.local.provider import LocalProvider

        local = LocalProvider(ProviderConfig(kind="local", settings={"root": str(d)}))
        local.delete([local.read(i) for i in ids])  # what state forgot is skyplan's no more: stop it here


@pytest.mark.slow
def test_an_import_block_adopts_a_running_process_as_part_of_the_plan(tmp_path):
    """A process another state launched (same folder, so the local provider sees it)
    is imported by an import block: planned as 'will be imported', adopted by apply."""
    d = tmp_path / "cfg"
    d.mkdir()
    first = 'skyplan {\n  state {\n    path = "first.db"\n  }\n}\n' + SERVICE
    (d / "main.sky.hcl").write_text(first)
    r = run("apply", str(d), "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    shown = json.loads(run("state", "show", "workload.a", str(d), "--json", "-refresh=false").stdout)
    [pid] = [i["id"] for g in shown["groups"] for i in g["instances"]]
    second = SERVICE + f'import {{\n  to = workload.a\n  id = "local:{pid}"\n}}\n'
    (d / "main.sky.hcl").write_text(second)
    try:
        p = run("plan", str(d))
        assert p.returncode == 0, p.stdout + p.stderr
        assert f"workload.a will be imported (id local:{pid})" in p.stdout and "1 to import" in p.stdout
        assert "will be created" not in p.stdout
        j = json.loads(run("plan", str(d), "--json").stdout)
        jsonschema.validate(j, PLAN_SCHEMA)
        [c] = j["resource_changes"]
        assert c["importing"] == {"id": f"local:{pid}"} and c["change"]["actions"] == ["no-op"]
        assert not (d / ".skyplan" / "state.db").exists() or "workload.a" not in run(
            "state", "list", str(d), "-refresh=false").stdout  # planning wrote nothing
        r = run("apply", str(d), "--auto-approve")
        assert r.returncode == 0, r.stdout + r.stderr
        got = json.loads(run("state", "show", "workload.a", str(d), "--json", "-refresh=false").stdout)
        assert [i["id"] for g in got["groups"] for i in g["instances"]] == [pid]
        again = run("plan", str(d), "--detailed-exitcode")
        assert again.returncode == 0, again.stdout + again.stderr
    finally:
        run("destroy", str(d), "--auto-approve")


def test_an_import_into_an_undeclared_address_names_the_block(tmp_path):
    d = tmp_path / "cfg"
    d.mkdir()
    (d / "main.sky.hcl").write_text(SERVICE + 'import {\n  to = workload.b\n  id = "local:x"\n}\n')
    r = run("plan", str(d))
    assert r.returncode == 1 and "main.sky.hcl:5:1" in r.stderr and "workload.b is not declared" in r.stderr
    assert "Traceback" not in r.stderr

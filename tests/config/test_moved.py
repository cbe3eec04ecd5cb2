"""moved blocks: a workload moved into a module, into count, chained, and a move
whose target already exists; renamed in state on apply without touching what runs
(the local provider's real process keeps its id)."""

from __future__ import annotations

import json

import pytest

from skyplan.config.moves import Move, MoveError, rename
from tests.apply.clirun import run

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

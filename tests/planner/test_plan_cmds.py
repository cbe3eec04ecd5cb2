"""`skyplan show` and `skyplan output` against real plan files and a real SQLite state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.planner.cli_runner import run_cli

from skyplan.planner import PlanOptions, plan
from skyplan.planner.planfile import save_plan
from skyplan.state import StateStore
from tests.planner.builders import graph, place, record, snapshot, solution, workload, wplace


def skyplan(*args: str, cwd: Path | None = None):
    return run_cli(*args, cwd=cwd)


@pytest.fixture()
def state_dir(tmp_path):
    w = workload("train", env={"TOKEN": "s3cret"})
    with StateStore.open(tmp_path / ".skyplan" / "state.db") as store:
        store.record(record(w, place()), action="create", sensitive_paths=("env.TOKEN",))
        store.set_outputs({"ip": {"value": "10.0.0.1", "sensitive": False},
                           "ports": {"value": [80, 443], "sensitive": False},
                           "password": {"value": "hunter2", "sensitive": True}})
    return tmp_path


def test_output_lists_hides_sensitive_and_prints_one_by_name(state_dir):
    out = skyplan("output", cwd=state_dir)
    assert out.returncode == 0, out.stderr
    assert 'ip = "10.0.0.1"' in out.stdout and "password = <sensitive>" in out.stdout
    assert "hunter2" not in out.stdout
    assert skyplan("output", str(state_dir)).stdout == out.stdout
    one = skyplan("output", "password", str(state_dir))
    assert one.returncode == 0 and one.stdout.strip() == "<sensitive>"
    # Asked for by name in a form for scripts, the value itself (as Terraform's -raw/-json).
    assert skyplan("output", "password", str(state_dir), "--raw").stdout == "hunter2\n"
    assert json.loads(skyplan("output", "password", str(state_dir), "--json").stdout) == "hunter2"
    raw = skyplan("output", "ip", str(state_dir), "--raw")
    assert raw.stdout == "10.0.0.1\n"
    js = json.loads(skyplan("output", "--json", cwd=state_dir).stdout)
    assert js["ports"] == {"sensitive": False, "value": [80, 443]}
    assert js["password"] == {"sensitive": True, "value": None}
    missing = skyplan("output", "nope", str(state_dir))
    assert missing.returncode == 1 and 'Output "nope" not found' in missing.stderr
    assert "Traceback" not in missing.stderr


def test_show_state_redacts_sensitive_attributes(state_dir):
    out = skyplan("show", str(state_dir))
    assert out.returncode == 0, out.stderr
    assert "# workload.train:" in out.stdout and "(sensitive value)" in out.stdout
    assert "s3cret" not in out.stdout and "hunter2" not in out.stdout
    doc = json.loads(skyplan("show", str(state_dir), "--json").stdout)
    assert doc["values"]["resources"][0]["address"] == "workload.train"
    assert "s3cret" not in json.dumps(doc)


def test_show_saved_plan_as_text_and_json(tmp_path):
    w = workload("train")
    p = plan(graph(w), solution(wplace("workload.train", place())), snapshot(), None, PlanOptions())
    path = save_plan(p, tmp_path / "tf.plan")
    out = skyplan("show", str(path))
    assert out.returncode == 0 and "# workload.train will be created" in out.stdout
    doc = json.loads(skyplan("show", str(path), "--json").stdout)
    assert doc["resource_changes"][0]["change"]["actions"] == ["create"]
    junk = tmp_path / "junk.txt"
    junk.write_text("hello")
    bad = skyplan("show", str(junk))
    assert bad.returncode == 1 and "not a skyplan plan file" in bad.stderr




@pytest.mark.parametrize("args, message", [
    (("-destroy", "-replace", "workload.train"), "-replace cannot be used with -destroy"),
    (("-destroy", "-refresh-only"), "-refresh-only cannot be used with -destroy"),
    (("-refresh-only", "-replace", "workload.train"), "-replace cannot be used with -refresh-only"),
    (("-refresh-only", "--reoptimize"), "--reoptimize cannot be used with -refresh-only"),
])
def test_contradictory_plan_flags_are_refused(tmp_path, args, message):
    (tmp_path / "main.sky.hcl").write_text('workload "train" {\n  run = "true"\n}\n')
    out = skyplan("plan", *args, cwd=tmp_path)
    assert out.returncode == 1 and message in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert not (tmp_path / ".skyplan").exists()


def test_show_state_hides_sensitive_values_a_provider_echoed_into_its_nodes(tmp_path):
    import dataclasses

    w = workload("train", env={"TOKEN": "s3cret-token"})
    rec = record(w, place())
    g = rec.groups[0]
    node = dataclasses.replace(g.instances[0], attributes={"env": {"TOKEN": "s3cret-token"}, "ip": "10.0.0.9"})
    rec = dataclasses.replace(rec, groups=(dataclasses.replace(g, instances=(node,)),))
    with StateStore.open(tmp_path / ".skyplan" / "state.db") as store:
        store.record(rec, action="create", sensitive_paths=("env.TOKEN",))
    for args in (("show", str(tmp_path)), ("show", str(tmp_path), "--json")):
        out = skyplan(*args)
        assert out.returncode == 0, out.stderr
        assert "s3cret-token" not in out.stdout and "(sensitive value)" in out.stdout
    doc = json.loads(skyplan("show", str(tmp_path), "--json").stdout)
    assert doc["values"]["resources"][0]["groups"][0]["instances"][0]["attributes"]["ip"] == "10.0.0.9"


def test_show_and_output_follow_the_skyplan_blocks_state_path(state_dir):
    # state_dir holds a default .skyplan/state.db; the config now points elsewhere.
    (state_dir / "main.sky.hcl").write_text('skyplan {\n  state {\n    path = "shared/s.db"\n  }\n}\n')
    with StateStore.open(state_dir / "shared" / "s.db") as store:
        store.set_outputs({"where": {"value": "shared", "sensitive": False}})
    out = skyplan("output", "where", str(state_dir))
    assert out.returncode == 0 and out.stdout.strip() == '"shared"', out.stderr
    shown = skyplan("show", str(state_dir))
    assert "workload.train" not in shown.stdout and 'where = "shared"' in shown.stdout


def test_plan_targets_a_module_call_from_the_command_line(tmp_path):
    (tmp_path / "mod").mkdir()
    (tmp_path / "mod" / "main.sky.hcl").write_text('workload "w" {\n  run = "true"\n}\n')
    (tmp_path / "main.sky.hcl").write_text('module "m" {\n  source = "./mod"\n}\n'
                                           'workload "other" {\n  run = "true"\n}\n')
    out = skyplan("plan", "--json", "-target", "module.m", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert [r["address"] for r in json.loads(out.stdout)["resource_changes"]] == ["module.m.workload.w"]


def test_apply_with_exclude_leaves_the_address_and_its_dependants_for_later(tmp_path):
    (tmp_path / "main.sky.hcl").write_text(
        'workload "prep" {\n  kind = "job"\n  run  = "true"\n}\n'
        'workload "train" {\n  kind       = "job"\n  run        = "true"\n  depends_on = [workload.prep]\n}\n'
        'workload "web" {\n  kind = "job"\n  run  = "true"\n}\n')
    out = skyplan("plan", "-exclude", "workload.prep", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Warning: Resource exclusion is in effect" in out.stdout and "1 to add" in out.stdout, out.stdout
    out = skyplan("apply", "-auto-approve", "-exclude", "workload.prep", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    listed = skyplan("state", "list", "--json", "--no-refresh", cwd=tmp_path)
    assert [r["address"] for r in json.loads(listed.stdout)["resources"]] == ["workload.web"]
    out = skyplan("plan", "-target", "workload.prep", "-exclude", "workload.prep", cwd=tmp_path)
    assert out.returncode == 1 and "both targeted and excluded" in out.stderr, out.stderr

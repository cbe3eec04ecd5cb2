"""The workflow glue end to end: real config folder, real SQLite state, the local
provider's real refresh, the solver, the planner, and the `skyplan plan` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.planner.cli_runner import run_cli

from skyplan import workflow
from skyplan.errors import LockError
from skyplan.planner import Action, PlanOptions

CONFIG = '''
workload "api" {
  kind = "service"
  resources {
    cpus = "1+"
  }
  run = "sleep 600"
}

workload "report" {
  kind       = "job"
  depends_on = [workload.api]
  resources {
    cpus = "1+"
  }
  run = "echo done"
}

output "greeting" {
  value = "hello"
}
'''


@pytest.fixture()
def folder(tmp_path):
    (tmp_path / "main.sky.hcl").write_text(CONFIG)
    return tmp_path


def skyplan(*args: str, cwd: Path):
    return run_cli(*args, cwd=cwd)


def record_as_applied(folder: Path, address: str, status: str = "running"):
    """Record ``address`` in state as an apply would have, with a node id the local
    provider does not know (so refresh finds it missing)."""
    from skyplan.config.model import resource_hash
    from skyplan.providers.base import Instance
    from skyplan.state.model import GroupRecord, ResourceRecord

    graph = workflow.load_config(folder)
    result = workflow.make_plan(folder, PlanOptions(refresh=False), create_state=True)
    store = result.store
    w = graph.workloads[address]
    p = result.solution.placements[address].groups[0].chosen
    inst = Instance(p.provider, f"{address}-gone", address, store.lineage, 0, 0, p.region, p.zone,
                    p.instance_type, p.pricing, state="running")
    store.record(ResourceRecord(address, "workload", status, (GroupRecord(p, (inst,)),), w.attributes(),
                                resource_hash(w)), action="create")
    return store


def test_fresh_folder_plans_without_creating_state(folder):
    result = workflow.make_plan(folder, PlanOptions())
    assert {c.address: c.action for c in result.plan.changes} == {
        "workload.api": Action.CREATE, "workload.report": Action.CREATE}
    assert result.store is None and not (folder / ".skyplan" / "state.db").exists()
    assert result.plan.lineage == "" and result.plan.serial == 0
    assert result.plan.output_changes["greeting"]["actions"] == ["create"]
    assert set(result.timings) >= {"load", "state", "refresh", "solve", "diff"}
    assert result.plan.catalog == {} or "source" in result.plan.catalog


def test_refresh_finds_missing_nodes_and_plans_them_again(folder):
    store = record_as_applied(folder, "workload.api")
    store.close()
    result = workflow.make_plan(folder, PlanOptions())
    try:
        api = next(c for c in result.plan.changes if c.address == "workload.api")
        assert api.action is Action.CREATE and api.reason == "replace_because_missing"
        assert [d.category for d in result.plan.drift] == ["missing"]
        assert result.plan.lineage == result.store.lineage and result.plan.serial == result.store.serial
        # Without refresh, state is taken at its word: nothing to do for the api.
        quiet = workflow.make_plan(folder, PlanOptions(refresh=False))
        assert next(c for c in quiet.plan.changes if c.address == "workload.api").action is Action.NOOP
        quiet.store.close()
    finally:
        result.store.close()


def test_plan_respects_a_held_lock(folder):
    store = record_as_applied(folder, "workload.api")
    try:
        other = workflow.open_state(workflow.load_config(folder))
        with other.lock("apply"):
            with pytest.raises(LockError):
                workflow.make_plan(folder, PlanOptions(refresh=False))
            # -lock=false reads without the lock; the caller's own locked store is re-entrant.
            workflow.make_plan(folder, PlanOptions(refresh=False, lock=False)).store.close()
            res = workflow.make_plan(folder, PlanOptions(refresh=False), store=other)
            assert res.store is other
        other.close()
    finally:
        store.close()


def test_cli_exit_codes_and_saved_plan(folder):
    out = skyplan("plan", "-detailed-exitcode", "-refresh=false", "-out", "p.plan", cwd=folder)
    assert out.returncode == 2, out.stderr
    assert "Plan: 2 to add, 0 to change, 0 to destroy." in out.stdout
    assert "skyplan apply p.plan" in out.stdout
    shown = skyplan("show", "p.plan", "--json", cwd=folder)
    assert json.loads(shown.stdout)["summary"] == {"add": 2, "change": 0, "destroy": 0}
    assert skyplan("plan", cwd=folder).returncode == 0
    md = skyplan("plan", "--format", "markdown", cwd=folder)
    assert md.stdout.startswith("<!-- skyplan-plan -->")
    js = skyplan("plan", "--json", "-target", "workload.api", cwd=folder)
    assert [r["address"] for r in json.loads(js.stdout)["resource_changes"]] == ["workload.api"]


def test_cli_errors_are_messages_not_tracebacks(folder):
    (folder / "broken.sky.hcl").write_text('workload "x" {\n  kind = "jobb"\n}\n')
    out = skyplan("plan", "-detailed-exitcode", "-out", "p.plan", cwd=folder)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "broken.sky.hcl:2" in out.stderr
    assert not (folder / "p.plan").exists() and not (folder / ".skyplan").exists()
    (folder / "broken.sky.hcl").unlink()
    for args, message in ((("-target", "nope"),), "not a resource address"), \
                         ((("-target", "workload.ghost"),), "matches no resource"), \
                         ((("-lock-timeout", "soon"),), "not a duration"), \
                         ((("--format", "yaml"),), "not one of"), \
                         ((("--catalog", "missing.csv"),), "not found"):
        out = skyplan("plan", *args[0], cwd=folder)
        assert out.returncode == 1 and message in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_destroy_plan_of_recorded_state(folder):
    store = record_as_applied(folder, "workload.report", status="succeeded")
    store.close()
    result = workflow.make_plan(folder, PlanOptions(destroy=True, refresh=False))
    try:
        assert [(c.address, c.action) for c in result.plan.changes] == [("workload.report", Action.DELETE)]
        assert result.plan.solver.get("status") == "optimal"
    finally:
        result.store.close()


def test_parallel_plans_wait_for_each_other_with_a_lock_timeout(folder):
    import threading

    record_as_applied(folder, "workload.api").close()
    results, errors = [], []

    def one():
        try:
            res = workflow.make_plan(folder, PlanOptions(refresh=False, lock_timeout=30.0))
            results.append(res.plan)
            res.store.close()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len(results) == 3
    assert len({(p.lineage, p.serial, tuple((c.address, c.action) for c in p.changes)) for p in results}) == 1


def test_refresh_only_plan_shows_drift_and_changes_nothing(folder):
    record_as_applied(folder, "workload.api").close()
    out = skyplan("plan", "--refresh-only", "-detailed-exitcode", cwd=folder)
    assert out.returncode == 2, out.stderr
    assert "Objects have changed outside of skyplan" in out.stdout
    assert "workload.api is missing" in out.stdout
    assert "refresh-only plan" in out.stdout and "will be created" not in out.stdout


REFS = '''
workload "head" {
  kind = "service"
  resources {
    cpus = "1+"
  }
  run = "sleep 600"
}

workload "worker" {
  kind = "service"
  resources {
    cpus = "1+"
  }
  env = {
    HEAD = workload.head.ip
  }
  run = "sleep 600"
}
'''


def test_values_known_after_apply_are_read_back_from_state(tmp_path):
    from skyplan.config.model import resource_hash
    from skyplan.providers.base import Instance
    from skyplan.state.model import GroupRecord, ResourceRecord

    (tmp_path / "main.sky.hcl").write_text(REFS)
    first = workflow.make_plan(tmp_path, PlanOptions(refresh=False), create_state=True)
    worker = next(c for c in first.plan.changes if c.address == "workload.worker")
    assert worker.action is Action.CREATE and worker.after_unknown == {"env": {"HEAD": True}}
    store = first.store
    for address in ("workload.head", "workload.worker"):
        w = first.graph.workloads[address]
        p = first.solution.placements[address].groups[0].chosen
        attrs = w.attributes()
        if address == "workload.worker":
            attrs = {**attrs, "env": {"HEAD": "10.1.2.3"}}
        inst = Instance(p.provider, f"{address}-0", address, store.lineage, 0, 0, p.region, p.zone,
                        p.instance_type, p.pricing, attributes={"ip": "10.1.2.3"})
        store.record(ResourceRecord(address, "workload", "running", (GroupRecord(p, (inst,)),), attrs,
                                    resource_hash(w)), action="create")
    again = workflow.make_plan(tmp_path, PlanOptions(refresh=False), store=store)
    assert {c.address: c.action for c in again.plan.changes} == {
        "workload.head": Action.NOOP, "workload.worker": Action.NOOP}
    # When the head itself is replaced, the worker's HEAD is unknown again and it must follow.
    moved = workflow.make_plan(tmp_path, PlanOptions(refresh=False, replace=("workload.head",)), store=store)
    worker = next(c for c in moved.plan.changes if c.address == "workload.worker")
    assert worker.action.is_replace and worker.after_unknown == {"env": {"HEAD": True}}
    store.close()

"""Values only known after apply reach the workloads that use them.

``env = { HEAD = workload.head.ip }`` is unknown when planning; apply evaluates it
once ``workload.head`` exists, so the dependant's process sees the real address
(and state records it), instead of a placeholder."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.apply.clirun import run

CONFIG = """
workload "head" {
  kind = "job"
  run  = "echo head is up"
}

workload "worker" {
  kind = "job"
  env  = { HEAD = workload.head.ip }
  run  = "echo \\"head=$HEAD\\" > ../../head.txt"
}
"""


@pytest.mark.slow
def test_env_referencing_another_workloads_ip_is_resolved_at_apply(tmp_path: Path):
    (tmp_path / "main.sky.hcl").write_text(CONFIG)
    plan = run("plan", str(tmp_path))
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "(known after apply)" in plan.stdout

    r = run("apply", str(tmp_path), "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr

    out = tmp_path / ".skyplan" / "local" / "head.txt"
    deadline = time.monotonic() + 20
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert out.read_text().strip() == "head=127.0.0.1"

    show = run("state", "show", "workload.worker", str(tmp_path), "--json")
    assert show.returncode == 0, show.stderr
    assert '"HEAD": "127.0.0.1"' in show.stdout.replace('":"', '": "')

    again = run("plan", str(tmp_path), "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr


def _unknown_plan(store):
    from dataclasses import replace

    from tests.apply.sim import create_change, plan_of

    head = create_change("workload.head")
    worker = replace(create_change("workload.worker", ["workload.head"]),
                     after={"kind": "service", "run": "w", "env": {"HEAD": None}, "resources": {},
                            "num_nodes": 1, "replicas": 1},
                     after_unknown={"env": {"HEAD": True}})
    return plan_of([head, worker], store.lineage)


@pytest.mark.parametrize("with_graph", [False, True])
def test_a_dependant_whose_inputs_stay_unknown_is_never_launched(tmp_path: Path, with_graph: bool):
    """The upstream's nodes report no address (this provider has none): the worker is
    not launched with a placeholder or an empty value; apply says why."""
    from skyplan import config
    from skyplan.apply import apply_plan
    from skyplan.state.store import StateStore
    from tests.apply.sim import SimProvider

    (tmp_path / "main.sky.hcl").write_text(
        'workload "head" {\n  run = "h"\n}\nworkload "worker" {\n  run = "w"\n  env = { HEAD = workload.head.ip }\n}\n')
    graph = config.load(tmp_path) if with_graph else None
    prov = SimProvider()
    with StateStore.open(tmp_path / "state.db") as store:
        res = apply_plan(_unknown_plan(store), store, {"sim": prov}, graph=graph)
        assert not res.ok
        assert [a for op, a in prov.calls if op == "create"] == ["workload.head"]
        (key,) = res.failed
        assert key == "workload.worker (create)"
        assert "env.HEAD is still unknown" in res.errors[key] and "not launched" in res.errors[key]
        worker = store.get("workload.worker")
        assert worker is None or not worker.instances

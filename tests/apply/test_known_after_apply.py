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

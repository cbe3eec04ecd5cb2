"""``state list``, ``state show`` and ``status`` read the same refreshed truth: a
job that finished after apply returned is ``succeeded`` in all three without
anything else run first; with ``-refresh=false`` the state views say they show
state as last recorded, and when. On the local provider through the CLI."""

from __future__ import annotations

import json
import time

import pytest

from skyplan.cli import main

CONFIG = """
workload "slow" {
  kind = "job"
  run  = "sleep 2; echo done"
}

workload "api" {
  kind = "service"
  run  = "sleep 600"
}
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def statuses(capsys, *argv: str) -> dict[str, str]:
    code, out, err = run(capsys, "state", "list", *argv, "--json")
    assert code == 0, out + err
    return {r["address"]: r["status"] for r in json.loads(out)["resources"]}


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "cfg"
    root.mkdir()
    (root / "main.sky.hcl").write_text(CONFIG)
    return root


def test_state_views_show_a_finished_job_as_finished(root, capsys):
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    try:
        assert code == 0, out + err
        assert "still running" in out + err
        assert statuses(capsys, str(root), "-refresh=false") == {"workload.api": "running", "workload.slow": "running"}

        deadline = time.monotonic() + 20
        while statuses(capsys, str(root))["workload.slow"] != "succeeded":
            assert time.monotonic() < deadline, "the job never finished"
            time.sleep(0.2)
        assert statuses(capsys, str(root)) == {"workload.api": "running", "workload.slow": "succeeded"}

        code, out, err = run(capsys, "state", "show", "workload.slow", str(root))
        assert code == 0, out + err
        assert "status      = succeeded" in out
        code, out, err = run(capsys, "state", "show", "workload.slow", str(root), "--json")
        assert json.loads(out)["status"] == "succeeded"
        code, out, err = run(capsys, "status", str(root), "--json")
        assert {r["address"]: r["state"] for r in json.loads(out)["resources"]}["workload.slow"] == "succeeded"

        code, out, err = run(capsys, "state", "list", str(root), "-refresh=false")
        assert code == 0, out + err
        assert "as last recorded" in out and "workload.slow  running" in out
        code, out, err = run(capsys, "state", "show", "workload.slow", str(root), "-refresh=false")
        assert "as last recorded" in out and "status      = running" in out
    finally:
        run(capsys, "destroy", str(root), "--auto-approve")

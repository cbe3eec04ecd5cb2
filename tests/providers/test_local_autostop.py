"""Autostop end to end on the local provider, through the CLI: a service whose
process group does nothing for its window (``autostop = "3s"``) is stopped by
its supervisor; refresh reports it ``stopped (autostop)``, which is not drift,
``status`` costs it $0/h, and ``skyplan start`` runs it again under the same id.
A busy node is left running."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from skyplan.cli import main
from skyplan.state import StateStore

CONFIG = """
provider "local" {}

workload "dev" {
  kind     = "service"
  run      = "sleep 600"
  autostop = "3s"
}

workload "busy" {
  kind     = "service"
  run      = "while true; do :; done"
  autostop = "3s"
}
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def record(root: Path, address: str):
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        return store.get(address)


def status(capsys, root: Path) -> dict:
    code, out, err = run(capsys, "status", str(root), "--json")
    assert code == 0, err
    return {r["address"]: r for r in json.loads(out)["resources"]}


def wait_for(capsys, root: Path, address: str, state: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        rows = status(capsys, root)
        if rows[address]["state"] == state or time.monotonic() > deadline:
            return rows
        time.sleep(0.5)


@pytest.fixture
def applied(tmp_path, capsys):
    (tmp_path / "main.sky.hcl").write_text(CONFIG)
    code, out, err = run(capsys, "apply", str(tmp_path), "--auto-approve")
    assert code == 0, out + err
    yield tmp_path
    run(capsys, "destroy", str(tmp_path), "--auto-approve")


def test_idle_service_stops_by_autostop_and_starts_again(applied, capsys):
    root = applied
    first = record(root, "workload.dev").instances[0]
    rows = wait_for(capsys, root, "workload.dev", "stopped (autostop)")
    assert rows["workload.dev"]["state"] == "stopped (autostop)"
    assert rows["workload.dev"]["hourly_cost"] == 0.0
    assert "disks are still billed" in rows["workload.dev"]["reason"]
    assert rows["workload.busy"]["state"] == "running"  # it burns CPU the whole time: never idle
    log = Path(first.attributes["log"]).read_text()
    assert "autostop: no process activity for 3s" in log

    code, out, _ = run(capsys, "drift", str(root))
    assert code == 0, out  # stopped by autostop is not drift
    code, out, err = run(capsys, "drift", str(root), "--repair", "--auto-approve")
    assert code == 0, out + err
    assert status(capsys, root)["workload.dev"]["state"] == "stopped (autostop)"  # repair left it stopped

    code, out, err = run(capsys, "plan", str(root), "--detailed-exitcode")
    assert code == 0, out + err  # nothing to change: the stop is the node's normal life

    code, out, err = run(capsys, "start", "workload.dev", str(root))
    assert code == 0, out + err
    assert "workload.dev is running." in out
    rec = record(root, "workload.dev")
    assert rec.status == "running" and rec.reason == ""
    assert rec.instances[0].id == first.id  # the same node, started again
    assert status(capsys, root)["workload.dev"]["state"] == "running"

    code, out, _ = run(capsys, "start", "workload.dev", str(root))
    assert code == 0 and "already running" in out


def test_start_refuses_an_address_not_in_state(applied, capsys):
    code, _, err = run(capsys, "start", "workload.nope", str(applied))
    assert code == 1 and "workload.nope is not in state" in err


def test_apply_replace_brings_a_stopped_node_back_as_a_new_one(applied, capsys):
    root = applied
    first = record(root, "workload.dev").instances[0]
    wait_for(capsys, root, "workload.dev", "stopped (autostop)")
    code, out, err = run(capsys, "apply", str(root), "-replace", "workload.dev", "--auto-approve")
    assert code == 0, out + err
    rec = record(root, "workload.dev")
    assert rec.status == "running" and rec.reason == "" and rec.instances[0].id != first.id
    assert status(capsys, root)["workload.dev"]["state"] == "running"

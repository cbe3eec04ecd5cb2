"""Autostop on the Compute Engine emulator, through the CLI. A guest ``shutdown -h``
leaves a VM ``TERMINATED`` (Compute Engine's word for stopped); the emulator runs
no guest, so the idle timer's console lines are appended to the serial port and
the VM is stopped through the API. Refresh reads the console of a stopped VM that
carries the autostop label: ``stopped (autostop)``, not drift, $0/h compute;
``skyplan start`` calls ``instances.start``. A stop without the timer's line is drift."""

from __future__ import annotations

import json

import pytest

from tests.providers.gcp.helpers import PROJECT
from tests.providers.gcp.test_e2e import record, run, sdk, write

DEV = """
workload "dev" {
  kind     = "service"
  run      = "sleep infinity"
  autostop = "2h"
  resources {
    instance_type = "e2-standard-4"
  }
}
"""


def state_of(capsys, root) -> dict:
    code, out = run(capsys, "status", str(root), "--json")
    assert code == 0, out
    return {r["address"]: r for r in json.loads(out[:out.rindex("}") + 1])["resources"]}["workload.dev"]


def stop(gce, inst) -> tuple[str, str]:
    _, zone, name = inst.id.split("/")
    sdk(gce).stop(project=PROJECT, zone=zone, instance=name)
    return zone, name


@pytest.mark.slow
def test_guest_shutdown_by_the_idle_timer_is_stopped_by_autostop_and_start_brings_it_back(tmp_path, gce, capsys):
    root = write(tmp_path, gce, DEV)
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    rec, _ = record(root, "workload.dev")
    inst = rec.instances[0]
    raw = next(r for r in gce.all_instances(PROJECT) if r["name"] == inst.id.split("/")[2])
    assert raw["labels"]["skyplan-autostop"] == "2h"
    script = next(i["value"] for i in raw["metadata"]["items"] if i["key"] == "startup-script")
    assert "skyplan-autostop.service" in script and "shutdown -h now" in script

    zone, name = inst.id.split("/")[1:]
    gce.console(PROJECT, zone, name, "skyplan: autostop armed (2h)\nskyplan: autostop stopped after 2h idle\n")
    stop(gce, inst)
    row = state_of(capsys, root)
    assert row["state"] == "stopped (autostop)" and row["hourly_cost"] == 0.0
    code, out = run(capsys, "drift", str(root))
    assert code == 0, out

    code, out = run(capsys, "start", "workload.dev", str(root))
    assert code == 0, out
    assert gce.calls("instances.start")
    assert state_of(capsys, root)["state"] == "running"
    rec, _ = record(root, "workload.dev")
    assert rec.status == "running" and rec.instances[0].id == inst.id

    # started again, the timer arms itself on boot; a stop by someone now is drift
    gce.console(PROJECT, zone, name, "skyplan: autostop armed (2h)\n")
    stop(gce, inst)
    assert state_of(capsys, root)["state"] == "stopped"
    code, out = run(capsys, "drift", str(root))
    assert code == 2, out
    run(capsys, "destroy", str(root), "--auto-approve")

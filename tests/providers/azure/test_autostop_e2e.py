"""Autostop on the ARM emulator, through the CLI. A guest ``shutdown -h`` leaves an
Azure VM ``PowerState/stopped`` (still allocated: Azure bills its compute until it
is deallocated). The emulator runs no guest, so the idle timer's lines go to the
VM's serial log and its power state is set as the guest shutdown leaves it.
Refresh reads the serial log of a stopped VM tagged ``skyplan-autostop``:
``stopped (autostop)``, not drift, its compute still costed; ``skyplan start``
calls ``virtual_machines.begin_start``."""

from __future__ import annotations

import json

import pytest

from tests.providers.azure.test_e2e import run, write

DEV = """
workload "dev" {{
  kind     = "service"
  run      = "sleep infinity"
  autostop = "2h"
  resources {{
    instance_type = "Standard_D2s_v5"
  }}
}}
"""


def row(capsys, root) -> dict:
    code, out, err = run(capsys, "status", str(root), "--json")
    assert code == 0, out + err
    return {r["address"]: r for r in json.loads(out)["resources"]}["workload.dev"]


@pytest.mark.slow
def test_guest_shutdown_by_the_idle_timer_is_stopped_by_autostop_and_start_brings_it_back(tmp_path, arm, capsys):
    from tests.providers.azure import test_e2e

    root = tmp_path / "cfg"
    write(root, arm)
    text = (root / "main.sky.hcl").read_text()
    cut = text.index('workload "spot"')
    (root / "main.sky.hcl").write_text(text[:cut] + DEV.format())
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out + err
    rec = test_e2e.records(root)["workload.dev"]
    inst = rec.instances[0]
    rg, name = inst.attributes["resource_group"], inst.attributes["name"]
    [vm] = [v for v in arm.vms(rg) if v["name"] == name]
    assert vm["tags"]["skyplan-autostop"] == "2h"

    with arm.lock:  # the timer's console lines, then the guest's power-off
        vid = arm._vm_id(rg, name)
        arm.serial[vid] = arm.serial.get(vid, "") + "skyplan: autostop armed (2h)\nskyplan: autostop stopped after 2h idle\n"
        arm.resources[vid]["_power"] = "stopped"
    now = row(capsys, root)
    assert now["state"] == "stopped (autostop)"
    assert now["hourly_cost"] == rec.hourly_cost > 0 and "bills compute until it is deallocated" in now["reason"]
    code, out, err = run(capsys, "drift", str(root))
    assert code == 0, out + err

    code, out, err = run(capsys, "start", "workload.dev", str(root))
    assert code == 0, out + err
    assert arm.count("POST", r"/virtualMachines/.*/start") == 1
    assert row(capsys, root)["state"] == "running"
    run(capsys, "destroy", str(root), "--auto-approve")

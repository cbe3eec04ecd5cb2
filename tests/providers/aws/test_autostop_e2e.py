"""Autostop end to end through the CLI against moto's EC2 server.

apply launches the service with ``InstanceInitiatedShutdownBehavior = stop``, the
``skyplan:autostop`` tag and the idle timer in its user data (what EC2 stores,
read back over the wire). moto runs no guest, so the timer's ``shutdown -h now``
is played by a stop whose StateReason the fault middleware rewrites to the one
EC2 gives a guest shutdown (``Client.InstanceInitiatedShutdown``). Refresh then
reports ``stopped (autostop)``: not drift, $0/h compute in ``status``; ``skyplan
start`` starts the same instance again. A stop by someone (the reason EC2 gives
``StopInstances``) stays drift.
"""

from __future__ import annotations

import base64
import json

import boto3
import pytest

from skyplan.cli import main
from skyplan.state import StateStore
from tests.providers.aws.helpers import AMI, CATALOG_M5, CONFIG_HEAD

CONFIG = CONFIG_HEAD + """
workload "dev" {{
  kind     = "service"
  run      = "sleep infinity"
  autostop = "2h"
  resources {{
    instance_type = "m5.large"
  }}
}}
"""

GUEST_SHUTDOWN = ["Client.UserInitiatedShutdown", "Client.InstanceInitiatedShutdown"]


def run(capsys, *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return exc.value.code, out + err


def status(capsys, root) -> dict:
    code, out = run(capsys, "status", str(root), "--json")
    assert code == 0, out
    return {r["address"]: r for r in json.loads(out)["resources"]}["workload.dev"]


@pytest.fixture
def applied(tmp_path, moto, capsys):
    root = tmp_path / "cfg"
    root.mkdir()
    (root / "main.sky.hcl").write_text(CONFIG.format(url=moto.url, ami=AMI))
    (root / "catalog.csv").write_text(CATALOG_M5)
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        iid = store.get("workload.dev").instances[0].id
    return root, iid, boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url)


@pytest.mark.slow
def test_launch_asks_ec2_to_stop_on_guest_shutdown_and_installs_the_timer(applied):
    _, iid, ec2 = applied
    behaviour = ec2.describe_instance_attribute(InstanceId=iid, Attribute="instanceInitiatedShutdownBehavior")
    assert behaviour["InstanceInitiatedShutdownBehavior"]["Value"] == "stop"
    raw = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    assert {t["Key"]: t["Value"] for t in raw["Tags"]}["skyplan:autostop"] == "2h"
    data = ec2.describe_instance_attribute(InstanceId=iid, Attribute="userData")["UserData"]["Value"]
    script = base64.b64decode(data).decode()
    assert "skyplan-autostop.service" in script and "shutdown -h now" in script and "nvidia-smi" in script


@pytest.mark.slow
def test_guest_shutdown_is_stopped_by_autostop_and_start_brings_it_back(applied, moto, capsys):
    root, iid, ec2 = applied
    ec2.stop_instances(InstanceIds=[iid])
    moto.inject(action="DescribeInstances", times=1000, replace=GUEST_SHUTDOWN)

    row = status(capsys, root)
    assert row["state"] == "stopped (autostop)" and row["hourly_cost"] == 0.0
    code, out = run(capsys, "drift", str(root))
    assert code == 0, out  # not drift
    code, out = run(capsys, "drift", str(root), "--repair", "--auto-approve")
    assert code == 0, out
    assert ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["State"]["Name"] == "stopped"
    assert moto.calls("StartInstances") == []  # repair left it stopped

    code, out = run(capsys, "start", "workload.dev", str(root))
    assert code == 0, out
    moto.clear_faults()
    assert len(moto.calls("StartInstances")) == 1
    assert ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["State"]["Name"] == "running"
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        rec = store.get("workload.dev")
    assert rec.status == "running" and rec.instances[0].id == iid
    assert status(capsys, root)["state"] == "running"
    code, out = run(capsys, "destroy", str(root), "--auto-approve")
    assert code == 0, out


@pytest.mark.slow
def test_a_stop_by_someone_is_still_drift(applied, capsys):
    root, iid, ec2 = applied
    ec2.stop_instances(InstanceIds=[iid])  # StateReason Client.UserInitiatedShutdown
    assert status(capsys, root)["state"] == "stopped"
    code, out = run(capsys, "drift", str(root))
    assert code == 2 and "workload.dev" in out

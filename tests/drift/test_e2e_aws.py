"""End to end on AWS (moto's EC2 server on 127.0.0.1) through the CLI.

Apply a spot service and an on-demand service, then behind skyplan's back:
terminate the spot node (a preemption in its zone), change a tag on the other
node and stop it, and launch an orphan carrying the lineage. ``drift`` reports
each (exit 2); ``drift --repair`` re-places the spot node outside the lost
zone, puts the tag back, starts the stopped node and deletes the orphan; the
next ``drift`` exits 0. An unreachable endpoint is exit 1 with nothing
reported missing.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from skyplan.cli import main
from skyplan.providers.base import TAG_ADDRESS, TAG_GROUP, TAG_LINEAGE
from skyplan.state import StateStore
from tests.providers.aws.helpers import AMI

CONFIG = """
provider "aws" {{
  regions      = ["us-east-1"]
  endpoint_url = "{url}"
}}

workload "spot" {{
  kind    = "service"
  image   = "{ami}"
  pricing = ["spot"]
  resources {{
    instance_type = "c7g.medium"
  }}
}}

workload "web" {{
  kind    = "service"
  image   = "{ami}"
  resources {{
    instance_type = "m7g.medium"
  }}
}}
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def record(root: Path, address: str):
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        return store.get(address), store.lineage


@pytest.fixture
def applied(tmp_path, moto, capsys):
    root = tmp_path / "cfg"
    root.mkdir()
    (root / "main.sky.hcl").write_text(CONFIG.format(url=moto.url, ami=AMI))
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out + err
    return root


@pytest.mark.slow
def test_preemption_tag_edit_orphan_reported_and_repaired(applied, moto, capsys):
    root = applied
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url)
    spot, lineage = record(root, "workload.spot")
    web, _ = record(root, "workload.web")
    lost_zone = spot.instances[0].zone
    assert spot.instances[0].pricing == "spot" and lost_zone

    ec2.terminate_instances(InstanceIds=[spot.instances[0].id])
    ec2.create_tags(Resources=[web.instances[0].id], Tags=[{"Key": "owner", "Value": "console-user"}])
    ec2.stop_instances(InstanceIds=[web.instances[0].id])
    orphan = ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1, TagSpecifications=[{
        "ResourceType": "instance", "Tags": [{"Key": TAG_LINEAGE, "Value": lineage},
                                             {"Key": TAG_ADDRESS, "Value": "workload.leftover"},
                                             {"Key": TAG_GROUP, "Value": "0"}]}])["Instances"][0]["InstanceId"]

    code, out, err = run(capsys, "drift", str(root), "--json")
    assert code == 2, out + err
    items = {(i["address"], i["category"]): i for i in json.loads(out)["items"]}
    assert set(items) == {("workload.spot", "missing"), ("workload.web", "changed"),
                          ("workload.leftover", "unmanaged")}
    assert items[("workload.web", "changed")]["paths"] == ["state", "tags.owner"]
    assert items[("workload.leftover", "unmanaged")]["provider_ids"] == [orphan]

    code, out, err = run(capsys, "drift", str(root), "--repair", "--auto-approve", "--json")
    assert code == 0, out + err
    assert json.loads(out)["repair"]["after"]["in_sync"]

    spot_after, _ = record(root, "workload.spot")
    assert spot_after.instances and spot_after.instances[0].zone != lost_zone
    assert spot_after.instances[0].pricing == "spot"
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [web.instances[0].id]}])["Tags"]
    assert "owner" not in {t["Key"] for t in tags}
    web_state = ec2.describe_instances(InstanceIds=[web.instances[0].id])["Reservations"][0]["Instances"][0]
    assert web_state["State"]["Name"] == "running"
    state = ec2.describe_instances(InstanceIds=[orphan])["Reservations"][0]["Instances"][0]["State"]["Name"]
    assert state in ("shutting-down", "terminated")

    code, out, err = run(capsys, "drift", str(root))
    assert code == 0, out + err


def test_unreachable_provider_is_exit_1_and_nothing_missing(applied, capsys):
    root = applied
    cfg = (root / "main.sky.hcl").read_text()
    import re

    (root / "main.sky.hcl").write_text(re.sub(r'endpoint_url = "[^"]+"', 'endpoint_url = "http://127.0.0.1:9"', cfg))
    code, out, err = run(capsys, "drift", str(root), "--json")
    assert code == 1
    assert "cannot refresh: provider aws unreachable" in err
    assert "missing" not in out


def test_repair_lists_each_region_once_before_it_plans(applied, moto, capsys):
    """The repair plan starts from the refresh ``drift`` just made under the same
    lock: one listing to find the drift, one read of the restored node, one
    listing to check the result; not a second listing before planning."""
    root = applied
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url)
    web, _ = record(root, "workload.web")
    ec2.create_tags(Resources=[web.instances[0].id], Tags=[{"Key": "owner", "Value": "console-user"}])
    with moto.middleware.lock:
        moto.middleware.calls.clear()

    code, out, err = run(capsys, "drift", str(root), "--repair", "--auto-approve", "--json")
    assert code == 0, out + err
    assert json.loads(out)["repair"]["counts"]["restored"] == 1
    assert len(moto.calls("DescribeInstances")) == 3


def test_refresh_only_apply_follows_skyplanignore(applied, moto, capsys):
    """Drift a team accepted in .skyplanignore is not written into state by
    ``apply --refresh-only`` either: it reads what ``drift`` and ``plan`` read."""
    root = applied
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url)
    web, _ = record(root, "workload.web")
    ec2.create_tags(Resources=[web.instances[0].id], Tags=[{"Key": "owner", "Value": "console-user"}])
    (root / ".skyplanignore").write_text("workload.web:tags.owner\n")

    code, out, err = run(capsys, "apply", str(root), "--refresh-only", "--auto-approve")
    assert code == 0, out + err
    assert "No changes" in out
    after, _ = record(root, "workload.web")
    assert "owner" not in after.instances[0].tags


def test_drift_with_the_provider_block_removed_says_so_like_plan(applied, moto, capsys):
    """State holds AWS instances but the configuration no longer declares the
    provider: drift refuses with the message plan gives, instead of building a
    provider with default settings and asking whatever AWS account that finds."""
    root = applied
    (root / "main.sky.hcl").write_text("")
    moto.middleware.calls.clear()
    for argv in (("plan", str(root)), ("drift", str(root))):
        code, out, err = run(capsys, *argv)
        assert code == 1, argv
        assert "which the configuration does not declare" in err, (argv, err)
        assert "Traceback" not in out + err
    assert moto.calls() == []


def test_spot_service_stopped_by_an_interruption_is_repaired_in_another_zone(applied, moto, capsys):
    root = applied
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url)
    spot, _ = record(root, "workload.spot")
    lost = spot.instances[0]
    ec2.stop_instances(InstanceIds=[lost.id])
    moto.inject(action="DescribeInstances", times=1000,
                replace=["Client.UserInitiatedShutdown", "Server.SpotInstanceShutdown"])

    code, out, err = run(capsys, "drift", str(root), "--repair", "--auto-approve", "--json")
    assert code == 0, out + err
    after, _ = record(root, "workload.spot")
    assert after.instances[0].id != lost.id and after.instances[0].zone != lost.zone
    old = ec2.describe_instances(InstanceIds=[lost.id])["Reservations"][0]["Instances"][0]["State"]["Name"]
    assert old in ("shutting-down", "terminated")
    code, out, err = run(capsys, "drift", str(root))
    assert code == 0, out + err


@pytest.mark.slow
def test_sigterm_during_repair_lets_running_actions_finish_and_exits_130(applied, moto):
    """Scheduled repairs run under CI runners and systemd, which stop a run with
    SIGTERM/SIGINT: like apply, the repair stops starting actions, lets the
    running launch end (here at its launch timeout) and exits 130."""
    import os
    import signal
    import subprocess
    import sys
    import time

    root = applied
    cfg = (root / "main.sky.hcl").read_text()
    (root / "main.sky.hcl").write_text(cfg.replace('regions      = ["us-east-1"]',
                                                   'regions      = ["us-east-1"]\n  launch_timeout = 3\n'
                                                   '  poll_interval = 0.1'))
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url)
    web, _ = record(root, "workload.web")
    ec2.terminate_instances(InstanceIds=[web.instances[0].id])
    moto.inject(action="DescribeInstances", times=10_000, replace=["<name>running</name>", "<name>pending</name>"])
    with moto.middleware.lock:
        moto.middleware.calls.clear()
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1"}
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from skyplan.cli import main; main(sys.argv[1:])",
                             "drift", str(root), "--repair", "--auto-approve"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    while not moto.calls("RunInstances") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert moto.calls("RunInstances"), proc.communicate(timeout=30)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert "Interrupt received" in err

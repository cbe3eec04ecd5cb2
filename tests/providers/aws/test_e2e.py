"""End to end through the CLI against moto's EC2 server: apply creates tagged
instances of the planned type, destroy leaves nothing; an injected
InsufficientInstanceCapacity in the first zone makes apply fail over to the next."""

from __future__ import annotations

import boto3
import pytest

from skyplan.cli import main
from skyplan.providers.base import TAG_ADDRESS, TAG_GROUP, TAG_LINEAGE
from skyplan.state import StateStore
from tests.providers.aws.helpers import AMI, CONFIG_HEAD

CONFIG = CONFIG_HEAD + """
workload "train" {{
  kind      = "job"
  num_nodes = 2
  run       = "python train.py"
  env       = {{ EPOCHS = "3" }}
  resources {{
    instance_type = "m5.large"
  }}
}}
"""

CATALOG = """InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone,Cloud
m5.large,,,2,8,0.096,,us-east-1,us-east-1a,aws
m5.large,,,2,8,0.097,,us-east-1,us-east-1b,aws
"""


def run(capsys, *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return exc.value.code, out + err


def live(moto, lineage: str) -> list[dict]:
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url)
    pages = ec2.get_paginator("describe_instances").paginate(Filters=[
        {"Name": f"tag:{TAG_LINEAGE}", "Values": [lineage]},
        {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}])
    return [i for p in pages for r in p["Reservations"] for i in r["Instances"]]


@pytest.fixture
def root(tmp_path, moto):
    root = tmp_path / "cfg"
    root.mkdir()
    (root / "main.sky.hcl").write_text(CONFIG.format(url=moto.url, ami=AMI))
    (root / "catalog.csv").write_text(CATALOG)
    return root


@pytest.mark.slow
def test_apply_creates_tagged_instances_and_destroy_removes_them(root, moto, capsys):
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        lineage = store.lineage
        rec = store.get("workload.train")
    insts = live(moto, lineage)
    assert len(insts) == 2 and {i["InstanceType"] for i in insts} == {"m5.large"}
    tags = [{t["Key"]: t["Value"] for t in i["Tags"]} for i in insts]
    assert all(t[TAG_ADDRESS] == "workload.train" and t[TAG_GROUP] == "0" and t["Name"] for t in tags)
    assert sorted(i.id for i in rec.instances) == sorted(i["InstanceId"] for i in insts)
    assert {i["Placement"]["AvailabilityZone"] for i in insts} == {"us-east-1a"}

    code, out = run(capsys, "plan", str(root), "--detailed-exitcode")  # refresh finds exactly what was made
    assert code == 0, out

    code, out = run(capsys, "destroy", str(root), "--auto-approve")
    assert code == 0, out
    assert live(moto, lineage) == []


@pytest.mark.slow
def test_capacity_error_in_first_zone_fails_over_to_the_next(root, moto, capsys):
    moto.inject("InsufficientInstanceCapacity", action="RunInstances", zone="us-east-1a")
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        lineage = store.lineage
        rec = store.get("workload.train")
    insts = live(moto, lineage)
    assert {i["Placement"]["AvailabilityZone"] for i in insts} == {"us-east-1b"} and len(insts) == 2
    assert rec.groups[0].placement.zone == "us-east-1b"
    assert len(moto.calls("RunInstances")) == 2


@pytest.mark.slow
def test_import_adopts_an_existing_instance_and_tags_it(root, moto, capsys):
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url)
    (raw,) = ec2.run_instances(ImageId=AMI, InstanceType="m5.large", MinCount=1, MaxCount=1,
                               Placement={"AvailabilityZone": "us-east-1b"})["Instances"]
    code, out = run(capsys, "import", "workload.train", raw["InstanceId"], str(root))
    assert code == 0, out
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        lineage = store.lineage
        rec = store.get("workload.train")
    assert [i.id for i in rec.instances] == [raw["InstanceId"]]
    assert rec.groups[0].placement.zone == "us-east-1b"
    (tagged,) = live(moto, lineage)
    assert {t["Key"]: t["Value"] for t in tagged["Tags"]}[TAG_ADDRESS] == "workload.train"


@pytest.mark.slow
def test_throttling_is_retried_by_botocore_then_by_apply(root, moto, capsys):
    # 3 throttles: botocore absorbs one, apply's backoff retries the TransientError, the 4th call launches.
    moto.inject("RequestLimitExceeded", action="RunInstances", times=3)
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        lineage = store.lineage
    assert len(live(moto, lineage)) == 2
    assert len(moto.calls("RunInstances")) == 4

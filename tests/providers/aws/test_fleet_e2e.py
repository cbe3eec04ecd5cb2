"""Fleets on AWS end to end through the CLI against the EC2 test server: a
provisioned fleet is an On-Demand Capacity Reservation, and the workloads placed
on it launch into it (not as an instance type named after the fleet)."""

from __future__ import annotations

import boto3
import pytest

from skyplan.providers.base import TAG_ADDRESS, TAG_LINEAGE
from skyplan.state import StateStore
from tests.providers.aws.helpers import AMI
from tests.providers.aws.test_e2e import run

PROVIDER = """
skyplan {{
  catalog = "catalog.csv"
}}

provider "aws" {{
  regions        = ["us-east-1"]
  endpoint_url   = "{url}"
  image_id       = "{ami}"
  poll_interval  = 0.05
  launch_timeout = 30
}}
"""

POOL = """
fleet "pool" {
  provider = "aws"
  nodes    = 2
  resources {
    accelerators = "A10G:1"
  }
}
"""


def job(name: str, fleet: str | None = "fleet.pool", acc: str = "A10G:1") -> str:
    where = f"\n  placement {{\n    fleet = {fleet}\n  }}" if fleet else ""
    return f"""
workload "{name}" {{
  kind = "job"
  run  = "python train.py"
  resources {{
    accelerators = "{acc}"
  }}{where}
}}
"""


CATALOG = """InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone,Cloud
g5.xlarge,A10G,1,4,16,1.006,,us-east-1,us-east-1a,aws
g5.xlarge,A10G,1,4,16,1.006,,us-east-1,us-east-1b,aws
m5.large,,,2,8,0.096,,us-east-1,us-east-1a,aws
"""


def ec2(moto):
    return boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url)


def live(moto, lineage: str) -> list[dict]:
    pages = ec2(moto).get_paginator("describe_instances").paginate(Filters=[
        {"Name": f"tag:{TAG_LINEAGE}", "Values": [lineage]},
        {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}])
    return [i for p in pages for r in p["Reservations"] for i in r["Instances"]]


def reservations(moto, lineage: str, state: str = "active") -> list[dict]:
    return ec2(moto).describe_capacity_reservations(Filters=[
        {"Name": f"tag:{TAG_LINEAGE}", "Values": [lineage]},
        {"Name": "state", "Values": [state]}])["CapacityReservations"]


def tags(raw: dict) -> dict:
    return {t["Key"]: t["Value"] for t in raw.get("Tags", ())}


def write(root, moto, *blocks: str):
    root.mkdir(exist_ok=True)
    (root / "main.sky.hcl").write_text(PROVIDER.format(url=moto.url, ami=AMI) + "".join(blocks))
    (root / "catalog.csv").write_text(CATALOG)


def lineage_of(root) -> str:
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        return store.lineage


@pytest.mark.slow
def test_a_job_on_a_provisioned_fleet_launches_into_its_reservation(tmp_path, moto, capsys):
    root = tmp_path / "cfg"
    write(root, moto, POOL, job("train"))
    code, out = run(capsys, "plan", str(root))
    assert code == 0, out
    assert "fleet:pool" not in out and "g5.xlarge" in out, out

    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    lineage = lineage_of(root)
    (cr,) = reservations(moto, lineage)
    assert (cr["InstanceType"], cr["TotalInstanceCount"], cr["InstanceMatchCriteria"]) == ("g5.xlarge", 2, "targeted")
    assert tags(cr)[TAG_ADDRESS] == "fleet.pool"
    (inst,) = live(moto, lineage)  # the fleet itself runs no idle nodes: only the job's
    assert tags(inst)[TAG_ADDRESS] == "workload.train" and inst["InstanceType"] == "g5.xlarge"
    assert inst["CapacityReservationId"] == cr["CapacityReservationId"]
    assert inst["Placement"]["AvailabilityZone"] == cr["AvailabilityZone"]
    assert reservations(moto, lineage)[0]["AvailableInstanceCount"] == 1

    code, out = run(capsys, "status", str(root))
    assert code == 0, out
    assert "creating" not in out, out

    code, out = run(capsys, "plan", str(root), "--detailed-exitcode")  # refresh finds what was made
    assert code == 0, out

    code, out = run(capsys, "destroy", str(root), "--auto-approve")
    assert code == 0, out
    assert live(moto, lineage) == [] and reservations(moto, lineage) == []
    assert len(reservations(moto, lineage, "cancelled")) == 1

"""A service with a spot block on moto's EC2 server, through the CLI: the on-demand
base and the spot rest launched as EC2 says (``InstanceLifecycle``), its endpoints read
from the instances' addresses, and a spot replica terminated through the EC2 API
(a preemption) replaced by an on-demand one under ``fallback_on_demand``."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from skyplan.cli import main
from skyplan.state import StateStore, capacity
from tests.providers.aws.helpers import AMI, CONFIG_HEAD

CATALOG = """InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone,Cloud,InterruptionBand
m5.large,,,2,8,0.096,0.035,us-east-1,us-east-1a,aws,<5%
m5.large,,,2,8,0.096,0.036,us-east-1,us-east-1b,aws,<5%
m5.large,,,2,8,0.096,0.037,us-east-1,us-east-1c,aws,<5%
"""

SERVICE = """
workload "api" {{
  kind     = "service"
  replicas = 3
  ports    = [8000]
  pricing  = ["spot", "on_demand"]
  run      = "python3 -m http.server 8000"
  resources {{
    instance_type = "m5.large"
  }}
  placement {{
    spread = "zone"
  }}
  spot {{
    base_on_demand_replicas = 1
    fallback_on_demand      = {fallback}
  }}
}}

output "endpoints" {{
  value = workload.api.endpoints
}}
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def record(root, address="workload.api"):
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        return store.get(address)


def lifecycles(ec2, ids) -> dict[str, str]:
    """instance id -> "spot" or "on_demand", as EC2 reports it."""
    out = {}
    for r in ec2.describe_instances(InstanceIds=list(ids))["Reservations"]:
        for i in r["Instances"]:
            out[i["InstanceId"]] = "spot" if i.get("InstanceLifecycle") == "spot" else "on_demand"
    return out


def apply_service(tmp_path, moto, capsys, fallback: bool = True):
    root = tmp_path / "cfg"
    root.mkdir()
    (root / "catalog.csv").write_text(CATALOG)
    (root / "main.sky.hcl").write_text(CONFIG_HEAD.format(url=moto.url, ami=AMI) +
                                       SERVICE.format(fallback="true" if fallback else "false"))
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out + err
    return root


@pytest.mark.slow
def test_base_on_demand_and_spot_rest_with_endpoints_from_instance_addresses(tmp_path, moto, capsys):
    root = apply_service(tmp_path, moto, capsys)
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url)
    rec = record(root)
    ids = [i.id for i in rec.instances]
    assert len(ids) == 3 and len(moto.calls("RunInstances")) == 3
    assert sorted(lifecycles(ec2, ids).values()) == ["on_demand", "spot", "spot"]
    assert sorted(i.pricing for i in rec.instances) == ["on_demand", "spot", "spot"]
    assert len({i.zone for i in rec.instances}) == 3  # the spread holds across pricing models

    live = [i for r in ec2.describe_instances(InstanceIds=ids)["Reservations"] for i in r["Instances"]]
    addresses = {i.get("PrivateIpAddress") or i.get("PublicIpAddress") for i in live}
    code, out, err = run(capsys, "output", str(root), "--json")
    assert code == 0, out + err
    endpoints = json.loads(out)["endpoints"]
    endpoints = endpoints.get("value", endpoints) if isinstance(endpoints, dict) else endpoints
    assert sorted(endpoints) == sorted(f"{ip}:8000" for ip in addresses) and None not in addresses
    code, out, err = run(capsys, "status", str(root))
    assert code == 0, out + err
    assert all(e in out for e in endpoints), out


@pytest.mark.slow
def test_a_preempted_spot_replica_comes_back_on_demand_under_fallback(tmp_path, moto, capsys):
    root = apply_service(tmp_path, moto, capsys)
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url)
    before = record(root)
    spot = sorted((i for i in before.instances if i.pricing == "spot"), key=lambda i: i.zone)
    lost, kept = spot[0], spot[1]
    ec2.terminate_instances(InstanceIds=[lost.id])

    code, out, err = run(capsys, "drift", str(root), "--json")
    assert code == 2, out + err
    items = {(i["address"], i["category"]) for i in json.loads(out)["items"]}
    assert ("workload.api", "missing") in items

    launched = len(moto.calls("RunInstances"))
    code, out, err = run(capsys, "drift", str(root), "--repair", "--auto-approve", "--json")
    assert code == 0, out + err
    after = record(root)
    assert sorted(i.pricing for i in after.instances) == ["on_demand", "on_demand", "spot"]
    ids = [i.id for i in after.instances]
    # only the lost replica is launched again; the two that serve keep running
    assert {i.id for i in before.instances if i.id != lost.id} <= set(ids)
    assert len(moto.calls("RunInstances")) == launched + 1
    assert sorted(lifecycles(ec2, ids).values()) == ["on_demand", "on_demand", "spot"]
    spot_after = [i for i in after.instances if i.pricing == "spot"]
    assert spot_after[0].zone == kept.zone
    assert lost.zone not in {i.zone for i in after.instances if i.pricing == "spot"}

    # the lost zone is remembered in state: the next plan keeps the replica on on-demand
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out + err
    assert sorted(i.pricing for i in record(root).instances) == ["on_demand", "on_demand", "spot"]

    # once the memory has expired spot counts as there again, and the next plan moves back
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        later = datetime.now(timezone.utc) + timedelta(hours=2)
        assert capacity.recall(store, later) == {}  # reading past the expiry deletes what expired
    code, out, err = run(capsys, "drift", str(root))
    assert code == 0, out + err
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out + err
    back = record(root)
    assert sorted(i.pricing for i in back.instances) == ["on_demand", "spot", "spot"]
    fallback = {i.id for i in after.instances} - {i.id for i in before.instances}
    assert {i.id for i in after.instances} - fallback <= {i.id for i in back.instances}  # only it moved back
    assert sorted(lifecycles(ec2, [i.id for i in back.instances]).values()) == ["on_demand", "spot", "spot"]


@pytest.mark.slow
def test_without_fallback_a_preempted_spot_replica_stays_on_spot_elsewhere(tmp_path, moto, capsys):
    root = apply_service(tmp_path, moto, capsys, fallback=False)
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url)
    lost = next(i for i in record(root).instances if i.pricing == "spot")
    ec2.terminate_instances(InstanceIds=[lost.id])
    code, out, err = run(capsys, "drift", str(root), "--repair", "--auto-approve", "--json")
    assert code == 0, out + err
    after = record(root)
    assert sorted(i.pricing for i in after.instances) == ["on_demand", "spot", "spot"]
    assert lost.zone not in {i.zone for i in after.instances if i.pricing == "spot"}


@pytest.mark.slow
def test_a_spot_replica_stopped_by_its_interruption_comes_back_on_demand_under_fallback(tmp_path, moto, capsys):
    """EC2 stops a persistent spot request's node to take its capacity back (the stop
    reason ``Server.SpotInstanceShutdown``): preempted, and replaced on on-demand."""
    root = apply_service(tmp_path, moto, capsys)
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url)
    lost = next(i for i in record(root).instances if i.pricing == "spot")
    ec2.stop_instances(InstanceIds=[lost.id])
    moto.inject(action="DescribeInstances", times=1000,
                replace=["Client.UserInitiatedShutdown", "Server.SpotInstanceShutdown"])

    code, out, err = run(capsys, "drift", str(root), "--repair", "--auto-approve", "--json")
    assert code == 0, out + err
    moto.clear_faults()
    after = record(root)
    assert lost.id not in {i.id for i in after.instances}
    assert sorted(i.pricing for i in after.instances) == ["on_demand", "on_demand", "spot"]
    assert sorted(lifecycles(ec2, [i.id for i in after.instances]).values()) == ["on_demand", "on_demand", "spot"]
    old = ec2.describe_instances(InstanceIds=[lost.id])["Reservations"][0]["Instances"][0]["State"]["Name"]
    assert old in ("shutting-down", "terminated")

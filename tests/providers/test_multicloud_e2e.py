"""examples/multicloud applied end to end against all the local servers at once:
moto's EC2, the Compute Engine emulator, the ARM emulator and the Kubernetes
emulator (as the `lab` context). The test applies the example itself (a copy of
its folder), pointed at the servers through the example's own variables.

apply -> every workload runs where the plan said (EC2 instances of the planned
types, GCE instances with skyplan's labels, Azure VMs with its tags, shards on
the fleet as Jobs), the service's 3 replicas on 3 different providers -> a
re-plan is a no-op -> destroy leaves nothing on any of the four servers,
Azure's network pieces included.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import boto3
import pytest

from skyplan.cli import main
from skyplan.providers.base import TAG_ADDRESS, TAG_LINEAGE
from skyplan.providers.gcp.labels import to_tags
from skyplan.state import StateStore
from tests.providers.arm_emulator import ArmEmulator
from tests.providers.aws.helpers import AMI

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "multicloud"
AWS_REGIONS = ("us-east-1", "us-west-2")
LIVE = ["pending", "running", "stopping", "stopped"]


@pytest.fixture
def arm(monkeypatch):
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    emu = ArmEmulator()
    yield emu
    emu.stop()


def run(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def ec2_instances(moto) -> list[dict]:
    found = []
    for region in AWS_REGIONS:
        ec2 = boto3.client("ec2", region_name=region, endpoint_url=moto.url)
        pages = ec2.get_paginator("describe_instances").paginate(
            Filters=[{"Name": "instance-state-name", "Values": LIVE}])
        found += [i for p in pages for r in p["Reservations"] for i in r["Instances"]]
    return found


def placements(doc: dict) -> dict[str, list[dict]]:
    return {p["address"]: p["after"] for p in doc["placements"]}


@pytest.mark.slow
def test_multicloud_example_applies_on_all_four_and_destroys_cleanly(tmp_path, moto, gce, arm, k8s, capsys):
    folder = tmp_path / "multicloud"
    shutil.copytree(EXAMPLE, folder)
    kubeconfig = k8s.kubeconfig(tmp_path / "kubeconfig", context="lab")
    args = ["-var", f"aws_endpoint={moto.url}", "-var", f"aws_image={AMI}", "-var", f"gcp_endpoint={gce.url}",
            "-var", f"azure_endpoint={arm.url}", "-var", f"kubeconfig={kubeconfig}", "-var", "poll_interval=0.02"]

    code, out, err = run(capsys, "plan", *args, "--format", "json", str(folder))
    assert code == 0, out + err
    planned = placements(json.loads(out))
    code, out, err = run(capsys, "apply", *args, "-auto-approve", str(folder))
    assert code == 0, out + err

    with StateStore.open(folder / ".skyplan" / "state.db") as store:
        lineage = store.lineage
        recs = dict(store.snapshot().resources)
    workloads = {a: r for a, r in recs.items() if r.kind == "workload"}
    assert set(workloads) == set(planned)
    for address, groups in planned.items():  # state records the placement the plan showed
        got = [(g.placement.provider, g.placement.instance_type) for g in workloads[address].groups]
        assert got == [(g["provider"], g["instance_type"]) for g in groups], address

    def where(provider: str) -> dict[str, list[str]]:
        want: dict[str, list[str]] = {}
        for address, groups in planned.items():
            for g in groups:
                if g["provider"] == provider:
                    want.setdefault(address, []).extend([g["instance_type"]] * int(g.get("nodes") or 1))
        return {a: sorted(t) for a, t in want.items()}

    # AWS: instances of the planned types, tagged with their address and the lineage.
    ec2: dict[str, list[str]] = {}
    for inst in ec2_instances(moto):
        tags = {t["Key"]: t["Value"] for t in inst.get("Tags", ())}
        assert tags[TAG_LINEAGE] == lineage
        ec2.setdefault(tags[TAG_ADDRESS], []).append(inst["InstanceType"])
    assert {a: sorted(t) for a, t in ec2.items()} == where("aws") and ec2

    # GCP: instances with skyplan's labels and the planned machine types.
    gcp: dict[str, list[str]] = {}
    for inst in gce.all_instances("example-ml-project"):
        tags = to_tags(inst["labels"])  # labels carry the address encoded to GCP's label rules
        assert tags[TAG_LINEAGE] == lineage
        gcp.setdefault(tags[TAG_ADDRESS], []).append(inst["machineType"].rsplit("/", 1)[-1])
    assert {a: sorted(t) for a, t in gcp.items()} == where("gcp") and gcp

    # Azure: VMs in the example's resource group, with tags and the planned sizes.
    az: dict[str, list[str]] = {}
    for vm in arm.vms("skyplan-multicloud"):
        assert vm["tags"]["skyplan-lineage"] == lineage
        address = vm["tags"]["skyplan-address"]
        az.setdefault(address, []).append(vm["properties"]["hardwareProfile"]["vmSize"])
        spot = {g["pricing"] for g in planned[address] if g["provider"] == "azure"} == {"spot"}
        assert (vm["properties"].get("priority") == "Spot") == spot, address
    assert {a: sorted(t) for a, t in az.items()} == where("azure") and az
    assert len(arm.vms()) == sum(len(t) for t in az.values())

    # Kubernetes: the shards the plan put on fleet.lab run there as Jobs.
    jobs = {j["metadata"]["annotations"]["skyplan.dev/address"] for j in k8s.list("jobs")}
    assert jobs == set(where("kubernetes")) and jobs
    assert all(j["metadata"]["labels"]["skyplan.dev/lineage"] == lineage for j in k8s.list("jobs"))

    # The service's replicas: one per provider, on three different ones.
    assert sorted(g["provider"] for g in planned["workload.api"]) == ["aws", "azure", "gcp"]
    assert sum("workload.api" in by for by in (ec2, gcp, az)) == 3

    code, out, err = run(capsys, "plan", *args, "-detailed-exitcode", str(folder))
    assert code == 0, out + err

    code, out, err = run(capsys, "destroy", *args, "-auto-approve", str(folder))
    assert code == 0, out + err
    assert ec2_instances(moto) == []
    assert gce.all_instances() == []
    assert arm.resources == {} and arm.groups == {}
    assert k8s.list("jobs") == [] and k8s.list("pods") == [] and k8s.list("deployments") == []
    with StateStore.open(folder / ".skyplan" / "state.db") as store:
        assert dict(store.snapshot().resources) == {}

"""How many cloud API calls one refresh makes, and how long it takes.

AWS (default, ``--cloud aws``):

Launches N managed instances (default 1,000) spread over 4 regions in moto's
EC2 server on 127.0.0.1 (plus 200 unmanaged ones that must not be returned),
then times ``AwsProvider.list_managed(lineage)`` and counts the calls it makes
with a botocore ``before-call`` hook. Baseline, measured in the same run: one
``describe_instances`` per known instance id, the way a per-resource refresh
would ask (timed over a sample and reported per instance and extrapolated).

GCP (``--cloud gcp``): N managed instances over 4 zones in the Compute Engine
emulator of the tests (plus 200 unmanaged ones), then
``GcpProvider.list_managed(lineage)``: the calls it makes as the server saw
them (each page of the one ``instances.aggregatedList`` counts), against one
``instances.get`` per instance, timed over a sample in the same run.

Azure (``--cloud azure``): N VMs over 4 Azure regions (one resource group each,
as skyplan lays them out by default) in the ARM emulator of tests/ on
127.0.0.1, plus 200 VMs of another lineage; times ``AzureProvider.list_managed``
and counts every HTTP call it makes (each page of a list is one call). Baseline,
in the same run: one ``virtual_machines.get(..., expand=instanceView)`` per VM.

    python bench/refresh_calls.py [--cloud aws|gcp|azure] [--instances 1000] [--baseline-sample 100]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1")
AMI = "ami-0123456789abcdef0"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=1000)
    ap.add_argument("--baseline-sample", type=int, default=100)
    ap.add_argument("--cloud", choices=("aws", "gcp", "azure"), default="aws")
    args = ap.parse_args()
    if args.cloud == "gcp":
        return gcp_refresh(args.instances, args.baseline_sample)
    if args.cloud == "azure":
        return azure_refresh(args)
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1",
                      AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    import boto3
    from moto.server import ThreadedMotoServer

    from skyplan.config.model import ProviderConfig
    from skyplan.providers.aws import AwsProvider
    from skyplan.providers.base import TAG_ADDRESS, TAG_GROUP, TAG_LINEAGE

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    lineage = "bench-lineage"
    t0 = time.perf_counter()
    per_region = [args.instances // len(REGIONS) + (i < args.instances % len(REGIONS)) for i in range(len(REGIONS))]
    for region, count in zip(REGIONS, per_region):
        ec2 = boto3.client("ec2", region_name=region, endpoint_url=url)
        made = 0
        while made < count:
            n = min(50, count - made)  # a group of n nodes, like one workload replica
            tags = [{"Key": TAG_ADDRESS, "Value": f"workload.w{made}"}, {"Key": TAG_LINEAGE, "Value": lineage},
                    {"Key": TAG_GROUP, "Value": "0"}]
            ec2.run_instances(ImageId=AMI, InstanceType="m5.large", MinCount=n, MaxCount=n,
                              TagSpecifications=[{"ResourceType": "instance", "Tags": tags}])
            made += n
        ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=50, MaxCount=50)  # unmanaged
    setup = time.perf_counter() - t0

    aws = AwsProvider(ProviderConfig(kind="aws", regions=REGIONS, settings={"endpoint_url": url}))
    calls: Counter = Counter()
    for region in REGIONS:
        aws.client(region).meta.events.register(
            "before-call.ec2.*", lambda model, _r=region, **kw: calls.update([(_r, model.name)]))
    aws.list_managed("warm-up")  # first-call costs (moto backend, client set-up) out of the timing
    calls.clear()
    t0 = time.perf_counter()
    found = aws.list_managed(lineage)
    refresh = time.perf_counter() - t0
    assert len(found) == args.instances, (len(found), args.instances)

    ids = [(i.region, i.id) for i in found]
    sample = ids[:: max(1, len(ids) // args.baseline_sample)][: args.baseline_sample]
    clients = {r: boto3.client("ec2", region_name=r, endpoint_url=url) for r in REGIONS}
    t0 = time.perf_counter()
    for region, iid in sample:
        clients[region].describe_instances(InstanceIds=[iid])
    per_call = (time.perf_counter() - t0) / len(sample)
    server.stop()

    total = sum(calls.values())
    print(f"instances managed            {args.instances} across {len(REGIONS)} regions "
          f"(+{50 * len(REGIONS)} unmanaged); setup {setup:.1f} s")
    for region in REGIONS:
        n = sum(v for (r, _), v in calls.items() if r == region)
        print(f"  {region:<16} {n} call(s): " + ", ".join(f"{op} x{v}" for (r, op), v in calls.items() if r == region))
    print(f"API calls per refresh        {total}  ({total / len(REGIONS):.2f} per region; target <= 2)")
    print(f"refresh wall time            {refresh:.2f} s  ({refresh / args.instances * 1000:.2f} ms per instance)")
    baseline = per_call * args.instances
    print(f"baseline: per-instance calls {args.instances} calls, {per_call * 1000:.1f} ms each "
          f"(sample of {len(sample)}) -> ~{baseline:.1f} s")
    print(f"ratio                        {args.instances / max(total, 1):.0f}x fewer calls, "
          f"{baseline / refresh:.1f}x faster than the per-instance baseline")


GCP_ZONES = ("us-central1-a", "us-east1-b", "europe-west4-a", "asia-east1-b")


def gcp_refresh(instances: int, baseline_sample: int) -> None:
    """The GCP figures: calls per refresh (pages counted) and time against per-instance gets."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import json

    from google.auth.credentials import AnonymousCredentials
    from google.cloud import compute_v1

    from skyplan.config.model import ProviderConfig
    from skyplan.providers.base import TAG_ADDRESS, TAG_GROUP, TAG_LINEAGE, TAG_RANK
    from skyplan.providers.gcp import GcpProvider
    from skyplan.providers.gcp import labels as lab
    from tests.providers.gce_emulator import GceEmulator

    project, lineage = "bench-project", "bench-lineage"
    emu = GceEmulator()
    client = compute_v1.InstancesClient(credentials=AnonymousCredentials(), transport="rest",
                                        client_options={"api_endpoint": emu.url})
    t0 = time.perf_counter()
    per_zone = [instances // len(GCP_ZONES) + (i < instances % len(GCP_ZONES)) for i in range(len(GCP_ZONES))]
    for zone, count in zip(GCP_ZONES, per_zone):
        for n in range(count + 50):  # the last 50 of each zone are not skyplan's
            labels = {"team": "other"} if n >= count else lab.to_labels({
                TAG_ADDRESS: f"workload.w{n // 50}", TAG_LINEAGE: lineage, TAG_GROUP: "0", TAG_RANK: str(n % 50)})
            body = {"name": f"vm-{zone}-{n}", "machineType": f"zones/{zone}/machineTypes/n2-standard-4",
                    "disks": [{"boot": True, "initializeParams": {"sourceImage": "family/debian-12"}}],
                    "labels": labels}
            client.insert_unary(project=project, zone=zone, instance_resource=compute_v1.Instance.from_json(
                json.dumps(body)))
    setup = time.perf_counter() - t0

    gcp = GcpProvider(ProviderConfig(kind="gcp", regions=tuple(z.rsplit("-", 1)[0] for z in GCP_ZONES),
                                     settings={"endpoint": emu.url, "project": project}))
    gcp.list_managed("warm-up")  # SDK import and client set-up out of the timing
    emu.clear_calls()
    t0 = time.perf_counter()
    found = gcp.list_managed(lineage)
    refresh = time.perf_counter() - t0
    calls = emu.calls()
    assert len(found) == instances, (len(found), instances)

    sample = found[:: max(1, len(found) // baseline_sample)][:baseline_sample]
    t0 = time.perf_counter()
    for inst in sample:
        p, zone, name = inst.id.split("/")
        client.get(project=p, zone=zone, instance=name)
    per_call = (time.perf_counter() - t0) / len(sample)
    emu.stop()

    kinds = Counter(c["method"] for c in calls)
    print(f"instances managed            {instances} across {len(GCP_ZONES)} zones of 1 project "
          f"(+{50 * len(GCP_ZONES)} unmanaged); setup {setup:.1f} s")
    print("  calls: " + ", ".join(f"{m} x{v}" for m, v in kinds.items()))
    pages = kinds.get("instances.aggregatedList", 0)
    print(f"API calls per refresh        {len(calls)}  (1 paginated aggregatedList per project = {pages} page(s) "
          f"of up to 500; target 1 call per project)")
    print(f"refresh wall time            {refresh:.2f} s  ({refresh / instances * 1000:.2f} ms per instance)")
    baseline = per_call * instances
    print(f"baseline: per-instance gets  {instances} calls, {per_call * 1000:.1f} ms each "
          f"(sample of {len(sample)}) -> ~{baseline:.1f} s")
    print(f"ratio                        {instances / max(len(calls), 1):.0f}x fewer calls, "
          f"{baseline / refresh:.1f}x faster than the per-instance baseline")


AZURE_REGIONS = ("eastus", "westus2", "westeurope", "japaneast")


def azure_refresh(args) -> None:
    """The Azure figures: calls per refresh (target: 1 list per resource group, pages counted)."""
    import sys
    import uuid

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from tests.providers.arm_emulator import ArmEmulator

    from skyplan.config.model import ProviderConfig
    from skyplan.providers.azure import AzureProvider

    emu = ArmEmulator()
    lineage = "bench-lineage"
    t0 = time.perf_counter()
    per_region = [args.instances // len(AZURE_REGIONS) + (i < args.instances % len(AZURE_REGIONS))
                  for i in range(len(AZURE_REGIONS))]
    with emu.lock:
        for region, count in zip(AZURE_REGIONS, per_region):
            rg = f"skyplan-{region}"
            emu.groups[rg.lower()] = {"id": f"/subscriptions/{emu.subscription}/resourceGroups/{rg}", "name": rg,
                                      "type": "Microsoft.Resources/resourceGroups", "location": region, "tags": {},
                                      "properties": {"provisioningState": "Succeeded"}}
            for n in range(count + 50):  # the last 50 belong to another state
                name = f"vm-{region}-{n}"
                rid = f"/subscriptions/{emu.subscription}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}"
                tags = {"skyplan-address": f"workload.w{n // 8}", "skyplan-lineage": lineage if n < count else "other",
                        "skyplan-group": "0", "skyplan-rank": str(n % 8), "skyplan-kind": "service"}
                emu.resources[rid.lower()] = {
                    "id": rid, "name": name, "type": "Microsoft.Compute/virtualMachines", "location": region,
                    "tags": tags, "_power": "running",
                    "properties": {"provisioningState": "Succeeded", "vmId": str(uuid.uuid4()),
                                   "hardwareProfile": {"vmSize": "Standard_D4s_v5"}}}
    setup = time.perf_counter() - t0
    azure = AzureProvider(ProviderConfig(kind="azure", regions=AZURE_REGIONS, settings={
        "endpoint": emu.url, "subscription_id": emu.subscription, "poll_interval": 0}))
    azure.list_managed("warm-up")  # client set-up and first connections out of the timing
    with emu.lock:
        emu.calls.clear()
    t0 = time.perf_counter()
    found = azure.list_managed(lineage)
    refresh = time.perf_counter() - t0
    assert len(found) == args.instances, (len(found), args.instances)
    with emu.lock:
        calls = list(emu.calls)

    compute, _, _ = azure.clients()
    sample = found[:: max(1, len(found) // args.baseline_sample)][: args.baseline_sample]
    t0 = time.perf_counter()
    for inst in sample:
        compute.virtual_machines.get(inst.attributes["resource_group"], inst.attributes["name"], expand="instanceView")
    per_call = (time.perf_counter() - t0) / len(sample)
    emu.stop()

    per_group = Counter(c["path"].split("/")[4] for c in calls if "/resourceGroups/" in c["path"])
    status = [c for c in calls if "/resourceGroups/" not in c["path"]]
    print(f"VMs managed                  {args.instances} across {len(AZURE_REGIONS)} regions, one resource group "
          f"each (+{50 * len(AZURE_REGIONS)} of another state); setup {setup:.1f} s")
    for rg, n in per_group.items():
        print(f"  {rg:<22} {n} call(s): virtualMachines list (pages of {emu.page_size})")
    print(f"  subscription           {len(status)} call(s): virtualMachines listAll statusOnly=true "
          f"(power states, pages of {emu.page_size})")
    total = len(calls)
    print(f"API calls per refresh        {total}  ({sum(per_group.values()) / len(per_group):.2f} list call(s) per "
          f"resource group, target 1; + {len(status)} for power states)")
    print(f"refresh wall time            {refresh:.2f} s  ({refresh / args.instances * 1000:.2f} ms per VM)")
    baseline = per_call * args.instances
    print(f"baseline: per-VM gets        {args.instances} calls, {per_call * 1000:.1f} ms each "
          f"(sample of {len(sample)}) -> ~{baseline:.1f} s")
    print(f"ratio                        {args.instances / max(total, 1):.0f}x fewer calls, "
          f"{baseline / refresh:.1f}x faster than the per-VM baseline")


if __name__ == "__main__":
    main()

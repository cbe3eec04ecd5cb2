"""Drift against AWS (moto's EC2 server on 127.0.0.1): changes made behind
skyplan's back with plain boto3 calls are classified by refresh."""

from __future__ import annotations

import boto3
import pytest

from skyplan.drift import blocked_from_drift, refresh
from skyplan.errors import ProviderError
from skyplan.providers.base import TAG_ADDRESS, TAG_GROUP, TAG_LINEAGE
from skyplan.state.model import GroupRecord, ResourceRecord, Snapshot
from tests.providers.aws.helpers import AMI, provider, request

LINEAGE = "lin-drift"


def _record(address, insts, req, kind="service"):
    return ResourceRecord(address=address, kind="workload", groups=(GroupRecord(req.placement, tuple(insts)),),
                          attributes={"kind": kind})


@pytest.fixture
def world(moto):
    aws = provider(moto)
    reqs = {
        "workload.api": request("workload.api", lineage=LINEAGE, kind="service", nodes=2),
        "workload.spot": request("workload.spot", lineage=LINEAGE, kind="service", pricing="spot",
                                 zone="us-east-1b"),
        "workload.tagged": request("workload.tagged", lineage=LINEAGE, kind="service"),
    }
    recs = {a: _record(a, aws.create(r), r) for a, r in reqs.items()}
    snap = Snapshot(lineage=LINEAGE, serial=1, resources=recs)
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url)
    return aws, snap, ec2


def test_in_sync_then_each_kind_of_drift(world, moto):
    aws, snap, ec2 = world
    assert refresh(snap, {"aws": aws}).drift == ()

    api1 = snap.resources["workload.api"].instances[1]
    spot = snap.resources["workload.spot"].instances[0]
    tagged = snap.resources["workload.tagged"].instances[0]
    ec2.terminate_instances(InstanceIds=[api1.id])  # someone in the console
    ec2.terminate_instances(InstanceIds=[spot.id])  # a spot preemption in us-east-1b
    ec2.create_tags(Resources=[tagged.id], Tags=[{"Key": "owner", "Value": "someone"}])
    orphan = ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1, TagSpecifications=[{
        "ResourceType": "instance", "Tags": [{"Key": TAG_LINEAGE, "Value": LINEAGE},
                                             {"Key": TAG_ADDRESS, "Value": "workload.crashed"},
                                             {"Key": TAG_GROUP, "Value": "0"}]}])["Instances"][0]["InstanceId"]

    r = refresh(snap, {"aws": aws})
    got = {(d.address, d.category): d for d in r.drift}
    assert set(got) == {("workload.api", "missing"), ("workload.spot", "missing"),
                        ("workload.tagged", "changed"), ("workload.crashed", "unmanaged")}
    assert got[("workload.api", "missing")].provider_ids == (api1.id,)
    assert "rank(s) 1" in got[("workload.api", "missing")].detail
    assert got[("workload.tagged", "changed")].paths == ("tags.owner",)
    assert got[("workload.crashed", "unmanaged")].provider_ids == (orphan,)
    assert blocked_from_drift(r) == {"workload.spot": (("aws", "us-east-1", "us-east-1b", "spot"),)}
    assert [i.id for i in r.snapshot.resources["workload.api"].instances] == \
        [snap.resources["workload.api"].instances[0].id]


def test_stopped_instance_and_changed_type_are_changed(world):
    aws, snap, ec2 = world
    node = snap.resources["workload.tagged"].instances[0]
    ec2.stop_instances(InstanceIds=[node.id])
    ec2.modify_instance_attribute(InstanceId=node.id, InstanceType={"Value": "t3.large"})
    r = refresh(snap, {"aws": aws})
    (item,) = r.drift
    assert item.category == "changed" and item.paths == ("instance_type", "state")
    assert item.after["instance_type"] == "t3.large" and item.after["state"] == "stopped"


def test_unreachable_endpoint_is_an_error_not_missing(world, moto):
    aws, snap, ec2 = world
    dead = provider(moto, endpoint_url="http://127.0.0.1:9", connect_timeout=1)
    with pytest.raises(ProviderError, match="cannot refresh: provider aws unreachable"):
        refresh(snap, {"aws": dead})


def test_job_node_that_shut_itself_down_is_not_drift_before_its_exit_code_shows(moto):
    """EC2 posts console output minutes after a stop, so the exit line of a job
    node that powered itself off may not be readable yet. The job finished by
    itself all the same: not a stopped node to start again, not a lost one to
    recreate, and not a success nobody saw."""
    aws = provider(moto)
    req = request("workload.train", lineage=LINEAGE, kind="job", nodes=2)
    snap = Snapshot(lineage=LINEAGE, serial=1, resources={"workload.train": _record(
        "workload.train", aws.create(req), req, kind="job")})
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url)
    ec2.stop_instances(InstanceIds=[i.id for i in snap.resources["workload.train"].instances])
    moto.inject(action="DescribeInstances", times=100,
                replace=["Client.UserInitiatedShutdown", "Client.InstanceInitiatedShutdown"])

    r = refresh(snap, {"aws": aws})
    assert r.drift == ()
    assert r.snapshot.resources["workload.train"].status == "failed"
    assert {i.state for i in r.snapshot.resources["workload.train"].instances} == {"failed"}


def test_spot_service_stopped_by_an_interruption_is_preempted_and_replaced_elsewhere(world, moto):
    """A spot service node runs under a persistent request that *stops* on
    interruption. EC2 does not let anyone start such a node (it restarts it when
    capacity returns), so it is not a stopped node to start again: it was
    preempted, and repair replaces it away from the zone it was lost in."""
    from skyplan.drift.repair import in_place_restores, needs_replacement

    aws, snap, ec2 = world
    spot = snap.resources["workload.spot"].instances[0]
    ec2.stop_instances(InstanceIds=[spot.id])
    moto.inject(action="DescribeInstances", times=100,
                replace=["Client.UserInitiatedShutdown", "Server.SpotInstanceShutdown"])

    r = refresh(snap, {"aws": aws})
    (item,) = r.drift
    assert (item.address, item.category, item.paths) == ("workload.spot", "changed", ("state",))
    assert item.after == {"state": "preempted"}
    assert needs_replacement(r, list(snap.resources)) == ("workload.spot",)
    assert in_place_restores(snap, r, skip=()) == ()
    assert blocked_from_drift(r) == {"workload.spot": (("aws", "us-east-1", "us-east-1b", "spot"),)}

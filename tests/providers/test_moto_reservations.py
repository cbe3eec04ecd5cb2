"""The EC2 capacity reservations and ClientToken idempotency in front of moto,
driven through boto3 as skyplan drives them."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from botocore.exceptions import ClientError

AMI = "ami-0123456789abcdef0"


@pytest.fixture
def ec2(moto):
    return boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url)


def _reserve(ec2, count=2, itype="g5.xlarge", zone="us-east-1a", token="t-1"):
    end = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=48)
    return ec2.create_capacity_reservation(
        InstanceType=itype, InstancePlatform="Linux/UNIX", AvailabilityZone=zone, InstanceCount=count,
        EndDateType="limited", EndDate=end, InstanceMatchCriteria="targeted", ClientToken=token,
        TagSpecifications=[{"ResourceType": "capacity-reservation", "Tags": [{"Key": "team", "Value": "ml"}]}],
    )["CapacityReservation"]


def _run(ec2, rid, n=1, itype="g5.xlarge", token=None):
    args = dict(ImageId=AMI, InstanceType=itype, MinCount=n, MaxCount=n,
                Placement={"AvailabilityZone": "us-east-1a"},
                CapacityReservationSpecification={"CapacityReservationTarget": {"CapacityReservationId": rid}})
    if token:
        args["ClientToken"] = token
    return ec2.run_instances(**args)["Instances"]


def test_launches_into_a_reservation_use_its_capacity_until_they_stop(ec2):
    cr = _reserve(ec2)
    assert cr["State"] == "active" and cr["AvailableInstanceCount"] == 2 and cr["InstanceMatchCriteria"] == "targeted"
    assert _reserve(ec2)["CapacityReservationId"] == cr["CapacityReservationId"]  # same token: same reservation
    rid = cr["CapacityReservationId"]
    launched = _run(ec2, rid)
    assert launched[0]["CapacityReservationId"] == rid
    described = ec2.describe_instances(InstanceIds=[launched[0]["InstanceId"]])["Reservations"][0]["Instances"][0]
    assert described["CapacityReservationSpecification"]["CapacityReservationTarget"]["CapacityReservationId"] == rid
    got = ec2.describe_capacity_reservations(CapacityReservationIds=[rid])["CapacityReservations"][0]
    assert got["AvailableInstanceCount"] == 1 and got["TotalInstanceCount"] == 2 and got["EndDate"]
    with pytest.raises(ClientError) as exc:
        _run(ec2, rid, n=2)
    assert exc.value.response["Error"]["Code"] == "ReservationCapacityExceeded"
    ec2.terminate_instances(InstanceIds=[launched[0]["InstanceId"]])
    got = ec2.describe_capacity_reservations(Filters=[{"Name": "tag:team", "Values": ["ml"]}])["CapacityReservations"]
    assert [g["AvailableInstanceCount"] for g in got] == [2]


def test_a_launch_must_match_the_reservation_and_a_cancelled_one_takes_none(ec2):
    rid = _reserve(ec2)["CapacityReservationId"]
    with pytest.raises(ClientError) as exc:
        _run(ec2, rid, itype="m5.large")
    assert exc.value.response["Error"]["Code"] == "InvalidParameterCombination"
    assert ec2.cancel_capacity_reservation(CapacityReservationId=rid)["Return"] is True
    with pytest.raises(ClientError) as exc:
        _run(ec2, rid)
    assert exc.value.response["Error"]["Code"] == "InvalidCapacityReservationId.NotActive"
    with pytest.raises(ClientError) as exc:
        ec2.describe_capacity_reservations(CapacityReservationIds=["cr-0000000000000000"])
    assert exc.value.response["Error"]["Code"] == "InvalidCapacityReservationId.NotFound"
    active = ec2.describe_capacity_reservations(Filters=[{"Name": "state", "Values": ["active"]}])
    assert active["CapacityReservations"] == []


def test_a_repeated_client_token_returns_the_first_launch(ec2, moto):
    first = ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=2, MaxCount=2, ClientToken="tok-1")
    again = ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=2, MaxCount=2, ClientToken="tok-1")
    assert again["ReservationId"] == first["ReservationId"]
    assert [i["InstanceId"] for i in again["Instances"]] == [i["InstanceId"] for i in first["Instances"]]
    live = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
    assert len(live) == 2
    other = ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1, ClientToken="tok-2")
    assert other["ReservationId"] != first["ReservationId"]


def test_capacity_block_offerings_are_bought_as_a_scheduled_block_that_refuses_launches_until_it_starts(ec2, moto):
    start = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=2)
    offers = ec2.describe_capacity_block_offerings(InstanceType="g5.xlarge", InstanceCount=2,
                                                   CapacityDurationHours=24, StartDateRange=start)
    offers = offers["CapacityBlockOfferings"]
    assert [(o["AvailabilityZone"], o["UpfrontFee"], o["CurrencyCode"]) for o in offers] == [
        ("us-east-1a", "192.00", "USD"), ("us-east-1b", "153.60", "USD")]
    first = offers[0]
    assert first["StartDate"] >= start.replace(microsecond=0) and first["CapacityBlockDurationHours"] == 24
    assert first["EndDate"] - first["StartDate"] == dt.timedelta(hours=24)
    again = ec2.describe_capacity_block_offerings(InstanceType="g5.xlarge", InstanceCount=2,
                                                  CapacityDurationHours=24, StartDateRange=start)
    assert [o["CapacityBlockOfferingId"] for o in again["CapacityBlockOfferings"]] == [
        o["CapacityBlockOfferingId"] for o in offers]
    short = ec2.describe_capacity_block_offerings(InstanceType="g5.xlarge", InstanceCount=2, CapacityDurationHours=24,
                                                  StartDateRange=start, EndDateRange=start + dt.timedelta(hours=30))
    assert [o["AvailabilityZone"] for o in short["CapacityBlockOfferings"]] == ["us-east-1a"]

    cr = ec2.purchase_capacity_block(CapacityBlockOfferingId=first["CapacityBlockOfferingId"],
                                     InstancePlatform="Linux/UNIX")["CapacityReservation"]
    assert cr["ReservationType"] == "capacity-block" and cr["State"] == "scheduled"
    assert cr["TotalInstanceCount"] == 2 and cr["AvailableInstanceCount"] == 0 and cr["StartDate"] == first["StartDate"]
    with pytest.raises(ClientError) as exc:
        _run(ec2, cr["CapacityReservationId"])
    assert exc.value.response["Error"]["Code"] == "InvalidCapacityReservationId.NotActive"
    with pytest.raises(ClientError) as exc:
        ec2.cancel_capacity_reservation(CapacityReservationId=cr["CapacityReservationId"])
    assert exc.value.response["Error"]["Code"] == "UnsupportedOperation"
    with pytest.raises(ClientError) as exc:
        ec2.purchase_capacity_block(CapacityBlockOfferingId="cb-0000000000000000a", InstancePlatform="Linux/UNIX")
    assert exc.value.response["Error"]["Code"] == "InvalidCapacityBlockOfferingId.NotFound"

"""The user's tags (workload tags over default_tags) reach what AWS launches."""

from __future__ import annotations

import boto3

from skyplan.providers.base import TAG_ADDRESS
from tests.providers.aws.helpers import provider, request

USER = {"team": "vision", "cost_center": "ml-42", TAG_ADDRESS: "not-this"}


def test_instances_carry_the_user_tags_beside_skyplans_own(moto):
    [inst] = provider(moto).create(request(user_tags=USER))
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url)
    raw = ec2.describe_instances(InstanceIds=[inst.id])["Reservations"][0]["Instances"][0]
    tags = {t["Key"]: t["Value"] for t in raw["Tags"]}
    assert tags["team"] == "vision" and tags["cost_center"] == "ml-42"
    assert tags[TAG_ADDRESS] == "workload.train"  # skyplan's own tag is never overridden
    assert inst.tags["team"] == "vision"

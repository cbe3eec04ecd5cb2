"""AwsProvider against moto's EC2 server: create, list, update, delete, import."""

from __future__ import annotations

import base64

import boto3

from skyplan.providers.base import TAG_ADDRESS, TAG_GROUP, TAG_LINEAGE
from tests.providers.aws.helpers import AMI, provider, request


def _ec2(moto, region="us-east-1"):
    return boto3.client("ec2", region_name=region, endpoint_url=moto.url)


def test_create_on_demand_multi_node_tags_zone_and_user_data(moto):
    aws = provider(moto)
    insts = aws.create(request(nodes=3, itype="m5.large"))
    assert [i.rank for i in insts] == [0, 1, 2]
    assert {i.state for i in insts} == {"running"}
    assert {i.zone for i in insts} == {"us-east-1a"}
    assert {i.instance_type for i in insts} == {"m5.large"}
    assert {i.pricing for i in insts} == {"on_demand"}
    assert all(i.address == "workload.train" and i.lineage == "lin-1" and i.provider == "aws" for i in insts)
    raw = _ec2(moto).describe_instances(InstanceIds=[insts[0].id])["Reservations"][0]["Instances"][0]
    tags = {t["Key"]: t["Value"] for t in raw["Tags"]}
    assert tags[TAG_ADDRESS] == "workload.train" and tags[TAG_LINEAGE] == "lin-1"
    assert tags[TAG_GROUP] == "0" and tags["Name"] == "workload.train"
    assert raw["ImageId"] == AMI
    attr = _ec2(moto).describe_instance_attribute(InstanceId=insts[0].id, Attribute="userData")
    script = base64.b64decode(attr["UserData"]["Value"]).decode()
    assert "pip install -r requirements.txt" in script and "python train.py" in script
    assert "export EPOCHS=3" in script and "SKYPLAN_NUM_NODES=3" in script


def test_run_instances_idempotency_token_comes_from_the_launch(moto):
    aws = provider(moto)
    aws.create(request(token="0f3c9a"))
    aws.create(request())
    first, second = (c["client_token"] for c in moto.calls("RunInstances")[-2:])
    assert first == "skyplan-0f3c9a"
    assert second.startswith("skyplan-") and second != first


def test_create_spot_job_is_one_time_and_reported_as_spot(moto):
    aws = provider(moto)
    (inst,) = aws.create(request(pricing="spot", itype="g5.xlarge", zone="us-east-1b"))
    assert inst.pricing == "spot" and inst.zone == "us-east-1b"
    raw = _ec2(moto).describe_instances(InstanceIds=[inst.id])["Reservations"][0]["Instances"][0]
    assert raw.get("InstanceLifecycle") == "spot"


def test_list_managed_across_two_regions_filters_by_lineage(moto):
    aws = provider(moto, regions=("us-east-1", "us-west-2"))
    a = aws.create(request("workload.a", nodes=2))
    b = aws.create(request("workload.b", region="us-west-2", zone="us-west-2a", group=1))
    aws.create(request("workload.other", lineage="someone-else"))
    _ec2(moto).run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1)  # unmanaged
    moto.middleware.calls.clear()
    found = aws.list_managed("lin-1")
    assert sorted(i.id for i in found) == sorted(i.id for i in a + b)
    west = [i for i in found if i.region == "us-west-2"]
    assert len(west) == 1 and west[0].group == 1 and west[0].address == "workload.b"
    calls = moto.calls("DescribeInstances")
    assert sorted(c["region"] for c in calls) == ["us-east-1", "us-west-2"]


def test_list_managed_skips_terminated(moto):
    aws = provider(moto)
    insts = aws.create(request(nodes=2))
    aws.delete(insts[:1])
    assert [i.id for i in aws.list_managed("lin-1")] == [insts[1].id]


def test_update_tags_and_stop_start(moto):
    aws = provider(moto)
    (inst,) = aws.create(request(kind="service"))
    updated = aws.update(inst, {"tags": {"team": "ml", "Name": "renamed"}})
    assert updated.tags["team"] == "ml" and updated.tags["Name"] == "renamed"
    updated = aws.update(updated, {"tags": {"team": None}, "state": "stopped"})
    assert "team" not in updated.tags and updated.state == "stopped"
    assert aws.update(updated, {"state": "running"}).state in ("pending", "running")


def test_delete_terminates_and_tolerates_already_gone(moto):
    aws = provider(moto)
    insts = aws.create(request(nodes=2))
    aws.delete(insts)
    aws.delete(insts)  # already terminated: fine
    states = {r["State"]["Name"] for r in
              _ec2(moto).describe_instances(InstanceIds=[i.id for i in insts])["Reservations"][0]["Instances"]}
    assert states == {"terminated"}
    assert aws.list_managed("lin-1") == []


def test_read_imports_an_unmanaged_instance(moto):
    aws = provider(moto, regions=("us-east-1", "us-west-2"))
    raw = _ec2(moto, "us-west-2").run_instances(
        ImageId=AMI, InstanceType="m5.large", MinCount=1, MaxCount=1,
        Placement={"AvailabilityZone": "us-west-2b"})["Instances"][0]
    inst = aws.read(raw["InstanceId"])
    assert (inst.id, inst.region, inst.zone, inst.instance_type) == (raw["InstanceId"], "us-west-2", "us-west-2b", "m5.large")
    assert inst.address == "" and inst.lineage == ""
    assert aws.read(f"us-west-2/{raw['InstanceId']}").id == raw["InstanceId"]


def test_read_unknown_id_is_a_clear_error(moto):
    import pytest

    from skyplan.errors import ProviderError

    with pytest.raises(ProviderError, match="no instance 'i-00000000000000000'"):
        provider(moto).read("i-00000000000000000")


def test_logs_read_console_output(moto):
    aws = provider(moto)
    (inst,) = aws.create(request())
    lines = list(aws.logs(inst))
    assert lines and lines[0].startswith("Linux version")  # moto's sample console


def test_provider_tags_and_network_settings_reach_the_instance(moto):
    ec2 = _ec2(moto)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1c")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="train", Description="train", VpcId=vpc)["GroupId"]
    aws = provider(moto, tags={"team": "ml"}, subnet_id=subnet, security_group_ids=[sg])
    (inst,) = aws.create(request())
    assert inst.tags["team"] == "ml" and inst.zone == "us-east-1c"
    raw = ec2.describe_instances(InstanceIds=[inst.id])["Reservations"][0]["Instances"][0]
    assert raw["SubnetId"] == subnet and [g["GroupId"] for g in raw["SecurityGroups"]] == [sg]


def test_update_bookkeeping_needs_no_call_and_launch_fixed_attributes_refuse(moto):
    import pytest

    from skyplan.errors import ProviderError

    aws = provider(moto)
    (inst,) = aws.create(request())
    assert aws.update(inst, {"max_hourly_cost": 4.0, "duration_hours": 2}).id == inst.id
    assert not moto.calls("CreateTags")
    with pytest.raises(ProviderError, match="cannot change env"):
        aws.update(inst, {"env": {"A": "1"}})


def test_default_image_resolves_from_ssm_parameter(moto):
    import boto3

    from skyplan.providers.aws.launch import DEFAULT_IMAGE_PARAMETERS

    # A private parameter standing in for the public DLAMI one (moto refuses /aws/ names).
    ssm = boto3.client("ssm", region_name="us-east-1", endpoint_url=moto.url)
    ssm.put_parameter(Name="/images/dlami", Value="ami-0fedcba987654321", Type="String")
    aws = provider(moto, image_id="resolve:ssm:/images/dlami")
    (inst,) = aws.create(request(itype="g5.xlarge"))
    assert inst.attributes["image_id"] == "ami-0fedcba987654321"
    assert DEFAULT_IMAGE_PARAMETERS["arm64"].startswith("/aws/service/deeplearning/ami/arm64/")


def _finish_job_nodes(moto, exit_code: int) -> None:
    """Make moto report stopped nodes as stopped by themselves, with the boot
    script's exit line on the console (what a finished job node looks like)."""
    from moto.ec2.responses.general import SAMPLE_CONSOLE_OUTPUT

    moto.inject(action="DescribeInstances", times=100,
                replace=["Client.UserInitiatedShutdown", "Client.InstanceInitiatedShutdown"])
    sample = base64.b64encode(SAMPLE_CONSOLE_OUTPUT.encode()).decode()
    done = base64.b64encode(f"cloud-init done\nskyplan: exit_code={exit_code}\n".encode()).decode()
    moto.inject(action="GetConsoleOutput", times=100, replace=[sample, done])


def test_job_nodes_that_shut_down_report_their_exit_code(moto):
    for code, state in ((0, "succeeded"), (3, "failed")):
        moto.reset()
        aws = provider(moto)
        insts = aws.create(request(nodes=2))
        _ec2(moto).stop_instances(InstanceIds=[i.id for i in insts])
        _finish_job_nodes(moto, code)
        found = aws.list_managed("lin-1")
        assert [i.state for i in found] == [state, state]
        assert found[0].attributes["exit_code"] == code
        assert len(moto.calls("DescribeInstances")) >= 1 and len(moto.calls("GetConsoleOutput")) == 2


def test_a_service_stopped_by_hand_is_just_stopped(moto):
    aws = provider(moto)
    (inst,) = aws.create(request(kind="service"))
    _ec2(moto).stop_instances(InstanceIds=[inst.id])
    (found,) = aws.list_managed("lin-1")
    assert found.state == "stopped" and "exit_code" not in found.attributes
    assert not moto.calls("GetConsoleOutput")


def test_region_globs_expand_over_known_regions(moto):
    aws = provider(moto, regions=("us-west-*", "us-east-1"))
    assert aws.regions == ("us-west-1", "us-west-2", "us-east-1")
    aws.create(request(region="us-west-1", zone="us-west-1b"))
    assert [i.region for i in aws.list_managed("lin-1")] == ["us-west-1"]


def test_offers_come_from_the_catalog_for_the_regions(moto):
    offers = list(provider(moto, regions=("us-east-1",)).offers())
    assert offers and {o.provider for o in offers} == {"aws"} and {o.region for o in offers} == {"us-east-1"}


def test_delete_cancels_the_spot_request_so_nothing_relaunches(moto):
    ec2 = _ec2(moto)
    (req,) = ec2.request_spot_instances(
        InstanceCount=1, Type="persistent",
        LaunchSpecification={"ImageId": AMI, "InstanceType": "m5.large"})["SpotInstanceRequests"]
    iid = ec2.describe_spot_instance_requests(
        SpotInstanceRequestIds=[req["SpotInstanceRequestId"]])["SpotInstanceRequests"][0]["InstanceId"]
    # EC2 names the request on the instance; moto leaves that field out, so add it on the wire.
    moto.inject(action="DescribeInstances", times=100, replace=[
        "<instanceLifecycle>spot</instanceLifecycle>",
        f"<instanceLifecycle>spot</instanceLifecycle><spotInstanceRequestId>{req['SpotInstanceRequestId']}"
        "</spotInstanceRequestId>"])
    aws = provider(moto)
    inst = aws.read(iid)
    assert inst.pricing == "spot" and inst.attributes["spot_request_id"] == req["SpotInstanceRequestId"]
    aws.delete([inst])
    left = ec2.describe_spot_instance_requests(
        SpotInstanceRequestIds=[req["SpotInstanceRequestId"]])["SpotInstanceRequests"]
    assert all(r["State"] == "cancelled" for r in left)  # moto forgets cancelled requests
    assert len(moto.calls("CancelSpotInstanceRequests")) == 1


def test_without_regions_every_enabled_region_is_listed(moto):
    aws = provider(moto, regions=())
    assert {"us-east-1", "eu-west-1", "ap-northeast-1"} <= set(aws.regions)
    aws.create(request(region="eu-west-1", zone="eu-west-1a"))
    assert [i.region for i in aws.list_managed("lin-1")] == ["eu-west-1"]


def test_disk_size_applies_to_the_images_root_device(moto):
    """disk_gb resizes the root volume of whatever image boots: an Amazon Linux
    image's root is /dev/xvda, where a fixed /dev/sda1 would add a second,
    unused volume and leave the root at the image's size."""
    al_image = "ami-760aaa0f"  # one of moto's built-in Amazon Linux images
    aws = provider(moto, image_id=al_image)
    (inst,) = aws.create(request(disk_gb=200))
    raw = _ec2(moto).describe_instances(InstanceIds=[inst.id])["Reservations"][0]["Instances"][0]
    assert raw["RootDeviceName"] == "/dev/xvda"
    vols = _ec2(moto).describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [inst.id]}])["Volumes"]
    assert [(v["Attachments"][0]["Device"], v["Size"]) for v in vols] == [("/dev/xvda", 200)]


def test_an_endpoint_that_does_not_answer_like_ec2_is_a_clear_error(moto):
    """moto answers a region it does not serve with an HTML page, as a wrong
    endpoint_url would: a provider error naming the region, not an internal one."""
    import pytest

    from skyplan.errors import ProviderError

    with pytest.raises(ProviderError, match="eu-west-9") as err:
        provider(moto).read("eu-west-9/i-00000000000000001")
    assert "did not answer like EC2" in str(err.value) and err.value.hint


def test_a_lost_run_instances_answer_is_retried_with_the_same_token_and_launches_nothing_more(moto):
    aws = provider(moto)
    moto.inject("InternalError", action="RunInstances", status=500, after=True, times=1)
    insts = aws.create(request(nodes=2, token="lost-1"))
    calls = moto.calls("RunInstances")
    assert len(calls) == 2 and {c["client_token"] for c in calls} == {"skyplan-lost-1"}
    live = [i for r in _ec2(moto).describe_instances()["Reservations"] for i in r["Instances"]
            if i["State"]["Name"] != "terminated"]
    assert len(live) == 2 and sorted(i.id for i in insts) == sorted(i["InstanceId"] for i in live)


def test_follow_prints_the_console_once_and_ends_when_the_instance_is_gone(moto):
    aws = provider(moto)
    (inst,) = aws.create(request())
    lines = aws.logs(inst, follow=True)
    first = next(lines)
    assert first.startswith("Linux version")
    aws.delete([inst])
    rest = list(lines)  # moto's console never changes: nothing is printed twice
    assert first not in rest and len(rest) == len(list(aws._console_lines(inst))) - 1

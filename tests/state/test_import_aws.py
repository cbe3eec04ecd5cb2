"""``skyplan import`` of a real EC2 instance (moto's EC2 server on 127.0.0.1):
read by id, tagged for refresh, priced from the catalog, recorded in state."""

from __future__ import annotations

import boto3
import pytest

from skyplan.providers.base import TAG_ADDRESS, TAG_LINEAGE
from skyplan.state.store import StateStore
from tests.providers.aws.helpers import AMI
from tests.providers.conftest import _moto_session, moto  # noqa: F401  (fixtures)
from tests.state.test_cli import run

CONFIG = """
skyplan {{
  catalog = "catalog.csv"
}}

provider "aws" {{
  regions      = ["us-east-1"]
  endpoint_url = "{url}"
  image_id     = "{ami}"
}}

workload "legacy" {{
  kind = "service"
  run  = "python serve.py"
  resources {{
    instance_type = "m5.large"
  }}
}}
"""

CATALOG = """InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone,Cloud
m5.large,,,2,8,0.096,,us-east-1,us-east-1a,aws
"""

pytestmark = pytest.mark.slow


def test_import_an_ec2_instance(capsys, tmp_path, moto):  # noqa: F811
    (tmp_path / "main.sky.hcl").write_text(CONFIG.format(url=moto.url, ami=AMI))
    (tmp_path / "catalog.csv").write_text(CATALOG)
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url)
    iid = ec2.run_instances(ImageId=AMI, InstanceType="m5.large", MinCount=1, MaxCount=1,
                            TagSpecifications=[{"ResourceType": "instance",
                                                "Tags": [{"Key": "team", "Value": "serving"}]}])["Instances"][0]["InstanceId"]

    code, out, err = run(capsys, "import", "workload.legacy", f"us-east-1/{iid}", str(tmp_path))
    assert code == 0, err
    assert f"Imported us-east-1/{iid} as workload.legacy" in out and "m5.large" in out

    with StateStore.open(tmp_path / ".skyplan" / "state.db", create=False) as store:
        rec = store.snapshot().resources["workload.legacy"]
        lineage = store.lineage
    p = rec.placement
    assert (p.provider, p.region, p.instance_type, p.hourly_price) == ("aws", "us-east-1", "m5.large", 0.096)
    assert [i.id for i in rec.instances] == [iid] and rec.attributes["run"] == "python serve.py"
    tags = {t["Key"]: t["Value"] for t in ec2.describe_tags(
        Filters=[{"Name": "resource-id", "Values": [iid]}])["Tags"]}
    assert tags[TAG_ADDRESS] == "workload.legacy" and tags[TAG_LINEAGE] == lineage and tags["team"] == "serving"

    code, _, err = run(capsys, "import", "workload.legacy", "us-east-1/i-0000000000000dead", str(tmp_path))
    assert code == 1 and "already in state" in err
    code, _, err = run(capsys, "state", "rm", "workload.legacy", str(tmp_path))
    code, _, err = run(capsys, "import", "workload.legacy", "us-east-1/i-0000000000000dead", str(tmp_path))
    assert code == 1 and "no instance" in err and "Traceback" not in err

"""An ``import`` block on moto's EC2 server, through the CLI: an instance launched
outside skyplan is planned as "will be imported" (nothing written), adopted by
apply under the block's address and lineage tags, and the next plan is empty."""

from __future__ import annotations

import json

import boto3
import pytest

from skyplan.cli import main
from skyplan.providers.base import TAG_ADDRESS, TAG_LINEAGE
from skyplan.state import StateStore
from tests.providers.aws.helpers import AMI, CATALOG_M5, CONFIG_HEAD

CONFIG = CONFIG_HEAD + """
workload "x" {{
  kind = "service"
  run  = "sleep infinity"
  resources {{
    instance_type = "m5.large"
  }}
}}

import {{
  to = workload.x
  id = "aws:{iid}"
}}
"""


def run(capsys, *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return exc.value.code, out + err


@pytest.mark.slow
def test_an_import_block_adopts_an_ec2_instance_as_part_of_the_plan(tmp_path, moto, capsys):
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url)
    iid = ec2.run_instances(ImageId=AMI, InstanceType="m5.large", MinCount=1, MaxCount=1,
                            Placement={"AvailabilityZone": "us-east-1a"})["Instances"][0]["InstanceId"]
    root = tmp_path / "cfg"
    root.mkdir()
    (root / "main.sky.hcl").write_text(CONFIG.format(url=moto.url, ami=AMI, iid=iid))
    (root / "catalog.csv").write_text(CATALOG_M5)

    code, out = run(capsys, "plan", str(root))
    assert code == 0, out
    assert f"workload.x will be imported (id aws:{iid})" in out and "will be created" not in out
    code, out = run(capsys, "plan", str(root), "--json")
    [change] = json.loads(out)["resource_changes"]
    assert change["importing"] == {"id": f"aws:{iid}"} and change["change"]["actions"] == ["no-op"]
    assert moto.calls("RunInstances") and len(moto.calls("RunInstances")) == 1  # planning launched nothing

    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    assert len(moto.calls("RunInstances")) == 1  # adopted, not launched
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        lineage, rec = store.lineage, store.get("workload.x")
    assert [i.id for i in rec.instances] == [iid] and rec.status == "running"
    tags = {t["Key"]: t["Value"] for t in
            ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["Tags"]}
    assert tags[TAG_ADDRESS] == "workload.x" and tags[TAG_LINEAGE] == lineage

    code, out = run(capsys, "plan", str(root), "--detailed-exitcode")
    assert code == 0, out

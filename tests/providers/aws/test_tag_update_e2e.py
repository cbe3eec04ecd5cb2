"""A tag changed or removed in the configuration is changed or removed on the
running EC2 instances in place (create_tags / delete_tags), through the CLI against
moto's EC2 server."""

from __future__ import annotations

import boto3
import pytest

from skyplan.providers.base import TAG_ADDRESS
from skyplan.state import StateStore
from tests.providers.aws.helpers import AMI, CONFIG_HEAD
from tests.providers.aws.test_e2e import CATALOG, live, run

CONFIG = CONFIG_HEAD + """
workload "api" {{
  kind = "service"
  run  = "python serve.py"
  tags = {tags}
  resources {{
    instance_type = "m5.large"
  }}
}}
"""


@pytest.mark.slow
def test_a_tag_changed_and_one_removed_reach_the_running_instance(tmp_path, moto, capsys):
    root = tmp_path / "cfg"
    root.mkdir()
    (root / "catalog.csv").write_text(CATALOG)
    (root / "main.sky.hcl").write_text(CONFIG.format(url=moto.url, ami=AMI,
                                                     tags='{ team = "vision", owner = "ana" }'))
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        lineage = store.lineage
    [before] = live(moto, lineage)
    assert {t["Key"]: t["Value"] for t in before["Tags"]}["owner"] == "ana"

    (root / "main.sky.hcl").write_text(CONFIG.format(url=moto.url, ami=AMI, tags='{ team = "nlp" }'))
    code, out = run(capsys, "plan", str(root))
    assert code == 0 and "0 to add, 1 to change, 0 to destroy" in out, out
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    [after] = live(moto, lineage)
    assert after["InstanceId"] == before["InstanceId"]  # updated in place, not replaced
    tags = {t["Key"]: t["Value"] for t in after["Tags"]}
    assert tags["team"] == "nlp" and "owner" not in tags and tags[TAG_ADDRESS] == "workload.api"
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url)
    assert ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [after["InstanceId"]]},
                                      {"Name": "key", "Values": ["owner"]}])["Tags"] == []
    code, out = run(capsys, "destroy", str(root), "--auto-approve")
    assert code == 0, out

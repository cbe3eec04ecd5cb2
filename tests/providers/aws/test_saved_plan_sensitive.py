"""A saved plan whose configuration has a sensitive variable is applied with exactly
the provider configuration it was made with (endpoint_url, image_id), against
moto's EC2 server and with the network guard on: nothing reaches a public endpoint."""

from __future__ import annotations

import stat

import boto3
import pytest

from skyplan.state import StateStore
from tests.providers.aws.helpers import AMI
from tests.providers.aws.test_e2e import CATALOG, run

CONFIG = """
skyplan {{
  catalog = "catalog.csv"
}}

variable "tok" {{
  type      = string
  sensitive = true
}}

provider "aws" {{
  regions        = ["us-east-1"]
  endpoint_url   = "{url}"
  image_id       = "{ami}"
  poll_interval  = 0.05
  launch_timeout = 30
}}

workload "train" {{
  kind = "service"
  run  = "python serve.py"
  env  = {{ TOKEN = var.tok }}
  resources {{
    instance_type = "m5.large"
  }}
}}
"""

SECRET = "tok-9d1c44e0"


@pytest.fixture
def root(tmp_path, moto):
    root = tmp_path / "cfg"
    root.mkdir()
    (root / "main.sky.hcl").write_text(CONFIG.format(url=moto.url, ami=AMI))
    (root / "catalog.csv").write_text(CATALOG)
    return root


@pytest.mark.slow
def test_saved_plan_with_a_sensitive_variable_applies_with_its_provider_block(root, moto, capsys):
    plan_file = root / "p.skyplan"
    code, out = run(capsys, "plan", str(root), "-var", f"tok={SECRET}", "-out", str(plan_file))
    assert code == 0, out
    assert SECRET not in out
    assert stat.S_IMODE(plan_file.stat().st_mode) == 0o600
    code, out = run(capsys, "show", str(plan_file), "--json")
    assert code == 0 and SECRET not in out, out

    code, out = run(capsys, "apply", str(plan_file))  # no -var: the plan carries what it was made with
    assert code == 0, out
    assert SECRET not in out
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        rec = store.get("workload.train")
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url)
    (inst,) = [i for r in ec2.describe_instances(InstanceIds=[rec.instances[0].id])["Reservations"]
               for i in r["Instances"]]
    assert inst["ImageId"] == AMI  # image_id from the provider block, no public SSM lookup
    assert rec.attributes["env"] == {"TOKEN": SECRET}
    assert [c["action"] for c in moto.calls() if c["action"] == "RunInstances"] == ["RunInstances"]


@pytest.mark.slow
def test_a_saved_plan_whose_configuration_changed_since_is_refused(root, moto, capsys):
    plan_file = root / "p.skyplan"
    code, out = run(capsys, "plan", str(root), "-var", f"tok={SECRET}", "-out", str(plan_file))
    assert code == 0, out
    text = (root / "main.sky.hcl").read_text().replace('"python serve.py"', '"python other.py"')
    (root / "main.sky.hcl").write_text(text)
    code, out = run(capsys, "apply", str(plan_file))
    assert code == 1 and "configuration changed" in out, out
    assert not [c for c in moto.calls() if c["action"] == "RunInstances"]

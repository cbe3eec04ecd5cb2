"""A value known only after apply reaches an AWS dependant as its real value.

``env = { HEAD = workload.head.ip }`` is unknown when planning; before the worker
launches, apply reads the head's address from the head's recorded instances, so the
worker's user data and its state record carry the real IP (never the placeholder
text), and the next plan has nothing to do."""

from __future__ import annotations

import base64

import boto3
import pytest

from skyplan.cli import main
from skyplan.state import StateStore
from tests.providers.aws.helpers import AMI, CATALOG_M5, CONFIG_HEAD

CONFIG = CONFIG_HEAD + """
workload "head" {{
  kind = "service"
  run  = "python -m http.server 8000"
  resources {{
    instance_type = "m5.large"
  }}
}}

workload "worker" {{
  kind = "service"
  env  = {{ HEAD = workload.head.ip }}
  run  = "python worker.py"
  resources {{
    instance_type = "m5.large"
  }}
}}
"""

CATALOG = CATALOG_M5


def run(capsys, *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return exc.value.code, out + err


@pytest.mark.slow
def test_dependant_is_launched_with_the_upstream_ip_not_a_placeholder(tmp_path, moto, capsys):
    root = tmp_path / "cfg"
    root.mkdir()
    (root / "main.sky.hcl").write_text(CONFIG.format(url=moto.url, ami=AMI))
    (root / "catalog.csv").write_text(CATALOG)

    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        head, worker = store.get("workload.head"), store.get("workload.worker")
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url)
    (head_raw,) = [i for r in ec2.describe_instances(InstanceIds=[head.instances[0].id])["Reservations"]
                   for i in r["Instances"]]
    head_ip = head_raw["PrivateIpAddress"]
    assert head_ip

    assert worker.attributes["env"] == {"HEAD": head_ip}
    data = ec2.describe_instance_attribute(InstanceId=worker.instances[0].id, Attribute="userData")
    script = base64.b64decode(data["UserData"]["Value"]).decode()
    assert "known after apply" not in script
    assert head_ip in script

    code, out = run(capsys, "plan", str(root), "--detailed-exitcode")
    assert code == 0, out

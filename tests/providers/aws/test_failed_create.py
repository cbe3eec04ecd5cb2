"""A first create that fails with nothing launched leaves no billed resource:
state keeps a ``failed`` record (no cost, its reason shown), plan creates it
again, destroy simply forgets it and drift does not report it. Against moto's
EC2 server with no credentials at all, and with every zone out of capacity."""

from __future__ import annotations

import json

import pytest

from skyplan.cli import main
from tests.providers.aws.helpers import AMI, CONFIG_HEAD

CONFIG = CONFIG_HEAD + """
workload "job" {{
  kind = "job"
  run  = "python train.py"
  resources {{
    instance_type = "g6.xlarge"
  }}
}}
"""

CATALOG = """InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone,Cloud
g6.xlarge,L4,1,4,16,0.8048,,us-east-1,us-east-1a,aws
g6.xlarge,L4,1,4,16,0.8049,,us-east-1,us-east-1b,aws
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


@pytest.fixture
def root(tmp_path, moto):
    root = tmp_path / "cfg"
    root.mkdir()
    (root / "main.sky.hcl").write_text(CONFIG.format(url=moto.url, ami=AMI))
    (root / "catalog.csv").write_text(CATALOG)
    return root


def check_failed_record(capsys, root, reason_part: str) -> None:
    code, out, err = run(capsys, "state", "list", str(root), "--json")
    assert code == 0, out + err
    [row] = json.loads(out)["resources"]
    assert (row["address"], row["status"], row["hourly_cost"]) == ("workload.job", "failed", 0)
    assert json.loads(out)["total_hourly_cost"] == 0

    code, out, err = run(capsys, "state", "show", "workload.job", str(root))
    assert code == 0 and "failed" in out and reason_part in out, out + err

    code, out, err = run(capsys, "status", str(root), "--json")
    assert code == 0, out + err
    [row] = json.loads(out)["resources"]
    assert row["state"] == "failed" and reason_part in row["reason"] and row["hourly_cost"] == 0
    code, out, err = run(capsys, "status", str(root))
    assert "$0.00/h now" in out and reason_part in out

    code, out, err = run(capsys, "plan", str(root), "-refresh=false", "-json")
    assert code == 0, out + err
    plan = json.loads(out)
    [change] = [c for c in plan["resource_changes"] if c["address"] == "workload.job"]
    assert change["change"]["actions"] == ["create"]
    assert change["action_reason"] == "create_because_create_failed"
    assert plan["cost"]["hourly_before"] == 0


def test_no_credentials_leave_a_failed_record_not_a_phantom(root, moto, monkeypatch, capsys):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 1, out + err
    check_failed_record(capsys, root, "credentials")

    code, out, err = run(capsys, "destroy", str(root), "-refresh=false", "--auto-approve")
    assert code == 0, out + err
    code, out, err = run(capsys, "state", "list", str(root), "--json")
    assert json.loads(out)["resources"] == []


@pytest.mark.slow
def test_capacity_failure_everywhere_is_not_drift(root, moto, capsys):
    moto.inject("InsufficientInstanceCapacity", action="RunInstances", times=10)
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 1, out + err
    moto.clear_faults()
    check_failed_record(capsys, root, "capacity")

    code, out, err = run(capsys, "drift", str(root))
    assert code == 0, out + err  # nothing was deleted: nothing was ever launched
    assert "missing" not in out.replace("0 missing", "")

    code, out, err = run(capsys, "apply", str(root), "--auto-approve")  # created this time
    assert code == 0, out + err
    code, out, err = run(capsys, "state", "list", str(root), "--json")
    [row] = json.loads(out)["resources"]
    assert row["status"] in ("running", "succeeded", "failed") and row["hourly_cost"] > 0
    code, out, err = run(capsys, "destroy", str(root), "--auto-approve")
    assert code == 0, out + err

"""A deadline job on AWS (moto's EC2 on 127.0.0.1): its spot instance preempted
(terminated behind skyplan's back) while the job still has slack; `skyplan watch
--once` takes spot again (rule 2) away from the zone it was lost in, and that
zone is remembered in state. An unreachable endpoint is exit 1, nothing launched."""

from __future__ import annotations

import json
import re
from pathlib import Path

import boto3
import pytest

from skyplan.cli import main
from skyplan.state import StateStore
from tests.providers.aws.helpers import AMI

CONFIG = """
provider "aws" {{
  regions      = ["us-east-1"]
  endpoint_url = "{url}"
}}

workload "train" {{
  kind             = "job"
  image            = "{ami}"
  run              = "python train.py"
  duration_hours   = 10
  deadline_hours   = 10.5
  changeover_hours = 0.1
  pricing          = ["spot", "on_demand"]
  resources {{
    instance_type = "c7g.medium"
  }}
}}
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def rec(root: Path):
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        return store.get("workload.train")


@pytest.fixture
def applied(tmp_path, moto, capsys):
    root = tmp_path / "cfg"
    root.mkdir()
    (root / "main.sky.hcl").write_text(CONFIG.format(url=moto.url, ami=AMI))
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out + err
    return root


@pytest.mark.slow
def test_a_preempted_spot_job_with_slack_takes_spot_elsewhere_and_remembers_the_zone(applied, moto, capsys):
    from datetime import datetime, timezone

    from skyplan.state.capacity import recall

    root = applied
    first = rec(root).instances[0]
    assert first.pricing == "spot" and first.zone
    code, out, err = run(capsys, "watch", str(root), "--once")
    assert code == 0, err
    [line] = [json.loads(x) for x in out.splitlines()]
    assert (line["mode"], line["action"]) == ("spot", "keep") and line["slack_hours"] > 0.4

    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url)
    ec2.terminate_instances(InstanceIds=[first.id])
    code, out, err = run(capsys, "watch", str(root), "--once")
    assert code == 0, err
    [line] = [json.loads(x) for x in out.splitlines()]
    assert (line["previous"], line["mode"], line["action"]) == ("wait", "spot", "replace"), line
    now = rec(root).instances[0]
    assert now.pricing == "spot" and now.id != first.id and now.zone != first.zone
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        memory = recall(store, datetime.now(timezone.utc))
    assert ("aws", "us-east-1", first.zone) in memory["workload.train"]


@pytest.mark.slow
def test_watch_exits_1_when_the_provider_is_unreachable(applied, capsys):
    root = applied
    cfg = (root / "main.sky.hcl").read_text()
    (root / "main.sky.hcl").write_text(re.sub(r'endpoint_url = "[^"]+"', 'endpoint_url = "http://127.0.0.1:9"', cfg))
    before = rec(root)
    code, out, err = run(capsys, "watch", str(root), "--once")
    assert code == 1 and "unreachable" in err and out == ""
    assert rec(root).instances == before.instances

"""``recovery.strategy`` decides where drift repair relaunches a preempted spot job
(moto's EC2 server on 127.0.0.1, through the CLI): ``eager_next_region`` (the
default) moves on from the zone it was lost in; ``failover`` relaunches it where
it ran first, as SkyPilot's FAILOVER retries its own region, and moves on only
when that launch finds no capacity."""

from __future__ import annotations

import boto3
import pytest

from skyplan.state import StateStore
from tests.providers.aws.helpers import AMI, CATALOG_M5_SPOT, CONFIG_HEAD, run_cli as run

CONFIG = CONFIG_HEAD + """
workload "train" {{
  kind           = "job"
  pricing        = ["spot"]
  duration_hours = 4
  run            = "python train.py"
  resources {{
    instance_type = "m5.large"
  }}
{recovery}}}
"""


def instance(root):
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        return store.get("workload.train").instances[0]


def preempt_and_repair(tmp_path, moto, capsys, recovery: str):
    root = tmp_path / "cfg"
    root.mkdir()
    (root / "main.sky.hcl").write_text(CONFIG.format(url=moto.url, ami=AMI, recovery=recovery))
    (root / "catalog.csv").write_text(CATALOG_M5_SPOT)
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    lost = instance(root)
    assert (lost.zone, lost.pricing) == ("us-east-1a", "spot")
    boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url).terminate_instances(InstanceIds=[lost.id])
    return root, lost


@pytest.mark.slow
def test_eager_next_region_relaunches_a_preempted_job_outside_the_zone_it_was_lost_in(tmp_path, moto, capsys):
    root, lost = preempt_and_repair(tmp_path, moto, capsys, "")
    code, out = run(capsys, "drift", str(root), "--repair", "--auto-approve")
    assert code == 0, out
    again = instance(root)
    assert again.id != lost.id and (again.zone, again.pricing) == ("us-east-1b", "spot")


@pytest.mark.slow
def test_failover_relaunches_a_preempted_job_where_it_ran_then_moves_on_without_capacity(tmp_path, moto, capsys):
    root, lost = preempt_and_repair(tmp_path, moto, capsys, '  recovery {\n    strategy = "failover"\n  }\n')
    code, out = run(capsys, "drift", str(root), "--repair", "--auto-approve")
    assert code == 0, out
    again = instance(root)
    assert again.id != lost.id and (again.zone, again.pricing) == ("us-east-1a", "spot")

    # preempted again, and now the zone has no spot capacity: the relaunch fails over
    boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url).terminate_instances(InstanceIds=[again.id])
    moto.inject("InsufficientInstanceCapacity", action="RunInstances", zone="us-east-1a")
    code, out = run(capsys, "drift", str(root), "--repair", "--auto-approve")
    assert code == 0, out
    assert instance(root).zone == "us-east-1b"

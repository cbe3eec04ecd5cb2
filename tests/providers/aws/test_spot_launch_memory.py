"""A spot launch the cloud has no capacity for is remembered in state, as a
preemption is: apply fails over to the next zone, and the next plan keeps the
workload out of the zone that had no spot even after the fault is gone, until
the memory expires."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from skyplan.state import StateStore, capacity
from tests.providers.aws.helpers import AMI, CATALOG_M5_SPOT, CONFIG_HEAD, run_cli as run

CONFIG = CONFIG_HEAD + """
workload "train" {{
  kind           = "job"
  pricing        = ["spot"]
  duration_hours = 2
  run            = "python train.py"
  resources {{
    instance_type = "m5.large"
  }}
}}
"""

def zone(root) -> str:
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        return store.get("workload.train").groups[0].placement.zone


@pytest.mark.slow
def test_a_spot_launch_without_capacity_is_remembered_and_the_next_plan_avoids_the_zone(tmp_path, moto, capsys):
    root = tmp_path / "cfg"
    root.mkdir()
    (root / "main.sky.hcl").write_text(CONFIG.format(url=moto.url, ami=AMI))
    (root / "catalog.csv").write_text(CATALOG_M5_SPOT)
    moto.inject("InsufficientInstanceCapacity", action="RunInstances", zone="us-east-1a")
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    assert zone(root) == "us-east-1b"
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        assert capacity.recall(store, datetime.now(timezone.utc)) == {
            "workload.train": (("aws", "us-east-1", "us-east-1a"),)}

    moto.clear_faults()
    code, out = run(capsys, "destroy", str(root), "--auto-approve")
    assert code == 0, out
    code, out = run(capsys, "apply", str(root), "--auto-approve")  # 1a still remembered: straight to 1b
    assert code == 0, out
    assert zone(root) == "us-east-1b"
    launches = len(moto.calls("RunInstances"))

    with StateStore.open(root / ".skyplan" / "state.db") as store:  # once it expires, 1a is tried again
        assert capacity.recall(store, datetime.now(timezone.utc) + timedelta(hours=2)) == {}
    code, out = run(capsys, "destroy", str(root), "--auto-approve")
    assert code == 0, out
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    assert zone(root) == "us-east-1a"
    assert len(moto.calls("RunInstances")) == launches + 1

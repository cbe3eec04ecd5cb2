"""On AWS (moto's EC2 server): an apply whose state lock is removed while it waits
for a launch starts nothing more and cannot write state; the instance it did launch
is journaled and, carrying its tags, adopted by the next apply, so nothing runs twice."""

from __future__ import annotations

import json
import time

import boto3
import pytest

from skyplan.state import StateStore
from tests.apply.clirun import popen, run
from tests.providers.aws.helpers import AMI
from tests.providers.aws.test_e2e import live

CONFIG = """
skyplan {{
  catalog = "catalog.csv"
}}

provider "aws" {{
  regions        = ["us-east-1"]
  endpoint_url   = "{url}"
  image_id       = "{ami}"
  poll_interval  = 0.05
  launch_timeout = 60
}}

workload "first" {{
  kind = "service"
  run  = "python -m http.server"
  resources {{
    instance_type = "m5.large"
  }}
}}

workload "second" {{
  kind       = "service"
  depends_on = [workload.first]
  run        = "python worker.py"
  resources {{
    instance_type = "m5.large"
  }}
}}
"""

CATALOG = """InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone,Cloud
m5.large,,,2,8,0.096,,us-east-1,us-east-1a,aws
"""


@pytest.mark.slow
def test_an_apply_that_lost_its_lock_launches_nothing_more_and_the_next_run_adopts_its_node(tmp_path, moto):
    root = tmp_path / "cfg"
    root.mkdir()
    (root / "main.sky.hcl").write_text(CONFIG.format(url=moto.url, ami=AMI))
    (root / "catalog.csv").write_text(CATALOG)
    # The first instance stays pending until the lock is gone.
    moto.inject(action="DescribeInstances", replace=["<name>running</name>", "<name>pending</name>"], times=100000)
    a = popen("apply", str(root), "-auto-approve")
    db = root / ".skyplan" / "state.db"
    deadline = time.monotonic() + 30
    lock_id = None
    while time.monotonic() < deadline and lock_id is None:
        if db.exists():
            with StateStore.open(db) as s:
                rec, held = s.get("workload.first"), s.current_lock()
            if rec is not None and held is not None:
                lock_id = held.id
        time.sleep(0.02)
    assert lock_id, "apply did not start"
    with StateStore.open(db) as s, s.atomic() as conn:  # as force-unlock on another host would
        conn.execute("DELETE FROM lock WHERE id = ?", (lock_id,))
    moto.clear_faults()  # now `first` runs
    out, err = a.communicate(timeout=90)
    assert a.returncode == 1, out + err
    assert "lost the state lock" in err, out + err

    with StateStore.open(db) as s:
        lineage = s.lineage
        assert s.get("workload.first").status == "creating"  # the launch was not recorded
        assert s.get("workload.second") is None
        lost = [h for h in s.history() if h["outcome"] == "lock-lost"]
    assert {h["address"] for h in lost} >= {"workload.first"}
    assert len(live(moto, lineage)) == 1  # `second` was never launched

    r = run("apply", str(root), "-auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    insts = live(moto, lineage)
    with StateStore.open(db) as s:
        first, second = s.get("workload.first"), s.get("workload.second")
    assert len(insts) == 2
    assert {i.id for i in first.instances + second.instances} == {i["InstanceId"] for i in insts}
    r = run("plan", str(root), "-detailed-exitcode")
    assert r.returncode == 0, r.stdout + r.stderr

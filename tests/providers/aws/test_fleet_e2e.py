"""Fleets on AWS end to end through the CLI against the EC2 test server: a
provisioned fleet is an On-Demand Capacity Reservation, and the workloads placed
on it launch into it (not as an instance type named after the fleet)."""

from __future__ import annotations

import boto3
import pytest

from skyplan.providers.base import TAG_ADDRESS, TAG_LINEAGE
from skyplan.state import StateStore
from tests.providers.aws.helpers import AMI
from tests.providers.aws.test_e2e import run

PROVIDER = """
skyplan {{
  catalog = "catalog.csv"
}}

provider "aws" {{
  regions        = ["us-east-1"]
  endpoint_url   = "{url}"
  image_id       = "{ami}"
  poll_interval  = 0.05
  launch_timeout = 30
}}
"""

POOL = """
fleet "pool" {
  provider = "aws"
  nodes    = 2
  keep     = true
  resources {
    accelerators = "A10G:1"
  }
}
"""


def job(name: str, fleet: str | None = "fleet.pool", acc: str = "A10G:1") -> str:
    where = f"\n  placement {{\n    fleet = {fleet}\n  }}" if fleet else ""
    return f"""
workload "{name}" {{
  kind = "job"
  run  = "python train.py"
  resources {{
    accelerators = "{acc}"
  }}{where}
}}
"""


CATALOG = """InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone,Cloud
g5.xlarge,A10G,1,4,16,1.006,,us-east-1,us-east-1a,aws
g5.xlarge,A10G,1,4,16,1.006,,us-east-1,us-east-1b,aws
m5.large,,,2,8,0.096,,us-east-1,us-east-1a,aws
"""


def ec2(moto):
    return boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url)


def live(moto, lineage: str) -> list[dict]:
    pages = ec2(moto).get_paginator("describe_instances").paginate(Filters=[
        {"Name": f"tag:{TAG_LINEAGE}", "Values": [lineage]},
        {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}])
    return [i for p in pages for r in p["Reservations"] for i in r["Instances"]]


def reservations(moto, lineage: str, state: str = "active") -> list[dict]:
    return ec2(moto).describe_capacity_reservations(Filters=[
        {"Name": f"tag:{TAG_LINEAGE}", "Values": [lineage]},
        {"Name": "state", "Values": [state]}])["CapacityReservations"]


def tags(raw: dict) -> dict:
    return {t["Key"]: t["Value"] for t in raw.get("Tags", ())}


def write(root, moto, *blocks: str):
    root.mkdir(exist_ok=True)
    (root / "main.sky.hcl").write_text(PROVIDER.format(url=moto.url, ami=AMI) + "".join(blocks))
    (root / "catalog.csv").write_text(CATALOG)


def lineage_of(root) -> str:
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        return store.lineage


@pytest.mark.slow
def test_the_fleet_of_the_first_example_is_not_bought_for_one_short_job_and_the_job_runs(tmp_path, moto, capsys):
    root = tmp_path / "cfg"
    write(root, moto, POOL.replace("  keep     = true\n", ""), job("train"))
    code, out = run(capsys, "plan", str(root))
    assert code == 0, out
    assert "fleet:pool" not in out, out
    assert "fleet.pool: $1,468.76 for 2 \u00d7 g5.xlarge reserved 730 h vs $1.01 on demand for the workloads " \
           "on it: not bought" in out, out
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    lineage = lineage_of(root)
    assert reservations(moto, lineage) == []
    (inst,) = live(moto, lineage)
    assert inst["InstanceType"] == "g5.xlarge" and "CapacityReservationId" not in inst
    code, out = run(capsys, "status", str(root))
    assert code == 0 and "creating" not in out, out


@pytest.mark.slow
def test_a_job_on_a_provisioned_fleet_launches_into_its_reservation(tmp_path, moto, capsys):
    root = tmp_path / "cfg"
    write(root, moto, POOL, job("train"))
    code, out = run(capsys, "plan", str(root))
    assert code == 0, out
    assert "fleet:pool" not in out and "g5.xlarge" in out, out
    assert "bought (keep = true)" in out, out

    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    lineage = lineage_of(root)
    (cr,) = reservations(moto, lineage)
    assert (cr["InstanceType"], cr["TotalInstanceCount"], cr["InstanceMatchCriteria"]) == ("g5.xlarge", 2, "targeted")
    assert tags(cr)[TAG_ADDRESS] == "fleet.pool"
    (inst,) = live(moto, lineage)  # the fleet itself runs no idle nodes: only the job's
    assert tags(inst)[TAG_ADDRESS] == "workload.train" and inst["InstanceType"] == "g5.xlarge"
    assert inst["CapacityReservationId"] == cr["CapacityReservationId"]
    assert inst["Placement"]["AvailabilityZone"] == cr["AvailabilityZone"]
    assert reservations(moto, lineage)[0]["AvailableInstanceCount"] == 1

    code, out = run(capsys, "status", str(root))
    assert code == 0, out
    assert "creating" not in out, out

    code, out = run(capsys, "plan", str(root), "--detailed-exitcode")  # refresh finds what was made
    assert code == 0, out

    code, out = run(capsys, "destroy", str(root), "--auto-approve")
    assert code == 0, out
    assert live(moto, lineage) == [] and reservations(moto, lineage) == []
    assert len(reservations(moto, lineage, "cancelled")) == 1


def _fleet_rid(root) -> str:
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        (inst,) = store.get("fleet.pool").instances
    return inst.id


@pytest.mark.slow
def test_three_jobs_fill_an_odcr_fleet_a_fourth_runs_beside_it_and_a_cancelled_reservation_is_repaired(
        tmp_path, moto, capsys):
    root = tmp_path / "cfg"
    pool3 = POOL.replace("nodes    = 2", "nodes    = 3").replace("provider = \"aws\"", "provider = \"aws\"\n  duration_hours = 48")
    write(root, moto, pool3, job("a"), job("b"), job("c"), job("d", fleet=None))
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    lineage = lineage_of(root)
    (cr,) = reservations(moto, lineage)
    rid = cr["CapacityReservationId"]
    assert cr["TotalInstanceCount"] == 3 and cr["EndDate"] and cr["AvailableInstanceCount"] == 0
    by = {tags(i)[TAG_ADDRESS]: i for i in live(moto, lineage)}
    assert sorted(by) == ["workload.a", "workload.b", "workload.c", "workload.d"]
    assert {by[a].get("CapacityReservationId") for a in ("workload.a", "workload.b", "workload.c")} == {rid}
    assert "CapacityReservationId" not in by["workload.d"]

    code, out = run(capsys, "plan", str(root), "--detailed-exitcode")  # the full reservation still holds all three
    assert code == 0, out

    moto.reservations.cancel(rid)  # behind skyplan's back
    code, out = run(capsys, "drift", str(root))
    assert code == 2, out
    assert "fleet.pool" in out and "missing" in out, out

    code, out = run(capsys, "drift", str(root), "--repair", "--auto-approve")
    assert code == 0, out
    (fresh,) = reservations(moto, lineage)
    assert fresh["CapacityReservationId"] != rid and fresh["TotalInstanceCount"] == 3
    assert _fleet_rid(root) == fresh["CapacityReservationId"]


@pytest.mark.slow
def test_a_brought_reservation_is_packed_exactly_and_never_cancelled_by_destroy(tmp_path, moto, capsys):
    rid = moto.reservations.add("us-east-1", instance_type="g5.xlarge", zone="us-east-1b", count=2)
    brought = f"""
fleet "shared" {{
  provider       = "aws"
  existing       = true
  reservation_id = "{rid}"
}}
"""
    root = tmp_path / "cfg"
    write(root, moto, brought, job("a", "fleet.shared"), job("b", "fleet.shared"))
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    lineage = lineage_of(root)
    insts = live(moto, lineage)
    assert len(insts) == 2 and {i.get("CapacityReservationId") for i in insts} == {rid}
    assert {i["Placement"]["AvailabilityZone"] for i in insts} == {"us-east-1b"}
    assert moto.reservations.reservation(rid)["available"] == 0

    write(root, moto, brought, job("a", "fleet.shared"), job("b", "fleet.shared"), job("c", "fleet.shared"))
    code, out = run(capsys, "plan", str(root))
    assert code == 1, out  # two whole instances, both taken by a and b
    assert "fleet.shared" in out and "g5.xlarge" in out, out

    write(root, moto, brought, job("a", "fleet.shared"), job("b", "fleet.shared"))
    code, out = run(capsys, "destroy", str(root), "--auto-approve")
    assert code == 0, out
    assert live(moto, lineage) == []
    left = moto.reservations.reservation(rid)
    assert left["state"] == "active" and left["available"] == 2


def test_a_brought_reservation_that_does_not_exist_is_named(tmp_path, moto, capsys):
    root = tmp_path / "cfg"
    write(root, moto, """
fleet "shared" {
  provider       = "aws"
  existing       = true
  reservation_id = "cr-0123456789abcdef0"
}
""", job("a", "fleet.shared"))
    code, out = run(capsys, "plan", str(root))
    assert code == 1, out
    assert "fleet.shared" in out and "cr-0123456789abcdef0" in out and "Traceback" not in out, out


def test_a_brought_reservation_is_read_at_refresh_and_a_cancelled_one_holds_nothing(tmp_path, moto, capsys):
    rid = moto.reservations.add("us-east-1", instance_type="g5.xlarge", zone="us-east-1b", count=2)
    root = tmp_path / "cfg"
    write(root, moto, f'fleet "shared" {{\n  provider = "aws"\n  existing = true\n  reservation_id = "{rid}"\n}}\n',
          job("a", "fleet.shared"))
    code, out = run(capsys, "plan", str(root), "-refresh=false")
    assert code == 1 and f"what reservation {rid} of fleet.shared holds is read at refresh" in out, out
    moto.reservations.cancel(rid)
    code, out = run(capsys, "plan", str(root))
    assert code == 1 and "(reservation cancelled) allows 0 instances" in out, out


def _block(moto, start_hours: float, end_hours: float) -> str:
    import datetime as dt

    now = dt.datetime.now(dt.timezone.utc)
    return moto.reservations.add("us-east-1", instance_type="g5.xlarge", zone="us-east-1a", count=1,
                                 kind="capacity-block", start=now + dt.timedelta(hours=start_hours),
                                 end=now + dt.timedelta(hours=end_hours))


def _timed_job(name: str, fleet: str, hours: int) -> str:
    return job(name, fleet).replace('  run  = "python train.py"', f'  run  = "python train.py"\n'
                                    f'  duration_hours = {hours}')


@pytest.mark.slow
def test_a_brought_capacity_block_takes_only_what_fits_in_its_time_and_launches_in_its_market(
        tmp_path, moto, capsys):
    rid = _block(moto, -1, 10)
    block = f'fleet "block" {{\n  provider = "aws"\n  existing = true\n  reservation_id = "{rid}"\n}}\n'
    root = tmp_path / "cfg"
    write(root, moto, block, _timed_job("long", "fleet.block", 24))
    code, out = run(capsys, "plan", str(root))
    assert code == 1 and "workload.long runs 24 h, but the Capacity Block of fleet.block holds its instances" in out, out

    write(root, moto, block, _timed_job("short", "fleet.block", 4))
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    (inst,) = live(moto, lineage_of(root))
    assert inst["CapacityReservationId"] == rid
    assert moto.reservations.reservation(rid)["available"] == 0


def test_a_workload_waits_for_a_brought_block_that_has_not_started_or_with_start_by_goes_elsewhere(
        tmp_path, moto, capsys):
    import datetime as dt
    import json

    rid = _block(moto, 5, 29)
    starts = moto.reservations.reservation(rid)["start"].astimezone(dt.timezone.utc)
    block = f'fleet "block" {{\n  provider = "aws"\n  existing = true\n  reservation_id = "{rid}"\n}}\n'
    root = tmp_path / "cfg"
    write(root, moto, block, _timed_job("short", "fleet.block", 4))
    code, out = run(capsys, "plan", str(root))
    assert code == 0, out
    assert f"waits for fleet.block, starts {starts.strftime('%Y-%m-%dT%H:%MZ')}" in out, out

    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 1 and f"Capacity Block {rid} starts at " in out and "nothing launched before then" in out, out
    assert moto.calls("RunInstances") == []  # apply never launches before the block starts

    start_by = (starts - dt.timedelta(hours=1)).isoformat()
    write(root, moto, block, _timed_job("short", "fleet.block", 4).replace(
        "  duration_hours", f'  start_by = "{start_by}"\n  duration_hours'))
    code, out = run(capsys, "plan", str(root), "--json")
    assert code == 0, out
    doc = json.loads(out[out.index("{"):])
    (entry,) = [p for p in doc["placements"] if p["address"] == "workload.short"]
    assert entry["after"][0]["fleet"] is None and "waits_for" not in entry
    change = next(c for c in doc["resource_changes"] if c["address"] == "workload.short")
    assert change["change"]["after"]["start_by"] == start_by
    explanation = change["change"]["after"]["placement"]["explanation"]
    assert "not on fleet.block: its Capacity Block starts " in explanation, explanation
    assert f"after start_by {start_by}" in explanation


def test_a_fleet_its_workloads_still_run_on_is_refused_in_the_json_plan_and_the_markdown_comment_too(
        tmp_path, moto, capsys):
    import json
    from pathlib import Path

    import jsonschema

    from skyplan.cli import main
    from skyplan.planner.render_markdown import MARKER

    def cli(*argv: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exc:
            main(list(argv))
        out, err = capsys.readouterr()
        return exc.value.code, out, err

    root = tmp_path / "cfg"
    write(root, moto, POOL, job("train"))
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    write(root, moto, job("train", None))  # the fleet goes, but only it is targeted: the job stays on it
    refused = "fleet.pool would be destroyed while workload.train still run on it"
    code, out, err = cli("plan", str(root), "-target", "fleet.pool", "--json")
    assert code == 1 and refused in err
    doc = json.loads(out)
    schema = json.loads((Path(__file__).resolve().parents[3] / "schemas" / "plan.schema.json").read_text())
    jsonschema.validate(doc, schema)
    assert doc["errored"] is True and doc["applyable"] is False
    (diag,) = doc["diagnostics"]
    assert refused in diag["summary"] and "workloads go first" in diag["hint"]
    assert diag["fleets_in_use"] == [{"fleet": "fleet.pool", "workloads": ["workload.train"]}]

    code, out, err = cli("plan", str(root), "-target", "fleet.pool", "--format", "markdown")
    assert code == 1 and out.startswith(MARKER), out
    assert ": failed" in out and refused in out and "workloads go first" in out

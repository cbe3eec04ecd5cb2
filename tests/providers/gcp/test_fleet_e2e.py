"""GCP fleets end to end through the CLI against the Compute Engine emulator: a
provisioned fleet is a specific reservation, workloads on it are inserted with
an affinity to it, refresh reads its inUseCount, a deleted one is drift, and a
brought one is packed and never deleted."""

from __future__ import annotations

import pytest

from tests.providers.gcp.helpers import PROJECT
from tests.providers.gcp.test_e2e import CONFIG, by_address, record, run

CATALOG = """InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone,Cloud
g2-standard-4,L4,1,4,16,0.71,,us-central1,us-central1-a,gcp
g2-standard-4,L4,1,4,16,0.72,,us-central1,us-central1-b,gcp
g2-standard-4,L4,1,4,16,0.78,,us-east1,us-east1-b,gcp
"""

POOL = """
fleet "pool" {
  provider       = "gcp"
  nodes          = 2
  keep           = true
  duration_hours = 48
  resources {
    accelerators = "L4:1"
  }
}
"""


def job(name: str, fleet: str = "fleet.pool") -> str:
    return f"""
workload "{name}" {{
  kind = "job"
  run  = "python {name}.py"
  resources {{
    accelerators = "L4:1"
  }}
  placement {{
    fleet = {fleet}
  }}
}}
"""


def write(tmp_path, gce, *blocks):
    root = tmp_path / "cfg"
    root.mkdir(exist_ok=True)
    (root / "main.sky.hcl").write_text(CONFIG.format(project=PROJECT, url=gce.url) + "".join(blocks))
    (root / "catalog.csv").write_text(CATALOG)
    return root


def mine(gce) -> dict[str, dict]:
    return {name: gce.reservation(p, z, name) for (p, z, name) in list(gce.reservations)}


@pytest.mark.slow
def test_jobs_on_a_provisioned_fleet_use_its_specific_reservation_and_drift_repairs_it(tmp_path, gce, capsys):
    root = write(tmp_path, gce, POOL, job("a"), job("b"))
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    (name, res), = mine(gce).items()
    assert res["specificReservationRequired"] is True and res["deleteAtTime"]
    assert res["specificReservation"]["count"] == "2" and res["specificReservation"]["inUseCount"] == "2"
    assert res["specificReservation"]["instanceProperties"]["machineType"] == "g2-standard-4"
    live = by_address(gce)
    assert sorted(live) == ["workload_2ea", "workload_2eb"]  # the fleet runs no idle VMs of its own
    for raws in live.values():
        assert raws[0]["reservationAffinity"]["values"] == [name]
        assert raws[0]["zone"] == res["zone"]
    rec, _ = record(root, "fleet.pool")
    assert [i.id for i in rec.instances] == [f"{PROJECT}/{res['zone'].rsplit('/', 1)[1]}/{name}"]

    code, out = run(capsys, "plan", str(root), "--detailed-exitcode")
    assert code == 0, out

    zone = res["zone"].rsplit("/", 1)[1]
    gce.drop_reservation(PROJECT, zone, name)
    code, out = run(capsys, "drift", str(root))
    assert code == 2 and "fleet.pool" in out and "missing" in out, out
    code, out = run(capsys, "drift", str(root), "--repair", "--auto-approve")
    assert code == 0, out
    assert len(mine(gce)) == 1 and name not in mine(gce)

    code, out = run(capsys, "destroy", str(root), "--auto-approve")
    assert code == 0, out
    assert mine(gce) == {} and by_address(gce) == {}


@pytest.mark.slow
def test_a_brought_specific_reservation_is_packed_and_never_deleted(tmp_path, gce, capsys):
    gce.add_reservation(PROJECT, "us-central1-b", "team-l4", "g2-standard-4", 1)
    brought = """
fleet "shared" {
  provider       = "gcp"
  existing       = true
  reservation_id = "team-l4"
}
"""
    root = write(tmp_path, gce, brought, job("a", "fleet.shared"))
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    (raw,) = by_address(gce)["workload_2ea"]
    assert raw["reservationAffinity"]["values"] == ["team-l4"] and raw["zone"].endswith("/us-central1-b")
    assert gce.reservation(PROJECT, "us-central1-b", "team-l4")["specificReservation"]["inUseCount"] == "1"

    root2 = write(tmp_path, gce, brought, job("a", "fleet.shared"), job("b", "fleet.shared"))
    code, out = run(capsys, "plan", str(root2))
    assert code == 1 and "fleet.shared" in out, out  # one reserved instance, already taken by a

    root = write(tmp_path, gce, brought, job("a", "fleet.shared"))
    code, out = run(capsys, "destroy", str(root), "--auto-approve")
    assert code == 0, out
    left = gce.reservation(PROJECT, "us-central1-b", "team-l4")
    assert left["status"] == "READY" and left["specificReservation"]["inUseCount"] == "0"

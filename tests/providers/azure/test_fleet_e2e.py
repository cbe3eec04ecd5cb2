"""Fleets on Azure end to end through the CLI against the ARM emulator: a
provisioned fleet is a capacity reservation group holding one capacity
reservation, the workloads placed on it are VMs associated with that group, and
a brought group is packed by its live free count and never deleted."""

from __future__ import annotations

import pytest

from skyplan.state import StateStore
from tests.providers.azure.test_e2e import run

SIZE = "Standard_NC24ads_A100_v4"

PROVIDER = """
skyplan {{
  catalog = "catalog.csv"
}}

provider "azure" {{
  subscription_id = "{sub}"
  regions         = ["eastus"]
  endpoint        = "{url}"
  poll_interval   = 0
  max_retries     = 0
}}
"""

POOL = """
fleet "pool" {
  provider = "azure"
  nodes    = 3
  keep     = true
  duration_hours = 48
  resources {
    accelerators = "A100-80GB:1"
  }
}
"""

CATALOG = f"""InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone,Cloud
{SIZE},A100-80GB,1,24,220,3.673,,eastus,,azure
Standard_D4s_v5,,,4,16,0.192,,eastus,,azure
"""


def job(name: str, fleet: str | None = "fleet.pool") -> str:
    where = f"\n  placement {{\n    fleet = {fleet}\n  }}" if fleet else ""
    return f"""
workload "{name}" {{
  kind = "job"
  run  = "python train.py"
  resources {{
    accelerators = "A100-80GB:1"
  }}{where}
}}
"""


def write(root, arm, *blocks: str) -> None:
    root.mkdir(exist_ok=True)
    (root / "main.sky.hcl").write_text(PROVIDER.format(sub=arm.subscription, url=arm.url) + "".join(blocks))
    (root / "catalog.csv").write_text(CATALOG)


def lineage_of(root) -> str:
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        return store.lineage


def groups(arm, lineage: str) -> list[dict]:
    return [g for g in arm.of_type("Microsoft.Compute/capacityReservationGroups")
            if g["tags"].get("skyplan-lineage") == lineage]


def by_address(arm) -> dict[str, dict]:
    return {vm["tags"]["skyplan-address"]: vm for vm in arm.vms()}


def group_of(vm: dict) -> str | None:
    return ((vm["properties"].get("capacityReservation") or {}).get("capacityReservationGroup") or {}).get("id")


@pytest.mark.slow
def test_three_jobs_fill_a_provisioned_reservation_a_fourth_runs_beside_it_and_destroy_deletes_it(
        tmp_path, arm, capsys):
    root = tmp_path / "cfg"
    write(root, arm, POOL, job("a"), job("b"), job("c"), job("d", fleet=None))
    code, out, err = run(capsys, "plan", str(root))
    assert code == 0, out + err
    assert "fleet:pool" not in out and SIZE in out and "bought (keep = true)" in out, out

    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out + err
    lineage = lineage_of(root)
    (grp,) = groups(arm, lineage)
    assert grp["tags"]["skyplan-address"] == "fleet.pool"
    (cr,) = arm.of_type("Microsoft.Compute/capacityReservationGroups/capacityReservations")
    assert cr["sku"] == {"name": SIZE, "capacity": 3} and cr["properties"]["provisioningState"] == "Succeeded"
    vms = by_address(arm)
    assert sorted(vms) == ["workload.a", "workload.b", "workload.c", "workload.d"]
    assert {group_of(vms[a]) for a in ("workload.a", "workload.b", "workload.c")} == {grp["id"]}
    assert group_of(vms["workload.d"]) is None
    assert arm.reservation_usage(grp["id"]) == {"capacity": 3, "allocated": 3, "associated": 3}

    code, out, err = run(capsys, "plan", str(root), "--detailed-exitcode")  # the full reservation holds all three
    assert code == 0, out + err

    code, out, err = run(capsys, "destroy", str(root), "--auto-approve")
    assert code == 0, out + err
    assert arm.vms() == [] and groups(arm, lineage) == []
    assert arm.of_type("Microsoft.Compute/capacityReservationGroups/capacityReservations") == []


@pytest.mark.slow
def test_a_reservation_deleted_behind_skyplans_back_is_drift_and_repaired(tmp_path, arm, capsys):
    root = tmp_path / "cfg"
    write(root, arm, POOL.replace("nodes    = 3", "nodes    = 1"), job("a"))
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out + err
    lineage = lineage_of(root)
    (grp,) = groups(arm, lineage)
    code, out, err = run(capsys, "destroy", str(root), "--auto-approve", "-target", "workload.a")
    assert code == 0 and list(by_address(arm)) == [], out + err
    arm.delete_reservation_behind_back(grp["id"])  # the group stays, holding nothing
    code, out, err = run(capsys, "drift", str(root))
    assert code == 2, out + err
    assert "fleet.pool has been deleted" in out, out
    code, out, err = run(capsys, "drift", str(root), "--repair", "--auto-approve")
    assert code == 0, out + err
    (fresh,) = groups(arm, lineage)  # the emptied group was deleted, a new one holds the fleet
    assert fresh["id"] != grp["id"] and arm.reservation_usage(fresh["id"])["capacity"] == 1
    code, out, err = run(capsys, "drift", str(root))
    assert code == 0, out + err


@pytest.mark.slow
def test_a_brought_group_is_packed_by_what_is_free_and_never_deleted(tmp_path, arm, capsys):
    gid = arm.add_reservation("shared-rg", "team-gpus", size=SIZE, count=2)
    brought = """
fleet "shared" {
  provider       = "azure"
  existing       = true
  reservation_id = "shared-rg/team-gpus"
}
"""
    root = tmp_path / "cfg"
    write(root, arm, brought, job("a", "fleet.shared"), job("b", "fleet.shared"))
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out + err
    vms = by_address(arm)
    assert {group_of(v) for v in vms.values()} == {gid}
    assert {v["properties"]["hardwareProfile"]["vmSize"] for v in vms.values()} == {SIZE}
    assert arm.reservation_usage(gid)["allocated"] == 2

    write(root, arm, brought, job("a", "fleet.shared"), job("b", "fleet.shared"), job("c", "fleet.shared"))
    code, out, err = run(capsys, "plan", str(root))
    assert code == 1, out + err  # two reserved VMs, both taken by a and b: c is not promised a slot
    assert "fleet.shared" in out + err, out + err

    write(root, arm, brought, job("a", "fleet.shared"), job("b", "fleet.shared"))
    code, out, err = run(capsys, "destroy", str(root), "--auto-approve")
    assert code == 0, out + err
    assert arm.vms() == []
    assert arm.reservation_usage(gid) == {"capacity": 2, "allocated": 0, "associated": 0}


def test_a_brought_group_that_does_not_exist_is_named(tmp_path, arm, capsys):
    root = tmp_path / "cfg"
    write(root, arm, """
fleet "shared" {
  provider       = "azure"
  existing       = true
  reservation_id = "shared-rg/nothing-here"
}
""", job("a", "fleet.shared"))
    code, out, err = run(capsys, "plan", str(root))
    assert code == 1, out + err
    assert "fleet.shared" in out + err and "shared-rg/nothing-here" in out + err
    assert "Traceback" not in out + err


def test_a_vm_into_a_group_without_its_size_gets_azures_error(arm):
    from skyplan.errors import ProviderError
    from tests.providers.azure.helpers import provider, request

    gid = arm.add_reservation("skyplan-eastus", "other", size="Standard_D4s_v5", count=1)
    with pytest.raises(ProviderError, match="InvalidParameter") as exc:
        provider(arm).create(request(size=SIZE, pricing="reserved", reservation_id=gid))
    assert SIZE in str(exc.value)
    assert arm.vms() == []  # the failed node was cleaned up


def test_a_reservation_azure_has_no_capacity_for_leaves_no_group(arm):
    from skyplan.errors import CapacityError
    from tests.providers.azure.helpers import provider, request

    arm.fault(kind="capacity", code="AllocationFailed", size=SIZE, path="capacityReservations",
              message="Allocation failed. We do not have sufficient capacity for the requested VM size.")
    fleet = request(address="fleet.pool", size=SIZE, nodes=2, pricing="reserved", kind="service",
                    reserve="capacity_reservation")
    with pytest.raises(CapacityError, match="AllocationFailed"):
        provider(arm).create(fleet)
    assert arm.of_type("Microsoft.Compute/capacityReservationGroups") == []
    assert arm.of_type("Microsoft.Compute/capacityReservationGroups/capacityReservations") == []

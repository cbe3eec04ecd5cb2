"""``skyplan optimize`` end to end: a real config folder and catalog file in, the
table or JSON out, exit codes and messages for mistakes."""

from __future__ import annotations

import json

import pytest

from skyplan.cli import main

CATALOG = """InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone,Cloud,InterruptionBand
p5.48xlarge,H100,8,192,2048,55.0,20.0,us-east-1,us-east-1a,aws,>20%
p5.48xlarge,H100,8,192,2048,50.0,,us-west-2,us-west-2a,aws,
m5.2xlarge,,,8,32,0.384,0.15,us-east-1,us-east-1a,aws,<5%
m5.2xlarge,,,8,32,0.40,,us-west-2,us-west-2a,aws,
a3-highgpu-8g,H100,8,208,1872,60.0,30.0,us-central1,us-central1-a,gcp,15-20%
n2-standard-8,,,8,32,0.39,,us-central1,us-central1-a,gcp,
"""

CONFIG = """
provider "aws" {
  regions = ["us-east-1", "us-west-2"]
  quota {
    accelerator = "H100"
    max         = 8
  }
}
provider "gcp" {
  regions = ["us-central1"]
}
workload "train" {
  kind           = "job"
  num_nodes      = 2
  duration_hours = 10
  resources {
    accelerators = ["H100:8"]
  }
}
workload "web" {
  kind = "service"
  resources {
    cpus   = 8
    memory = 32
  }
}
"""


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "main.sky.hcl").write_text(CONFIG)
    (tmp_path / "catalog.csv").write_text(CATALOG)
    return tmp_path


def run(args, capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    out, err = capsys.readouterr()
    return info.value.code, out, err


def test_json_places_every_workload_at_the_lowest_cost(folder, capsys):
    code, out, _ = run(["optimize", str(folder), "--catalog", str(folder / "catalog.csv"), "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    by = {p["address"]: p for p in data["placements"]}
    # aws H100 quota is 8, so both nodes of train (16 H100) cannot be on aws: gcp at $60/node
    assert (by["workload.train"]["provider"], by["workload.train"]["instance_type"]) == ("gcp", "a3-highgpu-8g")
    assert by["workload.train"]["nodes"] == 2
    assert by["workload.train"]["hourly_cost"] == pytest.approx(120.0)
    assert by["workload.train"]["cost"] == pytest.approx(1200.0)
    assert by["workload.web"]["zone"] == "us-east-1a"
    assert by["workload.web"]["cost"] == pytest.approx(0.384 * 730)
    assert data["total_hourly_cost"] == pytest.approx(120.384)
    assert data["total_cost"] == pytest.approx(1200 + 0.384 * 730)
    assert data["status"] == "optimal"
    for key in ("address", "provider", "region", "zone", "instance_type", "pricing", "nodes", "hourly_cost",
                "cost", "fleet", "fallbacks"):
        assert key in by["workload.web"]
    assert [f["instance_type"] for f in by["workload.web"]["fallbacks"]] == ["n2-standard-8", "m5.2xlarge"]


def test_table_shows_candidates_and_total(folder, capsys):
    code, out, _ = run(["optimize", str(folder), "--catalog", str(folder / "catalog.csv"),
                        "--workload", "workload.web", "--top", "2"], capsys)
    assert code == 0
    for head in ("INFRA", "INSTANCE", "vCPUs", "PRICING", "$/h", "EST. COST", "CHOSEN"):
        assert head in out
    assert "aws/us-east-1/us-east-1a" in out and "gcp/us-central1/us-central1-a" in out
    assert "aws/us-west-2/us-west-2a" not in out  # --top 2
    assert "workload.train" not in out
    assert "Total:" in out and "Solver: optimal" in out


def test_unknown_workload_is_a_usage_error(folder, capsys):
    code, _, err = run(["optimize", str(folder), "--catalog", str(folder / "catalog.csv"),
                        "--workload", "workload.nope"], capsys)
    assert code == 1
    assert "workload.nope is not in the configuration" in err


def test_infeasible_names_the_workload_and_constraint(folder, capsys):
    (folder / "main.sky.hcl").write_text(CONFIG.replace('["H100:8"]', '["H200:8"]'))
    code, _, err = run(["optimize", str(folder), "--catalog", str(folder / "catalog.csv")], capsys)
    assert code == 1
    assert "workload.train: no offer matches H200:8" in err
    assert "Traceback" not in err


def test_bad_flags(folder, capsys):
    code, _, err = run(["optimize", str(folder), "--top", "0"], capsys)
    assert code == 1 and "--top must be at least 1" in err
    code, _, err = run(["optimize", str(folder), "--migrate-threshold", "1.5"], capsys)
    assert code == 1 and "--migrate-threshold must be a fraction" in err


def test_running_workload_stays_unless_reoptimize(folder, capsys):
    from skyplan.solver.model import Placement
    from skyplan.state.model import GroupRecord, ResourceRecord
    from skyplan.state.store import StateStore

    (folder / ".skyplan").mkdir()
    running = Placement("aws", "us-west-2", "us-west-2a", "m5.2xlarge", "on_demand", 0.40)
    with StateStore.open(folder / ".skyplan" / "state.db") as store:
        store.record(ResourceRecord("workload.web", "workload", groups=(GroupRecord(running),)), action="create")
    args = ["optimize", str(folder), "--catalog", str(folder / "catalog.csv"), "--workload", "workload.web", "--json"]
    code, out, _ = run(args, capsys)
    web = json.loads(out)["placements"][0]
    assert code == 0 and web["zone"] == "us-west-2a" and web["kept"] is True  # 4% saving < 20% threshold
    for flags in (["--reoptimize"], ["--migrate-threshold", "0.01"]):
        code, out, _ = run(args + flags, capsys)
        web = json.loads(out)["placements"][0]
        assert code == 0 and web["zone"] == "us-east-1a" and web["kept"] is False, flags


FLEETS = """
provider "aws" {
  regions = ["us-east-1", "us-west-2"]
}
fleet "reserved" {
  provider = "aws"
  existing = true
  region   = "us-east-1"
  capacity {
    accelerator = "H100"
    per_node    = 8
    nodes       = 1
  }
}
fleet "pool" {
  provider = "aws"
  nodes    = 2
  keep     = true
  pricing  = "on_demand"
  resources {
    accelerators = "H100:8"
  }
}
workload "ft" {
  kind = "job"
  resources {
    accelerators = "H100:8"
  }
}
workload "eval" {
  kind = "job"
  resources {
    accelerators = "H100:8"
  }
  placement {
    fleet = fleet.pool
  }
}
"""


def test_fleets_from_hcl(folder, capsys):
    (folder / "main.sky.hcl").write_text(FLEETS)
    code, out, err = run(["optimize", str(folder), "--catalog", str(folder / "catalog.csv"), "--json"], capsys)
    assert code == 0, err
    by = {p["address"]: p for p in json.loads(out)["placements"]}
    assert by["workload.ft"]["fleet"] == "fleet.reserved" and by["workload.ft"]["hourly_cost"] == 0
    assert by["fleet.pool"]["instance_type"] == "p5.48xlarge" and by["fleet.pool"]["hourly_cost"] == 100.0
    assert by["workload.eval"]["fleet"] == "fleet.pool"
    assert (by["workload.eval"]["region"], by["workload.eval"]["instance_type"]) == ("us-west-2", "p5.48xlarge")


ARM_CATALOG = "".join(line + ("," if i else ",Arch") + "\n" for i, line in enumerate(CATALOG.splitlines())) \
    + "m7g.2xlarge,,,8,32,0.3264,,us-east-1,us-east-1a,aws,,arm64\n"


def test_arch_defaults_to_x86_and_any_takes_the_cheaper_arm_machine(folder, capsys):
    (folder / "catalog.csv").write_text(ARM_CATALOG)
    code, out, _ = run(["optimize", str(folder), "--catalog", str(folder / "catalog.csv"), "--json"], capsys)
    assert code == 0
    web = {p["address"]: p for p in json.loads(out)["placements"]}["workload.web"]
    assert web["instance_type"] == "m5.2xlarge"  # arm64 is cheaper, but not asked for
    assert {c["arch"] for c in web["candidates"]} == {"x86_64"}

    (folder / "main.sky.hcl").write_text(CONFIG.replace("    memory = 32\n", '    memory = 32\n    arch   = "any"\n'))
    code, out, _ = run(["optimize", str(folder), "--catalog", str(folder / "catalog.csv"),
                        "--workload", "workload.web"], capsys)
    assert code == 0
    assert "ARCH" in out and "arm64" in out and "m7g.2xlarge" in out


def test_unknown_arch_is_named_with_its_position(folder, capsys):
    (folder / "main.sky.hcl").write_text(CONFIG.replace("    memory = 32\n", '    memory = 32\n    arch   = "sparc"\n'))
    code, _, err = run(["optimize", str(folder), "--catalog", str(folder / "catalog.csv")], capsys)
    assert code == 1
    assert "main.sky.hcl:" in err and "arch" in err and "sparc" in err
    assert "Traceback" not in err


SPOT_SERVICE = """
provider "aws" {
  regions = ["us-east-1", "us-west-2"]
}
workload "web" {
  kind     = "service"
  replicas = 3
  pricing  = ["spot", "on_demand"]
  resources {
    cpus   = 8
    memory = 32
  }
  placement {
    regions = ["us-west-2"]
  }
  spot {
    base_on_demand_replicas = 1
  }
}
"""


def test_a_spot_block_without_spot_offers_is_named_at_its_position(folder, capsys):
    (folder / "main.sky.hcl").write_text(SPOT_SERVICE)
    code, _, err = run(["optimize", str(folder), "--catalog", str(folder / "catalog.csv")], capsys)
    assert code == 1
    assert "main.sky.hcl:17:5" in err and "no spot offer matches" in err, err
    assert "Traceback" not in err


def test_a_spot_block_places_its_base_on_demand_and_the_rest_on_spot(folder, capsys):
    (folder / "main.sky.hcl").write_text(SPOT_SERVICE.replace('regions = ["us-west-2"]', 'regions = ["us-*"]'))
    code, out, err = run(["optimize", str(folder), "--catalog", str(folder / "catalog.csv"), "--json"], capsys)
    assert code == 0, err
    (web,) = [p for p in json.loads(out)["placements"] if p["address"] == "workload.web"]
    groups = web["groups"]
    assert sorted(g["chosen"]["pricing"] for g in groups) == ["on_demand", "spot", "spot"]


def test_optimize_places_within_the_mandatory_policies_as_plan_does(tmp_path, capsys):
    """A group cap forces the group's workloads to spot in optimize too; a cap nothing
    fits is the same error, naming the policy, as in plan."""
    from pathlib import Path

    case = Path(__file__).resolve().parents[1] / "cases" / "policy"
    for name in ("group_cap_forces_spot", "group_cap_infeasible"):
        d = tmp_path / name
        d.mkdir()
        (d / "main.sky.hcl").write_text((case / name / "main.sky.hcl").read_text())
    catalog = str(case / "catalog.csv")
    code, out, _ = run(["optimize", str(tmp_path / "group_cap_forces_spot"), "--catalog", catalog, "--json"], capsys)
    assert code == 0
    pricing = {p["address"]: p["pricing"] for p in json.loads(out)["placements"]}
    assert pricing == {"workload.a": "spot", "workload.b": "spot", "workload.other": "on_demand"}
    code, _, err = run(["optimize", str(tmp_path / "group_cap_infeasible"), "--catalog", catalog], capsys)
    assert code == 1
    assert 'No placement satisfies mandatory policy "vision-budget"' in err and "main.sky.hcl:36:3" in err

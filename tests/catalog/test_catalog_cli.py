"""The catalog commands through the real CLI entry point (exit codes, messages, output)."""

from __future__ import annotations

import json

import pytest

from skyplan.cli import main


def run(capsys, *args):
    with pytest.raises(SystemExit) as e:
        main(list(args))
    out, err = capsys.readouterr()
    return e.value.code, out, err


def test_list_filters_and_prints_table(capsys, cache_dir):
    code, out, _ = run(capsys, "catalog", "list", "--accelerator", "H100", "--provider", "aws",
                       "--region", "us-*", "--limit", "3")
    assert code == 0
    header = out.splitlines()[0].split()
    assert header == ["PROVIDER", "REGION", "ZONE", "INSTANCE", "ACCEL", "vCPUs", "MEM", "$/h", "SPOT", "$/h",
                      "RESERVED", "BAND"]
    rows = out.splitlines()[1:4]
    assert all(r.split()[0] == "aws" and r.split()[1].startswith("us-") for r in rows)
    assert "showing the cheapest 3" in out and "built-in snapshot" in out


def test_list_json_spot_max_price(capsys, small_csv):
    code, out, _ = run(capsys, "catalog", "list", "--spot", "--max-price", "10", "--json", "--catalog", str(small_csv))
    assert code == 0
    data = json.loads(out)
    assert data["pricing"] == "spot" and data["source"] == str(small_csv)
    assert [o["instance_type"] for o in data["offers"]] == ["m7i.large", "g2-standard-4", "g6.xlarge",
                                                             "Standard_NC40ads_H100_v5"]


def test_list_unknown_accelerator_exit_1_with_suggestion(capsys, cache_dir):
    code, out, err = run(capsys, "catalog", "list", "--accelerator", "A100-80G")
    assert code == 1 and "unknown accelerator 'A100-80G'" in err and "A100-80GB" in err
    assert "Traceback" not in err


def test_list_unknown_provider_exit_1_with_suggestion(capsys, cache_dir):
    code, out, err = run(capsys, "catalog", "list", "--provider", "awz")
    assert code == 1 and "unknown provider 'awz'" in err and "did you mean 'aws'?" in err
    code, out, _ = run(capsys, "catalog", "list", "--provider", "kubernetes")
    assert code == 0 and "read live from the cluster" in out


@pytest.mark.parametrize("option", ["--limit", "--max-price", "--min-accelerators"])
def test_list_refuses_negative_numbers(capsys, cache_dir, option):
    code, out, err = run(capsys, "catalog", "list", option, "-1")
    assert code == 1 and f"Invalid value for '{option}'" in err and not out


def test_list_with_an_unknown_region_suggests_close_ones(capsys, cache_dir):
    code, out, _ = run(capsys, "catalog", "list", "--provider", "aws", "--region", "us-east1")
    assert code == 0 and "No offers match" in out and "No region 'us-east1' in the catalog; did you mean us-east-1" in out
    code, out, _ = run(capsys, "catalog", "list", "--region", "us-east-1", "--accelerator", "TPU-v5e")
    assert code == 0 and "No offers match" in out and "No region" not in out


def test_show(capsys, cache_dir):
    code, out, _ = run(capsys, "catalog", "show", "aws", "p5.48xlarge")
    assert code == 0
    assert "aws p5.48xlarge: 192 vCPUs, 2048 GiB, x86_64, H100:8 (80 GiB each)" in out
    assert "us-east-1a" in out
    code, out, err = run(capsys, "catalog", "show", "aws", "p5.48xlarg")
    assert code == 1 and "did you mean p5.48xlarge" in err


def test_import_then_list(capsys, cache_dir, tmp_path):
    path = tmp_path / "vms.csv"
    path.write_text("InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone,Arch\n"
                    "p9.huge,H200,8,192,2048,,12.5,700.0,us-east-1,us-east-1a,x86_64\n"
                    "p9.small,H200,1,16,256,,0,,us-east-1,us-east-1a,x86_64\n")
    code, out, _ = run(capsys, "catalog", "import", str(path), "--provider", "aws")
    assert code == 0, out
    assert "Imported 1 offer(s) (aws)" in out
    assert "dropped 1: on-demand price missing" in out and "dropped 1: spot price a placeholder" in out
    code, out, _ = run(capsys, "catalog", "list", "--accelerator", "H200", "--json")
    offers = json.loads(out)["offers"]
    assert offers[0]["instance_type"] == "p9.huge" and offers[0]["spot"] is None


def test_import_malformed_writes_nothing(capsys, cache_dir, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone,Cloud\n"
                    "a.large,,,2,8,0.1,,us-east-1,us-east-1a,aws\n"
                    "b.large,Voodoo5,1,2,8,0.1,,us-east-1,us-east-1a,aws\n")
    code, out, err = run(capsys, "catalog", "import", str(path))
    assert code == 1
    assert "row 3, column AcceleratorName: unknown accelerator 'Voodoo5'" in err
    assert not (cache_dir / "offers.csv").exists()


def test_import_skypilot_file_without_provider_is_refused(capsys, cache_dir, tmp_path):
    path = tmp_path / "vms.csv"
    path.write_text("InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone\n"
                    "a.large,,,2,8,0.1,,us-east-1,us-east-1a\n")
    code, _, err = run(capsys, "catalog", "import", str(path))
    assert code == 1 and "--provider" in err


def test_list_local_shows_this_machine(capsys, cache_dir):
    code, out, _ = run(capsys, "catalog", "list", "--provider", "local", "--json")
    assert code == 0
    [offer] = json.loads(out)["offers"]
    assert offer["instance_type"] == "local" and offer["on_demand"] == 0.0 and offer["vcpus"] >= 1


def test_refresh_of_a_live_provider_is_refused(capsys, cache_dir):
    code, _, err = run(capsys, "catalog", "refresh", "--provider", "kubernetes")
    assert code == 1 and "cannot refresh provider 'kubernetes'" in err


def test_show_local_and_kubernetes(capsys, cache_dir):
    code, out, _ = run(capsys, "catalog", "show", "local", "local")
    assert code == 0 and "local local:" in out
    code, _, err = run(capsys, "catalog", "show", "kubernetes", "node-1")
    assert code == 1 and "read live from the cluster" in err

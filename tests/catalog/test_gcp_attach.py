"""SkyPilot-style GCP catalogs: GPUs priced on their own rows are added to their hosts."""

from __future__ import annotations

import pytest

from skyplan.catalog import csvformat
from skyplan.catalog.gcp_attach import fixed_gpus

HEADER = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone"


@pytest.mark.parametrize("itype,gpus", [
    ("a2-highgpu-1g", ("A100", 1)), ("a2-megagpu-16g", ("A100", 16)), ("a2-ultragpu-2g", ("A100-80GB", 2)),
    ("a3-highgpu-8g", ("H100", 8)), ("a3-megagpu-8g", ("H100-MEGA", 8)), ("a3-ultragpu-8g", ("H200", 8)),
    ("a4-highgpu-8g", ("B200", 8)), ("a4x-highgpu-4g", ("GB200", 4)), ("g2-standard-4", ("L4", 1)), ("g2-standard-48", ("L4", 4)), ("n1-standard-8", None), ("g2-standard-x", None),
])
def test_fixed_gpus(itype, gpus):
    assert fixed_gpus(itype) == gpus


def test_hosts_and_gpu_rows_become_whole_nodes():
    text = (HEADER + "\n"
            "a2-highgpu-1g,,,12,85,0.74,0.3,us-central1,us-central1-a\n"
            ",A100,1,,,2.93,1.17,us-central1,us-central1-a\n"
            "n1-standard-8,,,8,30,0.38,0.08,us-central1,us-central1-a\n"
            "n1-standard-16,,,16,60,0.76,0.16,us-central1,us-central1-a\n"
            ",T4,1,,,0.35,0.14,us-central1,us-central1-a\n"
            ",T4,2,,,0.70,0.28,us-central1,us-central1-a\n"
            ",V100,1,,,2.48,0.99,us-central1,us-central1-b\n"      # no host in zone b
            "g2-standard-4,L4,1,4,16,0.7068,0.28,us-central1,us-central1-c\n")  # no GPU row: whole-node price
    result = csvformat.parse(text, provider="gcp")
    by = {(o.instance_type, o.accelerator, o.accelerator_count): o for o in result.offers}
    a2 = by[("a2-highgpu-1g", "A100", 1)]
    assert (a2.on_demand, a2.spot) == (pytest.approx(3.67), pytest.approx(1.47))
    assert by[("n1-standard-8", None, 0)].on_demand == 0.38  # the plain host stays
    t4 = by[("n1-standard-8", "T4", 1)]
    assert (t4.on_demand, t4.spot, t4.vcpus) == (pytest.approx(0.73), pytest.approx(0.22), 8)
    assert by[("n1-standard-16", "T4", 2)].on_demand == pytest.approx(1.46)
    # GCP lets up to 48 vCPUs carry one or two T4s, so both hosts get both counts
    assert by[("n1-standard-8", "T4", 2)].on_demand == pytest.approx(1.08)
    assert by[("n1-standard-16", "T4", 1)].on_demand == pytest.approx(1.11)
    assert by[("g2-standard-4", "L4", 1)].on_demand == 0.7068
    assert len(result.offers) == 8
    assert result.notes["GPU-only rows with no matching host in their zone (not kept)"] == 1
    assert result.notes["N1 host + attachable GPU offers added"] == 4


def test_n1_highmem_and_highcpu_hosts_take_the_gpu_counts_gcp_allows():
    text = (HEADER + "\n"
            "n1-highmem-16,,,16,104,0.95,0.2,us-central1,us-central1-a\n"
            "n1-highmem-64,,,64,416,3.79,0.8,us-central1,us-central1-a\n"
            "n1-highcpu-8,,,8,7.2,0.28,0.06,us-central1,us-central1-a\n"
            ",V100,1,,,2.48,0.99,us-central1,us-central1-a\n"
            ",V100,2,,,4.96,1.98,us-central1,us-central1-a\n"
            ",V100,8,,,19.84,7.92,us-central1,us-central1-a\n")
    result = csvformat.parse(text, provider="gcp")
    got = {(o.instance_type, o.accelerator_count) for o in result.offers if o.accelerator == "V100"}
    # one V100 allows 12 vCPUs / 78 GB; two 24 / 156; eight 96 / 624
    assert got == {("n1-highcpu-8", 1), ("n1-highcpu-8", 2), ("n1-highcpu-8", 8),
                   ("n1-highmem-16", 2), ("n1-highmem-16", 8), ("n1-highmem-64", 8)}
    big = next(o for o in result.offers if o.instance_type == "n1-highmem-64" and o.accelerator)
    assert (big.on_demand, big.memory_gib) == (pytest.approx(23.63), 416)


@pytest.mark.parametrize("accel,vcpus,mem,counts", [
    ("V100", 8, 30, [1, 2, 4, 8]), ("V100", 16, 60, [2, 4, 8]), ("V100", 96, 624, [8]), ("V100", 96, 625, []),
    ("T4", 64, 240, [4]), ("T4", 96, 360, [4]), ("P100", 96, 360, []), ("L4", 8, 30, []),
])
def test_n1_gpu_counts(accel, vcpus, mem, counts):
    from skyplan.catalog.gcp_attach import n1_gpu_counts

    assert n1_gpu_counts(accel, vcpus, mem) == counts


def test_import_reports_the_combination(cache_dir, tmp_path, capsys):
    from skyplan.cli import main

    path = tmp_path / "gcp-vms.csv"
    path.write_text(HEADER + "\n"
                    "a3-highgpu-8g,,,208,1872,14.4,5.0,us-east4,us-east4-a\n"
                    ",H100,8,,,73.9,29.0,us-east4,us-east4-a\n")
    with pytest.raises(SystemExit) as e:
        main(["catalog", "import", str(path), "--provider", "gcp"])
    out = capsys.readouterr().out
    assert e.value.code == 0 and "1: GCP hosts priced with their fixed GPUs" in out
    with pytest.raises(SystemExit):
        main(["catalog", "show", "gcp", "a3-highgpu-8g"])
    assert "88.30" in capsys.readouterr().out


def test_p4_attaches_to_n1_and_tpu_rows_do_not_refuse_the_file():
    text = (HEADER + "\n"
            "n1-standard-8,,,8,30,0.38,0.08,us-central1,us-central1-a\n"
            ",P4,1,,,0.6,0.216,us-central1,us-central1-a\n"
            ",tpu-v2-8,1,,,4.5,1.35,us-central1,us-central1-b\n")
    result = csvformat.parse(text, provider="gcp")
    p4 = [o for o in result.offers if o.accelerator == "P4"]
    assert len(p4) == 1 and p4[0].on_demand == 0.98
    assert result.notes["GPU-only rows with no matching host in their zone (not kept)"] == 1

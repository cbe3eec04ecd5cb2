"""The shipped snapshot is exactly what the facts tables build."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_snapshot_matches_the_facts_tables():
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "catalog" / "build.py"), "--check"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def _snapshot():
    from skyplan.catalog import load_catalog

    return load_catalog(ROOT / "skyplan" / "data" / "catalog.csv")


def _shape(cat, provider, itype):
    offers = cat.get(provider, itype)
    assert offers, f"{provider} {itype} is not in the snapshot"
    shapes = {(o.accelerator, o.accelerator_count, o.vcpus, o.memory_gib) for o in offers}
    assert len(shapes) == 1, shapes
    return shapes.pop(), offers


def test_current_top_gpus_are_in_the_snapshot_with_their_shapes():
    cat = _snapshot()
    expected = {
        ("aws", "p6-b200.48xlarge"): ("B200", 8, 192, 2048),
        ("aws", "p5en.48xlarge"): ("H200", 8, 192, 2048),
        ("gcp", "a4-highgpu-8g"): ("B200", 8, 224, 3968),
        ("gcp", "a3-ultragpu-8g"): ("H200", 8, 224, 2952),
        ("azure", "Standard_ND96isr_H200_v5"): ("H200", 8, 96, 1850),
        ("azure", "Standard_ND128isr_NDR_GB200_v6"): ("GB200", 4, 128, 864),
        ("azure", "Standard_ND96isr_MI300X_v5"): ("MI300X", 8, 96, 1850),
    }
    for (provider, itype), shape in expected.items():
        got, offers = _shape(cat, provider, itype)
        assert got == shape, (itype, got)
        assert all(o.on_demand and o.observed_at for o in offers)
    _, b200 = _shape(cat, "aws", "p6-b200.48xlarge")
    assert {o.on_demand for o in b200 if o.region == "us-east-1"} == {113.9328}
    assert {o.region for o in b200} == {"us-east-1", "us-east-2", "us-west-2"}
    _, gb200 = _shape(cat, "azure", "Standard_ND128isr_NDR_GB200_v6")
    assert all(o.spot is None and o.arch == "arm64" for o in gb200)


def test_gcp_spot_prices_are_per_zone():
    cat = _snapshot()
    by_region: dict[tuple, set] = {}
    for o in cat.offers:
        if o.provider == "gcp":
            assert o.zone and o.zone.startswith(o.region + "-")
            by_region.setdefault((o.instance_type, o.accelerator, o.accelerator_count, o.region), set()).add(
                (o.zone, o.spot))
    several = {k: v for k, v in by_region.items() if len(v) > 1}
    assert several
    differing = [k for k, v in several.items() if len({spot for _, spot in v}) > 1]
    assert len(differing) == len(several), "zones of a region share one spot price"


def test_n1_hosts_carry_only_the_gpu_counts_gcp_allows():
    from skyplan.catalog.gcp_attach import N1_LIMITS

    cat = _snapshot()
    n1 = [o for o in cat.offers if o.provider == "gcp" and o.instance_type.startswith("n1-") and o.accelerator]
    for o in n1:
        max_vcpus, max_mem = N1_LIMITS[o.accelerator][int(o.accelerator_count)]
        assert o.vcpus <= max_vcpus and o.memory_gib <= max_mem, o
    kinds = {o.instance_type.rsplit("-", 1)[0] for o in n1}
    assert kinds == {"n1-standard", "n1-highmem", "n1-highcpu"}
    v100x8 = {o.instance_type for o in n1 if o.accelerator == "V100" and o.accelerator_count == 8}
    assert {"n1-highmem-64", "n1-highmem-96", "n1-standard-96"} <= v100x8
    assert not {o for o in n1 if o.accelerator == "V100" and o.accelerator_count == 1 and o.vcpus > 12}
    # an attached GPU is in the same zones of a region whatever N1 host carries it
    zones = {}
    for o in n1:
        zones.setdefault((o.accelerator, o.region), set()).add((o.instance_type, o.accelerator_count, o.zone))
    for (accel, region), rows in zones.items():
        per_host = {}
        for itype, count, zone in rows:
            per_host.setdefault((itype, count), set()).add(zone)
        assert len({frozenset(z) for z in per_host.values()}) == 1, (accel, region)

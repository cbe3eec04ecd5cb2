from __future__ import annotations

import time

from skyplan.catalog import load_catalog, store
from skyplan.catalog.importer import import_file


def test_builtin_snapshot_covers_the_clouds_and_gpus(cache_dir):
    cat = load_catalog()
    assert cat.source == "built-in snapshot"
    assert cat.observed_at
    assert 3000 <= len(cat) <= 20000
    for cloud in ("aws", "gcp", "azure"):
        regions = cat.regions(cloud)
        assert len(regions) >= 8, cloud
        for area in (("us", "ca", "eastus", "westus", "southcentralus", "canadacentral"),
                     ("eu", "europe", "northeurope", "westeurope", "uksouth", "swedencentral", "germany"),
                     ("ap", "asia", "japaneast", "southeastasia", "centralindia", "australiaeast", "korea")):
            assert any(r.startswith(area) for r in regions), (cloud, area)
    for accel in ("H200", "H100", "A100", "A100-80GB", "L40S", "L4", "A10G", "A10", "T4", "V100"):
        assert cat.query(accelerator=accel), accel
    # AWS and GCP price spot per zone; Azure per region.
    assert all(o.zone for o in cat.for_provider("aws")) and all(o.zone for o in cat.for_provider("gcp"))
    assert all(o.zone is None for o in cat.for_provider("azure"))
    # post-June-2025 P5 price; GCP offers carry GPU + host.
    assert cat.query(provider="aws", instance_type="p5.48xlarge", region="us-east-1")[0].on_demand == 55.04
    a2 = cat.query(provider="gcp", instance_type="a2-highgpu-1g", region="us-central1")[0]
    assert 3.5 < a2.on_demand < 3.8
    for o in cat.offers:
        assert o.on_demand > 0 and (o.spot is None or o.spot < o.on_demand)
        assert o.reserved is None or o.reserved < o.on_demand


def test_builtin_load_is_fast_once_compiled(cache_dir):
    store._MEMO.clear()  # as a new process would start
    load_catalog()
    assert list(cache_dir.glob("compiled-*.marshal"))
    store._MEMO.clear()  # measure the compiled file, not the in-process copy
    start = time.perf_counter()
    cat = load_catalog()
    assert time.perf_counter() - start < 1.0  # generous for a loaded CI machine; the bench measures it
    assert len(cat) > 3000


def test_import_merges_over_builtin_and_replaces_same_key(cache_dir, tmp_path):
    before = load_catalog()
    n_before = len(before)
    path = tmp_path / "mine.csv"
    path.write_text(
        "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone,Cloud,ObservedAt\n"
        "p5.48xlarge,H100,8,192,2048,40.0,20.0,us-east-1,us-east-1a,aws,2026-12-01\n"
        "private.big,H100,8,192,2048,30.0,,on-prem-1,,aws,2026-12-01\n")
    report = import_file(path)
    assert report.imported == 2 and report.providers == ("aws",)
    after = load_catalog()
    assert len(after) == n_before + 1
    assert after.source.startswith("built-in snapshot + user cache (aws import")
    p5 = [o for o in after.get("aws", "p5.48xlarge") if o.zone == "us-east-1a"]
    assert [o.on_demand for o in p5] == [40.0]
    assert after.query(accelerator="H100", min_accelerators=8)[0].instance_type == "private.big"
    assert store.read_sources()[-1]["kind"] == "import"


def test_explicit_path_ignores_the_cache(cache_dir, small_csv, tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone,Cloud\n"
                    "x.large,,,2,8,0.1,,r1,,aws\n")
    import_file(path)
    assert len(load_catalog(small_csv)) == 7


def test_a_stale_compiled_cache_is_rebuilt(cache_dir, tmp_path):
    store._MEMO.clear()
    load_catalog()
    next(cache_dir.glob("compiled-*.marshal")).write_bytes(b"not marshal data")
    store._MEMO.clear()
    assert len(load_catalog()) > 3000


def test_same_inputs_give_the_same_catalog_in_process(cache_dir, tmp_path):
    first = load_catalog()
    assert load_catalog() is first
    path = tmp_path / "one.csv"
    path.write_text("InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone,Cloud\n"
                    "x.large,,,2,8,0.1,,r1,,aws\n")
    import_file(path)
    second = load_catalog()
    assert second is not first and len(second) == len(first) + 1


def test_a_malformed_explicit_catalog_is_refused_not_imported(cache_dir, tmp_path):
    import pytest

    from skyplan.errors import CatalogError

    bad = tmp_path / "prices.csv"
    bad.write_text("Cloud,InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,"
                   "AvailabilityZone\naws,m1,,,two,4,0.1,,us-east-1,us-east-1a\n")
    with pytest.raises(CatalogError) as e:
        load_catalog(bad)
    assert "1 malformed value(s); the catalog cannot be used" in str(e.value)
    assert "row 2, column vCPUs" in str(e.value) and "imported" not in str(e.value)


def test_a_hand_edited_cache_row_is_named_not_an_internal_error(cache_dir, small_csv):
    import pytest

    from skyplan.errors import CatalogError

    import_file(small_csv)
    cache = store.user_offers_path()
    lines = cache.read_text().splitlines()
    row = next(i for i, line in enumerate(lines) if ",192,2048," in line)
    lines[row] = lines[row].replace(",192,", ",lots,", 1)
    cache.write_text("\n".join(lines) + "\n")
    with pytest.raises(CatalogError) as e:
        load_catalog()
    assert f"row {row + 1}, column vCPUs: 'lots' is not a number" in str(e.value)


def test_import_notes_rows_that_repeat_an_offer(cache_dir, tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("Cloud,InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,"
                    "AvailabilityZone\naws,m1.x,,,2,8,0.1,,us-east-1,us-east-1a\naws,m1.x,,,2,8,0.2,,us-east-1,us-east-1a\n")
    report = import_file(path)
    assert any("repeating an earlier row" in what and n == 1 for what, n in report.notes.items())
    assert load_catalog().query(provider="aws", instance_type="m1.x")[0].on_demand == 0.2


def test_imported_rows_without_a_date_carry_the_day_the_file_was_written(cache_dir, tmp_path):
    import os

    path = tmp_path / "undated.csv"
    path.write_text("Cloud,InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,"
                    "AvailabilityZone,ObservedAt\naws,m1.x,,,2,8,0.1,,us-east-1,us-east-1a,\n"
                    "aws,m1.y,,,2,8,0.1,,us-east-1,us-east-1a,2026-01-02\n")
    os.utime(path, (1767268800, 1767268800))  # 2026-01-01 at noon UTC
    import_file(path)
    cat = load_catalog()
    assert cat.query(provider="aws", instance_type="m1.x")[0].observed_at == "2026-01-01"
    assert cat.query(provider="aws", instance_type="m1.y")[0].observed_at == "2026-01-02"

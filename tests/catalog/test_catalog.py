from __future__ import annotations

import pytest

from skyplan.catalog import load_catalog
from skyplan.errors import CatalogError


@pytest.fixture
def cat(small_csv):
    return load_catalog(small_csv)


def test_explicit_file_is_exactly_that_catalog(cat, small_csv):
    assert len(cat) == 7
    assert cat.source == str(small_csv)
    assert cat.observed_at == "2026-11-03"
    assert cat.providers == ["aws", "azure", "gcp"]


def test_query_by_alias_sorts_cheapest_first(cat):
    h100 = cat.query(accelerator="nvidia-h100-80gb")
    assert [o.instance_type for o in h100] == ["Standard_NC40ads_H100_v5", "p5.48xlarge", "p5.48xlarge",
                                               "p5.48xlarge"]
    assert [o.on_demand for o in h100] == sorted(o.on_demand for o in h100)


def test_query_filters(cat):
    assert {o.region for o in cat.query(provider="aws", region="us-*")} == {"us-east-1", "us-west-1"}
    assert [o.zone for o in cat.query(provider="aws", region="us-east-1", zone="*b")] == ["us-east-1b"]
    assert [o.instance_type for o in cat.query(min_accelerators=8)] == ["p5.48xlarge"] * 3
    assert [o.instance_type for o in cat.query(max_price=0.75)] == ["m7i.large", "g2-standard-4"]
    assert cat.query(instance_type="g6.xlarge", provider="aws")[0].accelerator == "L4"


def test_spot_query_uses_spot_price_and_skips_offers_without_one(cat):
    spot = cat.query(accelerator="H100", spot=True)
    assert [o.spot for o in spot] == [3.1, 31.9, 33.1]  # us-west-1 has no spot price
    assert [o.spot for o in cat.query(accelerator="H100", spot=True, max_price=32)] == [3.1, 31.9]
    assert cat.query(pricing="reserved", provider="gcp")[0].reserved == 0.445


def test_unknown_accelerator_and_pricing_are_errors(cat):
    with pytest.raises(CatalogError, match="unknown accelerator 'H1OO'") as e:
        cat.query(accelerator="H1OO")
    assert "H100" in e.value.hint
    with pytest.raises(CatalogError, match="unknown pricing"):
        cat.query(pricing="cheap")


def test_for_provider_and_get(cat):
    assert len(cat.for_provider("aws")) == 5
    assert {o.region for o in cat.for_provider("aws", ["us-west-1", "eu-*"])} == {"us-west-1", "eu-west-1"}
    assert cat.for_provider("aws", ["ap-*"]) == []
    assert len(cat.get("aws", "p5.48xlarge")) == 3
    assert cat.get("aws", "nope") == []


def test_missing_catalog_file_is_a_clear_error(tmp_path):
    with pytest.raises(CatalogError, match="not found"):
        load_catalog(tmp_path / "nope.csv")


def test_a_file_without_observed_dates_is_dated_by_its_mtime(tmp_path):
    import os
    from datetime import datetime

    path = tmp_path / "undated.csv"
    path.write_text("InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone,Cloud\n"
                    "x.large,,,2,8,0.1,,r1,,aws\n")
    stamp = datetime(2026, 3, 4, 12, 0).timestamp()
    os.utime(path, (stamp, stamp))
    assert load_catalog(path).observed_at == "2026-03-04"


def test_binary_or_non_utf8_files_are_clear_errors(tmp_path):
    path = tmp_path / "bin.csv"
    path.write_bytes(b"InstanceType,Price\n\xff\xfe\x00\x00junk\n")
    with pytest.raises(CatalogError, match="cannot read catalog file"):
        load_catalog(path)
    with pytest.raises(CatalogError, match="cannot read catalog file"):
        load_catalog(tmp_path)

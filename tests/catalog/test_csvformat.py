from __future__ import annotations

import pytest

from skyplan.catalog import csvformat
from skyplan.errors import CatalogError

HEADER = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone"


def test_reads_our_format(small_csv):
    result = csvformat.parse(small_csv.read_text(), name="small.csv")
    assert result.rows == 7 and len(result.offers) == 7 and not result.dropped
    p5 = result.offers[0]
    assert (p5.provider, p5.region, p5.zone, p5.instance_type) == ("aws", "us-east-1", "us-east-1a", "p5.48xlarge")
    assert (p5.accelerator, p5.accelerator_count, p5.accelerator_memory_gib) == ("H100", 8, 80)
    assert (p5.on_demand, p5.spot, p5.reserved, p5.interruption_band) == (55.04, 33.1, 35.2, ">20%")
    assert result.offers[2].spot is None
    azure = result.offers[-1]
    assert azure.zone is None and azure.observed_at == "2026-11-03"


def test_round_trip_is_lossless(small_csv):
    offers = csvformat.parse(small_csv.read_text()).offers
    again = csvformat.parse(csvformat.dumps(offers)).offers
    assert again == offers


def test_skypilot_file_needs_provider_and_gets_it():
    text = HEADER + ",GpuInfo\np3.2xlarge,V100,1,8,61,3.06,0.9,us-east-1,us-east-1a,\"{'Gpus': []}\"\n"
    with pytest.raises(CatalogError, match="no Cloud column"):
        csvformat.parse(text)
    offers = csvformat.parse(text, provider="aws").offers
    assert offers[0].provider == "aws" and offers[0].accelerator == "V100"


def test_aliases_become_canonical():
    text = HEADER + "\na2-ultragpu-1g,nvidia-a100-80gb,1,12,170,5.07,2,us-central1,us-central1-a\n"
    assert csvformat.parse(text, provider="gcp").offers[0].accelerator == "A100-80GB"


def test_malformed_rows_name_row_and_column_and_return_nothing():
    text = (HEADER + "\n"
            "m7i.large,,,2,8,0.1008,0.04,us-east-1,us-east-1a\n"
            "m7i.xlarge,,,four,16,0.2016,,us-east-1,us-east-1a\n"
            "m7i.2xlarge,,,8,32,-1,,us-east-1,us-east-1a\n")
    with pytest.raises(CatalogError) as e:
        csvformat.parse(text, name="x.csv", provider="aws")
    msg = str(e.value)
    assert "x.csv: 2 malformed value(s); nothing was imported" in msg
    assert "row 3, column vCPUs: 'four' is not a number" in msg
    assert "row 4, column Price: '-1' must be a finite number >= 0" in msg


def test_unknown_accelerator_lists_close_matches():
    text = HEADER + "\nx.large,H10O,1,4,16,1.0,,us-east-1,us-east-1a\n"
    with pytest.raises(CatalogError, match=r"row 2, column AcceleratorName: unknown accelerator 'H10O' \(did you mean H100"):
        csvformat.parse(text, provider="aws")


def test_missing_columns_and_empty_file():
    with pytest.raises(CatalogError, match="row 1: missing column"):
        csvformat.parse("InstanceType,Price\nx,1\n", provider="aws")
    with pytest.raises(CatalogError, match="empty"):
        csvformat.parse("")


def test_bad_band_arch_and_cloud():
    text = HEADER + ",Cloud,InterruptionBand,Arch\nx.large,,,2,8,1.0,,r,,mars,30%,sparc\n"
    with pytest.raises(CatalogError) as e:
        csvformat.parse(text)
    msg = str(e.value)
    assert "column Cloud: 'mars'" in msg and "column InterruptionBand: '30%'" in msg and "column Arch: 'sparc'" in msg


def test_placeholder_prices_are_dropped_and_counted():
    text = (HEADER + "\n"
            "a.large,,,2,8,0,,us-east-1,us-east-1a\n"          # on-demand 0: row dropped
            "b.large,,,2,8,700.0,,us-east-1,us-east-1a\n"      # 700 sentinel: row dropped
            "c.large,,,2,8,0.1,0.5,us-east-1,us-east-1a\n"     # spot above on-demand: spot dropped
            "d.large,,,2,8,0.1,0.00001,us-east-1,us-east-1a\n"  # placeholder spot: spot dropped
            "e.large,,,2,8,0.1,0.03,us-east-1,us-east-1a\n"
            ",T4,1,,,0.35,0.1,us-east-1,us-east-1a\n")          # accelerator-only price
    result = csvformat.parse(text, provider="aws")
    assert [o.instance_type for o in result.offers] == ["c.large", "d.large", "e.large"]
    assert [o.spot for o in result.offers] == [None, None, 0.03]
    assert sum(result.dropped.values()) == 5
    assert result.dropped["on-demand price missing or a placeholder (0 or 700.0)"] == 2


def test_free_clouds_keep_price_zero():
    text = HEADER + ",Cloud\nnode-1,L4,1,8,32,0,,cluster,,kubernetes\n"
    offer = csvformat.parse(text).offers[0]
    assert offer.on_demand == 0.0 and offer.provider == "kubernetes"


def test_schema_documents_the_columns_and_the_snapshot_satisfies_it():
    import csv
    import json
    from pathlib import Path

    import jsonschema

    from skyplan.catalog.store import builtin_path

    schema = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "catalog.schema.json").read_text())
    assert tuple(schema["required"]) == csvformat.REQUIRED
    assert set(schema["properties"]) == set(csvformat.COLUMNS)
    validator = jsonschema.Draft202012Validator(schema)
    with open(builtin_path(), newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows[::97]:
        validator.validate(row)
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**rows[0], "Price": "-1"})


def test_fast_path_for_own_files_reads_the_same_offers(small_csv):
    text = small_csv.read_text()
    assert csvformat.parse(text, trusted=True).offers == csvformat.parse(text).offers


def test_a_row_with_too_few_or_too_many_values_is_malformed():
    text = (HEADER + "\n"
            "m7i.large,,,2,8,0.1008,0.04,us-east-1\n"
            "m7i.xlarge,,,4,16,0.2016,,us-east-1,us-east-1a,extra\n"
            "m7i.2xlarge,,,8,32,0.4032,,us-east-1,us-east-1a,\n")
    with pytest.raises(CatalogError) as e:
        csvformat.parse(text, name="x.csv", provider="aws")
    msg = str(e.value)
    assert "x.csv: 2 malformed value(s)" in msg
    assert "row 2, column AvailabilityZone: missing; the row has 8 value(s), the header 9" in msg
    assert "row 3: 10 values, more than the header's 9 columns" in msg


def test_observed_at_must_be_a_date():
    text = HEADER + ",ObservedAt\nm7i.large,,,2,8,0.1,,us-east-1,us-east-1a,last week\n"
    with pytest.raises(CatalogError, match=r"row 2, column ObservedAt: 'last week' is not a date like 2026-11-28"):
        csvformat.parse(text, provider="aws")
    with pytest.raises(CatalogError, match=r"column ObservedAt: '2026-11-01T10:00' is not a date"):
        csvformat.parse(text.replace("last week", "2026-11-01T10:00"), provider="aws")
    ok = HEADER + ",ObservedAt\nm7i.large,,,2,8,0.1,,us-east-1,us-east-1a,2026-11-01\n"
    assert csvformat.parse(ok, provider="aws").offers[0].observed_at == "2026-11-01"

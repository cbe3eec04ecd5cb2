"""Azure and GCP refresh against local servers speaking the real JSON formats."""

from __future__ import annotations

import json

import pytest

from skyplan.catalog import load_catalog, store
from skyplan.catalog.refresh import refresh
from skyplan.catalog.refresh.gcp import component
from skyplan.cli import main
from tests.catalog.emulators import AzureRetailPrices, GcpBillingCatalog, azure_item, gcp_sku


@pytest.fixture
def azure():
    items = [
        azure_item("Standard_D2s_v5", "eastus", 0.1),
        azure_item("Standard_D2s_v5", "eastus", 0.02, spot=True),
        azure_item("Standard_D2s_v5", "eastus", 0.01, low_priority=True),
        azure_item("Standard_D2s_v5", "eastus", 0.2, windows=True),
        azure_item("Standard_D2s_v5", "eastus", 525.6, kind="Reservation", term="1 Year"),
        azure_item("Standard_NC40ads_H100_v5", "eastus", 7.0),
        azure_item("Standard_NC40ads_H100_v5", "eastus", 9.0, spot=True),  # above on-demand: dropped
        azure_item("Standard_D2s_v5", "westeurope", 0.11),
        azure_item("Standard_Unknown_v9", "westeurope", 1.0),
    ]
    server = AzureRetailPrices(items)
    yield server
    server.stop()


def test_azure_refresh_reads_pages_and_prices(azure, cache_dir):
    report = refresh("azure", regions=["eastus", "westeurope"], endpoint_url=azure.url + "/api/retail/prices")
    assert report.ok, report.error
    assert report.regions == ("eastus", "westeurope") and report.offers == 3
    assert any("skip=3" in r for r in azure.requests)  # followed NextPageLink
    cat = load_catalog()
    d2 = cat.query(provider="azure", instance_type="Standard_D2s_v5", region="eastus")[0]
    assert (d2.on_demand, d2.spot, d2.reserved, d2.vcpus, d2.memory_gib) == (0.1, 0.02, 0.06, 2, 8)
    assert d2.zone is None
    h100 = cat.query(provider="azure", instance_type="Standard_NC40ads_H100_v5", region="eastus")[0]
    assert (h100.on_demand, h100.spot, h100.accelerator) == (7.0, None, "H100")
    assert cat.query(provider="azure", instance_type="Standard_D2s_v5", region="westeurope")[0].on_demand == 0.11
    assert "azure refresh" in cat.source


def test_refresh_regions_accept_globs(azure, cache_dir):
    report = refresh("azure", regions=["westeu*"], endpoint_url=azure.url + "/api/retail/prices")
    assert report.ok, report.error
    assert report.regions == ("westeurope",)
    assert azure.requests and all("westeurope" in r for r in azure.requests)
    report = refresh("azure", regions=["moon-*"], endpoint_url=azure.url + "/api/retail/prices")
    assert not report.ok and "no region of the built-in catalog matches" in report.error


def test_unreachable_api_falls_back_and_says_so(cache_dir, capsys):
    with pytest.raises(SystemExit) as e:
        main(["catalog", "refresh", "--provider", "azure", "--region", "eastus",
              "--endpoint-url", "http://127.0.0.1:9/api/retail/prices"])
    _, err = capsys.readouterr()
    assert e.value.code == 1
    assert "azure: the Azure Retail Prices API (eastus) is unreachable" in err
    assert "keeping the built-in snapshot (observed 2026-" in err
    assert not (cache_dir / "offers.csv").exists()
    assert load_catalog().source == "built-in snapshot"


def test_unreachable_api_keeps_and_names_the_cached_prices(cache_dir, capsys, small_csv):
    from skyplan.catalog.importer import import_file

    import_file(small_csv)
    with pytest.raises(SystemExit) as e:
        main(["catalog", "refresh", "--provider", "azure", "--region", "eastus",
              "--endpoint-url", "http://127.0.0.1:9/api/retail/prices"])
    _, err = capsys.readouterr()
    assert e.value.code == 1
    assert "keeping the cached prices (azure import 20" in err and "over the built-in snapshot (observed 2026-" in err
    assert load_catalog().query(provider="azure", instance_type="Standard_NC40ads_H100_v5")[0].on_demand == 6.98


def test_refresh_cli_json(azure, cache_dir, capsys):
    with pytest.raises(SystemExit) as e:
        main(["catalog", "refresh", "--provider", "azure", "--region", "eastus", "--json",
              "--endpoint-url", azure.url + "/api/retail/prices"])
    out, _ = capsys.readouterr()
    assert e.value.code == 0
    [report] = json.loads(out)["providers"]
    assert report["ok"] and report["offers"] == 2 and report["fallback"] is None


def test_endpoint_url_needs_one_provider(cache_dir, capsys):
    with pytest.raises(SystemExit) as e:
        main(["catalog", "refresh", "--endpoint-url", "http://127.0.0.1:9"])
    assert e.value.code == 1 and "exactly one --provider" in capsys.readouterr().err


@pytest.mark.parametrize("description,expected", [
    ("N2 Instance Core running in Americas", ("core", "n2")),
    ("Spot Preemptible N2D AMD Instance Ram running in Americas", ("ram", "n2d")),
    ("N1 Predefined Instance Core running in Americas", ("core", "n1")),
    ("Compute optimized Ram running in Americas", ("ram", "c2")),
    ("Commitment v1: E2 Cpu in Americas for 1 Year", ("core", "e2")),
    ("Nvidia Tesla A100 80GB GPU running in Americas", ("gpu", "A100-80GB")),
    ("Nvidia H100 80GB Mega GPU running in Americas", ("gpu", "H100-MEGA")),
    ("Nvidia B200 GPU running in Americas", ("gpu", "B200")),
    ("Spot Preemptible Nvidia GB200 GPU running in Americas", ("gpu", "GB200")),
    ("A4 Instance Core running in Americas", ("core", "a4")),
    ("Nvidia Tesla T4 GPU attached to Spot Preemptible VMs running in Americas", ("gpu", "T4")),
    ("N2 Custom Instance Core running in Americas", None),
    ("N2 Sole Tenancy Instance Core running in Americas", None),
])
def test_gcp_sku_descriptions(description, expected):
    assert component(description) == expected


@pytest.fixture
def gcp():
    regions = ["us-central1"]
    skus = [
        gcp_sku("G2 Instance Core running in Americas", "OnDemand", regions, 0.025),
        gcp_sku("G2 Instance Ram running in Americas", "OnDemand", regions, 0.003, group="RAM"),
        gcp_sku("Nvidia L4 GPU running in Americas", "OnDemand", regions, 0.56, group="GPU"),
        gcp_sku("Spot Preemptible G2 Instance Core running in Americas", "Preemptible", regions, 0.01),
        gcp_sku("Spot Preemptible G2 Instance Ram running in Americas", "Preemptible", regions, 0.001, group="RAM"),
        gcp_sku("Nvidia L4 GPU attached to Spot Preemptible VMs running in Americas", "Preemptible", regions,
                0.2, group="GPU"),
        gcp_sku("Commitment v1: G2 Cpu in Americas for 1 Year", "Commit1Yr", regions, 0.016),
        gcp_sku("Commitment v1: G2 Ram in Americas for 1 Year", "Commit1Yr", regions, 0.002, group="RAM"),
        gcp_sku("Commitment v1: Nvidia L4 GPU in Americas for 1 Year", "Commit1Yr", regions, 0.35, group="GPU"),
        gcp_sku("N2 Instance Core running in Americas", "OnDemand", regions, 0.03),
        gcp_sku("N2 Instance Ram running in Americas", "OnDemand", regions, 0.004, group="RAM"),
        gcp_sku("Network Internet Egress", "OnDemand", regions, 0.12, group="Network"),
    ]
    server = GcpBillingCatalog(skus)
    yield server
    server.stop()


def test_gcp_refresh_sums_host_and_gpus(gcp, cache_dir, monkeypatch):
    monkeypatch.setenv("SKYPLAN_GCP_API_KEY", GcpBillingCatalog.KEY)
    report = refresh("gcp", regions=["us-central1"], endpoint_url=gcp.url + "/v1/services/6F81-5844-456A/skus")
    assert report.ok, report.error
    assert sum("pageToken=" in r for r in gcp.requests) == 2  # 12 SKUs in pages of 4
    cat = load_catalog()
    g2 = cat.query(provider="gcp", instance_type="g2-standard-4", region="us-central1")
    builtin = load_catalog(store.builtin_path())
    assert {o.zone for o in g2} == {o.zone for o in builtin.get("gcp", "g2-standard-4") if o.region == "us-central1"}
    o = g2[0]
    assert o.on_demand == pytest.approx(4 * 0.025 + 16 * 0.003 + 0.56)
    assert o.spot == pytest.approx(4 * 0.01 + 16 * 0.001 + 0.2)
    assert o.reserved == pytest.approx(4 * 0.016 + 16 * 0.002 + 0.35)
    n2 = cat.query(provider="gcp", instance_type="n2-standard-8", region="us-central1")[0]
    assert n2.on_demand == pytest.approx(8 * 0.03 + 32 * 0.004) and n2.spot is None
    # series the emulator did not price keep their built-in prices
    e2 = cat.query(provider="gcp", instance_type="e2-standard-2", region="us-central1")[0]
    assert e2.observed_at == "2026-11-28" and e2.on_demand == pytest.approx(0.067, abs=0.001)


def test_gcp_refresh_without_or_with_bad_key(gcp, cache_dir, monkeypatch):
    monkeypatch.delenv("SKYPLAN_GCP_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    report = refresh("gcp", endpoint_url=gcp.url + "/v1/services/6F81-5844-456A/skus")
    assert not report.ok and "needs an API key" in report.error
    monkeypatch.setenv("GOOGLE_API_KEY", "wrong")
    report = refresh("gcp", endpoint_url=gcp.url + "/v1/services/6F81-5844-456A/skus")
    assert not report.ok and "HTTP 400" in report.error and "API key not valid" in report.error


def test_refresh_cli_text(azure, cache_dir, capsys):
    with pytest.raises(SystemExit) as e:
        main(["catalog", "refresh", "--provider", "azure", "--region", "eastus", "--region", "westeurope",
              "--endpoint-url", azure.url + "/api/retail/prices"])
    out, _ = capsys.readouterr()
    assert e.value.code == 0
    assert "azure: refreshed 3 offer(s) in 2 region(s), observed 20" in out
    assert "had no Linux pay-as-you-go price" in out

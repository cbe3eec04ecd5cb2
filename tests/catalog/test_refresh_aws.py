"""AWS refresh against moto's EC2 server and a local Price List API server.

moto serves describe_instance_types, per-zone offerings and spot price history
(its spot prices are a fixed 0.00001 placeholder, which the refresh must drop);
moto has no Price List API, so that runs against tests/catalog/emulators.py.
"""

from __future__ import annotations

import pytest

from skyplan.catalog import load_catalog
from skyplan.catalog.refresh import refresh
from tests.catalog.emulators import AwsPriceList, aws_price_document


@pytest.fixture(scope="module")
def moto_url():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


@pytest.fixture
def price_list():
    server = AwsPriceList([
        ("us-east-1", aws_price_document("p5.48xlarge", "us-east-1", 50.0, 32.0)),
        ("us-east-1", aws_price_document("m7i.large", "us-east-1", 0.1, 0.063)),
        ("us-east-1", aws_price_document("g5.xlarge", "us-east-1", 1.0, None)),
        ("eu-west-1", aws_price_document("m7i.large", "eu-west-1", 0.2, 0.12)),
    ])
    yield server
    server.stop()


@pytest.mark.slow
def test_refresh_with_price_list(moto_url, price_list, aws_env, cache_dir):
    report = refresh("aws", regions=["us-east-1"], endpoint_url=moto_url,
                     pricing_endpoint_url=price_list.url)
    assert report.ok, report.error
    assert report.regions == ("us-east-1",)
    assert any("spot quote(s) dropped as placeholders" in n for n in report.notes)  # moto's 0.00001
    assert not any("Price List API was unreachable" in n for n in report.notes)
    cat = load_catalog()
    p5 = cat.query(provider="aws", instance_type="p5.48xlarge", region="us-east-1")
    assert p5 and {o.on_demand for o in p5} == {50.0} and {o.reserved for o in p5} == {32.0}
    assert all(o.zone and o.zone.startswith("us-east-1") for o in p5)
    assert all(o.spot is None for o in p5)
    assert p5[0].accelerator == "H100" and p5[0].accelerator_count == 8 and p5[0].vcpus == 192
    m7i = cat.query(provider="aws", instance_type="m7i.large", region="us-east-1")
    assert {(o.on_demand, o.reserved, o.vcpus, o.memory_gib) for o in m7i} == {(0.1, 0.063, 2, 8)}
    g5 = cat.query(provider="aws", instance_type="g5.xlarge", region="us-east-1")[0]
    assert (g5.on_demand, g5.reserved, g5.accelerator) == (1.0, None, "A10G")
    # a type the Price List did not answer for keeps the snapshot's price
    g6 = cat.query(provider="aws", instance_type="g6.xlarge", region="us-east-1")[0]
    assert g6.on_demand == 0.8048
    assert any('"regionCode"' in r or r == "/" for r in price_list.requests)


@pytest.mark.slow
def test_refresh_when_price_list_is_down_uses_snapshot_prices(moto_url, aws_env, cache_dir):
    report = refresh("aws", regions=["eu-west-1"], endpoint_url=moto_url)  # moto has no Price List API
    assert report.ok, report.error
    assert any("Price List API was unreachable" in n and "built-in snapshot" in n for n in report.notes)
    p4d = load_catalog().query(provider="aws", instance_type="p4d.24xlarge", region="eu-west-1")
    assert p4d and p4d[0].on_demand == pytest.approx(21.957642 * 1.08, abs=0.01)


def test_refresh_when_ec2_is_unreachable(aws_env, cache_dir):
    report = refresh("aws", regions=["us-east-1"], endpoint_url="http://127.0.0.1:9")
    assert not report.ok and "EC2 in us-east-1 failed" in report.error
    assert report.fallback_observed_at == "2026-11-28"


@pytest.mark.slow
def test_a_region_that_refuses_is_skipped_and_the_others_refreshed(aws_env, cache_dir):
    from tests.providers.moto_server import MotoEC2Server

    server = MotoEC2Server()
    try:
        server.inject("OptInRequired", action="DescribeInstanceTypes")
        report = refresh("aws", regions=["ap-south-1", "eu-west-1"], endpoint_url=server.url)
        assert report.ok, report.error
        assert report.regions == ("eu-west-1",)
        assert any("1 region(s) skipped" in n and "EC2 in ap-south-1: OptInRequired" in n for n in report.notes)
        server.inject("OptInRequired", action="DescribeInstanceTypes")
        report = refresh("aws", regions=["ap-south-1"], endpoint_url=server.url)
        assert not report.ok and "EC2 in ap-south-1 failed" in report.error
    finally:
        server.stop()

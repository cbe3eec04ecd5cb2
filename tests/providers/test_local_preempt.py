"""The local provider takes a spot node away on request, as a cloud's interruption does:
``preempt(node_id)`` or a line in ``.skyplan/local/preempt``; the node reads ``preempted``."""

from __future__ import annotations

import pytest

from skyplan.config.model import ProviderConfig
from skyplan.errors import ProviderError
from skyplan.providers.base import LaunchRequest
from skyplan.providers.local import LocalProvider
from skyplan.solver.model import Placement


def _req(pricing: str, address="workload.j") -> LaunchRequest:
    p = Placement(provider="local", region="local", zone=None, instance_type="local", pricing=pricing,
                  hourly_price=1.0)
    return LaunchRequest(address=address, lineage="L", group=0, placement=p, kind="job", run="sleep 60")


@pytest.fixture()
def prov(tmp_path):
    p = LocalProvider(ProviderConfig(kind="local", settings={"root": str(tmp_path), "price": {"on_demand": 3, "spot": 1}}))
    yield p
    p.delete(p.list_managed("L"))


def test_a_spot_node_is_preempted_and_stays_so(prov):
    [node] = prov.create(_req("spot"))
    gone = prov.preempt(node.id)
    assert gone.state == "preempted" and gone.attributes["ended_at"]
    [listed] = prov.list_managed("L")
    assert listed.id == node.id and listed.state == "preempted"
    with pytest.raises(ProviderError, match="not a running spot node"):
        prov.preempt(node.id)


def test_an_on_demand_node_is_not_preempted(prov):
    [node] = prov.create(_req("on_demand"))
    with pytest.raises(ProviderError, match="not a running spot node"):
        prov.preempt(node.id)
    assert prov.read(node.id).state == "running"


def test_the_preempt_file_names_addresses_and_is_consumed(prov, tmp_path):
    [a] = prov.create(_req("spot", "workload.a"))
    [b] = prov.create(_req("spot", "workload.b"))
    (tmp_path / ".skyplan" / "local" / "preempt").write_text("workload.a\n")
    states = {i.id: i.state for i in prov.list_managed("L")}
    assert states == {a.id: "preempted", b.id: "running"}
    assert not (tmp_path / ".skyplan" / "local" / "preempt").exists()


def test_a_priced_local_machine_offers_spot(prov):
    [offer] = prov.offers()
    assert offer.on_demand == 3.0 and offer.spot == 1.0

"""``ResourceRecord.endpoints``: host:port of each ready replica of a service."""

from __future__ import annotations

from skyplan.providers.base import Instance
from skyplan.solver.model import Placement
from skyplan.state.model import GroupRecord, ResourceRecord

P = Placement(provider="aws", region="us-east-1", zone="us-east-1a", instance_type="m5.large", pricing="on_demand",
              hourly_price=0.1)


def _rec(attrs: dict, *insts: Instance) -> ResourceRecord:
    return ResourceRecord("workload.api", "workload", groups=tuple(GroupRecord(P, (i,)) for i in insts),
                          attributes={"kind": "service", "ports": [8000], **attrs})


def _node(n: int, **attrs) -> Instance:
    return Instance("aws", f"i-{n}", "workload.api", "L", group=n, attributes=attrs)


def test_cloud_replicas_answer_at_their_address_and_first_port():
    rec = _rec({}, _node(0, private_ip="10.0.0.5"), _node(1, public_ip="3.3.3.3"), _node(2))
    assert rec.endpoints == ["10.0.0.5:8000", "3.3.3.3:8000"]  # a node without an address has none yet
    assert rec.known_attributes()["endpoints"] == rec.endpoints


def test_with_a_readiness_block_only_ready_replicas_count():
    rec = _rec({"readiness": {"path": "/health"}},
               _node(0, private_ip="10.0.0.5", readiness={"status": "ready"}),
               _node(1, private_ip="10.0.0.6", readiness={"status": "not ready"}), _node(2, private_ip="10.0.0.7"))
    assert rec.endpoints == ["10.0.0.5:8000"]


def test_a_job_has_no_endpoints():
    rec = ResourceRecord("workload.j", "workload", groups=(GroupRecord(P, (_node(0, private_ip="10.0.0.5"),)),),
                         attributes={"kind": "job", "ports": [8000]})
    assert rec.endpoints == []

"""Network pieces in plans (pure) and their order in the apply graph."""

from __future__ import annotations

from skyplan.apply.graph import build_graph
from skyplan.config.model import DesiredGraph, ProviderConfig
from skyplan.planner.model import Action, Change, Plan
from skyplan.planner.networks import network_changes
from skyplan.planner.options import PlanOptions
from skyplan.solver.model import GroupPlacement, Placement, WorkloadPlacement
from skyplan.state.model import GroupRecord, ResourceRecord, Snapshot

AZURE = ProviderConfig(kind="azure", regions=("eastus", "westus2"))
DESIRED = DesiredGraph(root=".", providers={"azure": AZURE, "aws": ProviderConfig(kind="aws")})
SUBNET = 'network.azure_subnet["skyplan-eastus/skyplan-vnet-eastus/skyplan"]'


def _placement(provider="azure", region="eastus") -> Placement:
    return Placement(provider=provider, region=region, zone=None, instance_type="Standard_D2s_v5",
                     pricing="on_demand", hourly_price=0.1)


def _create(address="workload.a", **kw) -> Change:
    p = _placement(**kw)
    return Change(address=address, action=Action.CREATE, placement=WorkloadPlacement(address, (GroupPlacement(p),), 1.0))


def _record(address="workload.a", **kw) -> ResourceRecord:
    return ResourceRecord(address=address, kind="workload", groups=(GroupRecord(_placement(**kw)),))


def _net_records(region="eastus", created=True) -> dict:
    from skyplan.providers.azure.network import pieces

    return {p.address: ResourceRecord(address=p.address, kind="network", depends_on=p.depends_on,
                                      attributes={**p.attributes(), "created": created})
            for p in pieces(AZURE, region)}


def test_a_create_in_a_region_plans_its_four_pieces_in_order():
    out = network_changes(DESIRED, [_create()], Snapshot.empty("l"), PlanOptions())
    assert [c.action for c in out] == [Action.CREATE] * 4
    assert out[-1].address == SUBNET and out[-1].reason == "create_network_for_placement"
    assert out[-1].depends_on == (out[2].address, out[1].address)


def test_other_providers_need_none():
    assert network_changes(DESIRED, [_create(provider="aws", region="us-east-1")], Snapshot.empty("l"),
                           PlanOptions()) == []


def test_pieces_in_state_are_kept_while_used_and_deleted_when_not():
    base = Snapshot("l", 3, {**_net_records(), "workload.a": _record()})
    kept = network_changes(DESIRED, [Change(address="workload.a", action=Action.NOOP, prior=_record())], base,
                           PlanOptions())
    assert {c.action for c in kept} == {Action.NOOP}
    moved = network_changes(DESIRED, [_create(region="westus2")], Snapshot("l", 3, _net_records()), PlanOptions())
    assert sorted((c.action.value, c.after["region"] if c.after else c.before["region"]) for c in moved) == \
        [("create", "westus2")] * 4 + [("delete", "eastus")] * 4


def test_destroy_deletes_every_piece_and_forgets_those_skyplan_did_not_create():
    recs = _net_records()
    rg = next(a for a in recs if "resource_group" in a)
    recs[rg] = ResourceRecord(address=rg, kind="network", attributes={**recs[rg].attributes, "created": False})
    base = Snapshot("l", 3, {**recs, "workload.a": _record()})
    out = network_changes(DESIRED, [Change(address="workload.a", action=Action.DELETE, prior=_record())], base,
                          PlanOptions(destroy=True))
    assert {c.action for c in out} == {Action.DELETE}
    assert {c.address: c.reason for c in out}[rg] == "forget_because_not_created"


def test_a_targeted_destroy_keeps_pieces_other_resources_use():
    base = Snapshot("l", 3, {**_net_records(), "workload.a": _record(), "workload.b": _record("workload.b")})
    out = network_changes(DESIRED, [Change(address="workload.a", action=Action.DELETE, prior=_record())], base,
                          PlanOptions(destroy=True, targets=("workload.a",)), wanted={"workload.a"})
    assert {c.action for c in out} == {Action.NOOP}


def test_graph_creates_pieces_before_nodes_and_deletes_them_after():
    create = [_create(), *network_changes(DESIRED, [_create()], Snapshot.empty("l"), PlanOptions())]
    g = build_graph(Plan(changes=tuple(create), lineage="l", serial=0))
    assert f"{SUBNET} (create)" in g.deps["workload.a (create)"]
    base = Snapshot("l", 3, {**_net_records(), "workload.a": _record()})
    gone = [Change(address="workload.a", action=Action.DELETE, prior=_record())]
    gone += network_changes(DESIRED, gone, base, PlanOptions(destroy=True))
    g = build_graph(Plan(changes=tuple(gone), lineage="l", serial=3))
    assert "workload.a (delete)" in g.deps[f"{SUBNET} (delete)"]
    rg = 'network.azure_resource_group["skyplan-eastus"] (delete)'
    assert f"{SUBNET} (delete)" not in g.deps[rg]  # through the network and security group, below
    vnet = 'network.azure_virtual_network["skyplan-eastus/skyplan-vnet-eastus"] (delete)'
    assert vnet in g.deps[rg] and f"{SUBNET} (delete)" in g.deps[vnet]

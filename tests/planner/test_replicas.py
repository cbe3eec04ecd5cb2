"""Replacing some replicas of a service: the planned groups put in the recorded
order, and which groups are launched afresh (planner/replicas.py)."""

from __future__ import annotations

from skyplan.planner.planfile import change_from_json, change_to_json
from skyplan.planner.model import Action, Change
from skyplan.planner.replicas import align, describe, relaunched
from skyplan.providers.base import Instance
from skyplan.solver.model import GroupPlacement, Placement, WorkloadPlacement
from skyplan.state.model import GroupRecord, ResourceRecord


def _p(zone: str, pricing: str = "spot") -> Placement:
    return Placement("aws", "us-east-1", zone, "m5.large", pricing, 0.03 if pricing == "spot" else 0.096)


def _planned(*ps: Placement) -> WorkloadPlacement:
    return WorkloadPlacement("workload.api", tuple(GroupPlacement(p) for p in ps), 1.0)


def _recorded(*ps: Placement, states: dict[int, str] | None = None) -> ResourceRecord:
    groups = tuple(GroupRecord(p, (Instance("aws", f"i-{n}", "workload.api", "l", n, 0, p.region, p.zone,
                                            p.instance_type, p.pricing, (states or {}).get(n, "running")),))
                   for n, p in enumerate(ps))
    return ResourceRecord("workload.api", "workload", "running", groups, {"kind": "service"}, "h")


def test_groups_the_solver_lists_in_another_order_keep_their_numbers():
    rec = _recorded(_p("us-east-1a", "on_demand"), _p("us-east-1b"), _p("us-east-1c"))
    wp = align(_planned(_p("us-east-1c"), _p("us-east-1a", "on_demand"), _p("us-east-1b")), rec)
    assert [g.chosen.zone for g in wp.groups] == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert relaunched(wp, rec) == ()


def test_only_the_moved_replica_is_launched_again():
    rec = _recorded(_p("us-east-1a", "on_demand"), _p("us-east-1b"), _p("us-east-1c"))
    wp = align(_planned(_p("us-east-1b"), _p("us-east-1c", "on_demand"), _p("us-east-1a", "on_demand")), rec)
    assert [(g.chosen.zone, g.chosen.pricing) for g in wp.groups] == [
        ("us-east-1a", "on_demand"), ("us-east-1b", "spot"), ("us-east-1c", "on_demand")]
    assert relaunched(wp, rec) == (2,)
    assert relaunched(wp, rec, placement_ignored=True) == ()


def test_a_preempted_or_requested_replica_is_launched_again_where_it_was():
    rec = _recorded(_p("us-east-1a"), _p("us-east-1b"), _p("us-east-1c"), states={1: "preempted"})
    wp = align(_planned(_p("us-east-1a"), _p("us-east-1b"), _p("us-east-1c")), rec)
    assert relaunched(wp, rec) == (1,)
    assert relaunched(wp, rec, requested=(0,)) == (0, 1)


def test_the_change_carries_its_groups_through_a_plan_file_and_says_what_it_does():
    c = Change("workload.api", Action.UPDATE, relaunch_groups=(1, 2), reason="replace_some_replicas")
    assert change_from_json(change_to_json(c)).relaunch_groups == (1, 2)
    assert change_from_json(change_to_json(Change("workload.api", Action.UPDATE))).relaunch_groups == ()
    assert describe((1, 2), 3) == "replacing replicas 1 and 2 of 3; the others keep running"
    assert describe((0,), 2) == "replacing replica 0 of 2; the others keep running"

"""Failover across approved placements, blocking by scope, within the approved cost."""

from __future__ import annotations

import pytest

from skyplan.apply.failover import Blocklist, FailoverExhausted, launch_group
from skyplan.errors import CapacityError, QuotaError
from skyplan.solver.model import GroupPlacement
from tests.apply.sim import placement


def _launcher(errors):
    tried = []

    def launch(p):
        tried.append((p.infra, p.instance_type))
        e = errors.get((p.infra, p.instance_type))
        if e:
            raise e
        return "launched"

    return launch, tried


def test_capacity_errors_on_first_two_end_on_the_third():
    a, b, c = placement(zone="r1a"), placement(zone="r1b"), placement(zone="r1c")
    launch, tried = _launcher({(a.infra, a.instance_type): CapacityError("ICE", scope="zone"),
                               (b.infra, b.instance_type): CapacityError("ICE", scope="zone")})
    used, out = launch_group(GroupPlacement(a, (b, c)), launch, address="workload.x", index=0,
                             other_groups_cost=0, approved_hourly_cost=1.0)
    assert used == c and out == "launched"
    assert [t[0] for t in tried] == ["sim/r1/r1a", "sim/r1/r1b", "sim/r1/r1c"]


def test_fallback_above_the_approved_cost_is_refused():
    a, pricey = placement(zone="r1a", price=1.0), placement(zone="r1b", price=1.5)
    launch, tried = _launcher({(a.infra, a.instance_type): CapacityError("ICE", scope="zone")})
    with pytest.raises(FailoverExhausted) as e:
        launch_group(GroupPlacement(a, (pricey,)), launch, address="workload.x", index=0,
                     other_groups_cost=0.0, approved_hourly_cost=1.2)
    assert len(tried) == 1, "the over-budget fallback must not be launched"
    text = str(e.value)
    assert "INFRA" in text and "RESOURCES" in text and "REASON" in text
    assert "above the approved $1.20/h" in text and "no capacity (zone)" in text


def test_region_scope_skips_later_zones_of_that_region():
    a, b, other = placement(zone="r1a"), placement(zone="r1b"), placement(region="r2", zone="r2a")
    launch, tried = _launcher({(a.infra, a.instance_type): QuotaError("vCPU quota", scope="region")})
    used, _ = launch_group(GroupPlacement(a, (b, other)), launch, address="workload.x", index=0,
                           other_groups_cost=0, approved_hourly_cost=5)
    assert used == other
    assert [t[0] for t in tried] == ["sim/r1/r1a", "sim/r2/r2a"]


def test_provider_scope_blocks_every_later_candidate_of_that_provider():
    a = placement(provider="aws", region="us-east-1", zone="us-east-1a")
    b = placement(provider="aws", region="us-west-2", zone="us-west-2a")
    launch, tried = _launcher({(a.infra, a.instance_type): CapacityError("no", scope="provider")})
    bl = Blocklist()
    with pytest.raises(FailoverExhausted) as e:
        launch_group(GroupPlacement(a, (b,)), launch, address="workload.x", index=0,
                     other_groups_cost=0, approved_hourly_cost=5, blocklist=bl)
    assert len(tried) == 1
    assert "skipped: provider aws blocked" in str(e.value)


def test_other_groups_count_against_the_approved_cost():
    a, b = placement(zone="r1a", price=1.0), placement(zone="r1b", price=1.0)
    launch, _ = _launcher({(a.infra, a.instance_type): CapacityError("ICE", scope="zone")})
    with pytest.raises(FailoverExhausted):
        launch_group(GroupPlacement(a, (b,)), launch, address="workload.x", index=1,
                     other_groups_cost=1.5, approved_hourly_cost=2.0)


def test_no_further_placement_is_tried_once_apply_is_interrupted():
    import threading

    from skyplan.apply.failover import FailoverInterrupted

    a, b, c = placement(zone="r1a"), placement(zone="r1b"), placement(zone="r1c")
    cancel = threading.Event()

    def launch(p):
        cancel.set()  # Ctrl-C arrives while the first launch is under way
        raise CapacityError("ICE", scope="zone")

    with pytest.raises(FailoverInterrupted) as e:
        launch_group(GroupPlacement(a, (b, c)), launch, address="workload.x", index=0,
                     other_groups_cost=0, approved_hourly_cost=1.0, cancel=cancel)
    assert [x.placement for x in e.value.attempts] == [a]
    assert "interrupted" in str(e.value)

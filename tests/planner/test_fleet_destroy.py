"""Destroying a fleet that still has workloads on it is refused unless they go in the same plan."""

from __future__ import annotations

import dataclasses

import pytest

from skyplan.addrs import Address
from skyplan.config.model import Fleet, Resources, resource_hash
from skyplan.errors import PlanError
from skyplan.planner import Action, PlanOptions, plan
from skyplan.state.model import GroupRecord, ResourceRecord
from tests.planner.builders import graph, place, record, snapshot, solution, workload, wplace

POOL = Fleet(Address("fleet", "pool"), provider="aws", nodes=2, resources=Resources(), reservation="odcr", keep=True)
ON_POOL = dataclasses.replace(place(pricing="reserved", price=0.0), fleet="fleet.pool")
FLEET_AT = place(pricing="on_demand", price=40.0, nodes=2)


def fleet_record() -> ResourceRecord:
    return ResourceRecord("fleet.pool", "fleet", "running", (GroupRecord(FLEET_AT),), POOL.attributes(),
                          resource_hash(POOL))


def test_removing_a_fleet_while_a_workload_on_it_stays_is_refused():
    job = workload("train")
    state = snapshot(fleet_record(), record(job, ON_POOL))
    sol = solution(wplace("workload.train", ON_POOL))  # the solver still sees it where it runs
    with pytest.raises(PlanError) as exc:
        plan(graph(job), sol, state, None, PlanOptions())
    assert "fleet.pool would be destroyed while workload.train still run on it" in str(exc.value)


def test_a_fleet_goes_with_its_workloads_in_one_destroy_and_after_a_finished_job():
    job, done = workload("train"), workload("old", kind="job")
    state = snapshot(fleet_record(), record(job, ON_POOL), record(done, ON_POOL, status="succeeded"))
    p = plan(graph(), solution(), state, None, PlanOptions(destroy=True))
    acts = {c.address: c.action for c in p.changes}
    assert acts == {"fleet.pool": Action.DELETE, "workload.train": Action.DELETE, "workload.old": Action.DELETE}
    moved = plan(graph(job), solution(wplace("workload.train", place())), snapshot(
        fleet_record(), record(job, ON_POOL), record(done, ON_POOL, status="succeeded")), None, PlanOptions())
    acts = {c.address: c.action for c in moved.changes}
    assert acts["fleet.pool"] is Action.DELETE and acts["workload.train"].is_replace


def test_a_fleet_in_state_that_no_longer_pays_is_destroyed_as_its_workloads_move():
    from skyplan.solver.model import FleetChoice

    job = workload("train")
    state = snapshot(fleet_record(), record(job, ON_POOL))
    sol = dataclasses.replace(solution(wplace("workload.train", place())), fleets=(FleetChoice(
        "fleet.pool", False, False, 2880.0, 40.0, 2, "p5.48xlarge", 730.0, ("workload.train",)),))
    g = dataclasses.replace(graph(job), fleets={"fleet.pool": dataclasses.replace(POOL, keep=False)})
    p = plan(g, sol, state, None, PlanOptions())
    c = {x.address: x for x in p.changes}
    assert c["fleet.pool"].action is Action.DELETE and c["fleet.pool"].reason == "delete_because_not_bought"
    assert c["workload.train"].action.is_replace
    assert p.solver["fleets"][0]["bought"] is False

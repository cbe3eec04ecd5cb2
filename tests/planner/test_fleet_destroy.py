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

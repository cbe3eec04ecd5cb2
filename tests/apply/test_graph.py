"""The action DAG built from a plan's changes."""

from __future__ import annotations

import pytest

from skyplan.apply.graph import build_graph
from skyplan.errors import ApplyError
from skyplan.planner.model import Action, Change, Plan
from skyplan.state.model import GroupRecord, ResourceRecord
from tests.apply.sim import create_change, placement


def _prior(address, deps=()):
    return ResourceRecord(address=address, kind="workload", groups=(GroupRecord(placement()),), depends_on=tuple(deps))


def _plan(*changes):
    return Plan(changes=tuple(changes), lineage="L", serial=1)


def test_creates_follow_dependencies_and_noops_are_left_out():
    a = create_change("workload.a")
    b = create_change("workload.b", ["workload.a"])
    n = Change(address="workload.n", action=Action.NOOP)
    g = build_graph(_plan(a, b, n))
    assert set(g.steps) == {"workload.a (create)", "workload.b (create)"}
    assert g.deps["workload.b (create)"] == {"workload.a (create)"}


def test_deletes_run_in_reverse_dependency_order():
    a = Change(address="workload.a", action=Action.DELETE, prior=_prior("workload.a"))
    b = Change(address="workload.b", action=Action.DELETE, prior=_prior("workload.b", ["workload.a"]),
               depends_on=("workload.a",))
    g = build_graph(_plan(a, b))
    assert g.deps["workload.a (delete)"] == {"workload.b (delete)"}
    assert g.deps["workload.b (delete)"] == set()


def test_delete_then_create_replacement_deletes_first():
    c = create_change("workload.a")
    c = Change(**{**c.__dict__, "action": Action.DELETE_THEN_CREATE, "prior": _prior("workload.a")})
    g = build_graph(_plan(c))
    assert g.deps["workload.a (create)"] == {"workload.a (delete)"}


def test_create_before_destroy_deletes_old_after_dependants_are_updated():
    a = create_change("workload.a")
    a = Change(**{**a.__dict__, "action": Action.CREATE_THEN_DELETE, "prior": _prior("workload.a")})
    b = Change(address="workload.b", action=Action.UPDATE, depends_on=("workload.a",),
               prior=_prior("workload.b", ["workload.a"]), after={"kind": "service"})
    g = build_graph(_plan(a, b))
    assert g.deps["workload.b (update)"] == {"workload.a (create)"}
    assert g.deps["workload.a (delete-old)"] == {"workload.a (create)", "workload.b (update)"}


def test_a_dependency_cycle_is_an_apply_error():
    a = create_change("workload.a", ["workload.b"])
    b = create_change("workload.b", ["workload.a"])
    with pytest.raises(ApplyError, match="cycle"):
        build_graph(_plan(a, b))


def test_a_deleted_dependency_outlives_the_old_object_of_a_create_before_destroy_dependant():
    a = Change(address="workload.a", action=Action.DELETE, prior=_prior("workload.a"))
    b = create_change("workload.b")
    b = Change(**{**b.__dict__, "action": Action.CREATE_THEN_DELETE, "prior": _prior("workload.b", ["workload.a"])})
    g = build_graph(_plan(a, b))
    assert g.deps["workload.a (delete)"] == {"workload.b (delete-old)"}


def test_a_dependency_replaced_delete_first_does_not_wait_for_a_create_before_destroy_dependant():
    a = create_change("workload.a")
    a = Change(**{**a.__dict__, "action": Action.DELETE_THEN_CREATE, "prior": _prior("workload.a")})
    b = create_change("workload.b", ["workload.a"])
    b = Change(**{**b.__dict__, "action": Action.CREATE_THEN_DELETE, "prior": _prior("workload.b", ["workload.a"])})
    g = build_graph(_plan(a, b))  # no cycle
    assert g.deps["workload.b (create)"] == {"workload.a (create)"}

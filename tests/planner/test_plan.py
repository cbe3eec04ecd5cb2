"""The pure planner on hand-built desired graphs, solutions and snapshots."""

from __future__ import annotations

import dataclasses

import pytest

from skyplan.addrs import Address
from skyplan.config.model import Lifecycle, OutputSpec, UNKNOWN
from skyplan.errors import PlanError
from skyplan.planner import Action, PlanOptions, plan
from skyplan.providers.base import Instance
from tests.planner.builders import LINEAGE, graph, instances, place, record, snapshot, solution, workload, wplace

P1 = place()
P2 = place(region="us-west-2", zone="us-west-2b", price=35.0)
K8S = place(provider="kubernetes", region="cluster", zone=None, itype="a100-node", pricing="on_demand",
            price=0.0, accelerators="A100:8")


def by_addr(p):
    return {c.address: c for c in p.changes}


def run(desired, prior, placements=None, refreshed=None, **opts):
    sol = solution(*(placements if placements is not None else
                     [wplace(a, P1) for a in desired.workloads]))
    return plan(desired, sol, prior, refreshed, PlanOptions(**opts))


def test_create_noop_and_delete_with_reasons():
    a, b, old = workload("a"), workload("b"), workload("old")
    p = run(graph(a, b), snapshot(record(b, P1), record(old, P1)))
    c = by_addr(p)
    assert c["workload.a"].action is Action.CREATE and c["workload.a"].reason is None
    assert c["workload.b"].action is Action.NOOP
    assert c["workload.old"].action is Action.DELETE and c["workload.old"].reason == "delete_because_no_config"
    assert p.counts() == {"add": 1, "change": 0, "destroy": 1}
    assert p.lineage == LINEAGE and p.serial == 3 and p.config_hash == "cafe"


def test_change_carries_what_apply_needs():
    w = workload("train", kind="job", image="img:1", env={"A": "1"}, ports=(8080,), num_nodes=2,
                 depends_on=(Address("workload", "prep"),), lifecycle=Lifecycle(create_before_destroy=True))
    prep = workload("prep")
    wp = wplace("workload.train", place(nodes=2), fallbacks=(P2,))
    c = by_addr(run(graph(prep, w), snapshot(), [wp, wplace("workload.prep", P1)]))["workload.train"]
    assert c.after["image"] == "img:1" and c.after["num_nodes"] == 2 and c.after["env"] == {"A": "1"}
    assert c.after["placement"]["groups"][0]["fallbacks"][0]["region"] == "us-west-2"
    assert c.after["placement"]["approved_hourly_cost"] == pytest.approx(96.0)
    assert c.placement == wp and c.depends_on == ("workload.prep",)
    assert c.lifecycle["create_before_destroy"] is True and c.lifecycle["prevent_destroy"] is False
    from skyplan.config.model import resource_hash
    assert c.config_hash == resource_hash(w)


def test_job_config_change_replaces_and_finished_job_is_noop():
    done = workload("done")
    changed = workload("changed")
    prior = snapshot(record(done, P1, status="succeeded", nodes_present=0),
                     record(changed, P1, status="failed", nodes_present=0))
    changed2 = workload("changed", run="python changed.py --epochs 3")
    c = by_addr(run(graph(done, changed2), prior))
    assert c["workload.done"].action is Action.NOOP
    assert c["workload.changed"].action is Action.DELETE_THEN_CREATE
    assert c["workload.changed"].reason == "replace_because_cannot_update"
    assert c["workload.changed"].replace_paths == (("run",),)


def test_replace_by_request_and_unknown_replace_address():
    w = workload("a")
    c = by_addr(run(graph(w), snapshot(record(w, P1)), replace=("workload.a",)))["workload.a"]
    assert c.action is Action.DELETE_THEN_CREATE and c.reason == "replace_by_request"
    with pytest.raises(PlanError, match="workload.nope"):
        run(graph(w), snapshot(record(w, P1)), replace=("workload.nope",))


def test_service_updates_in_place_where_the_provider_allows_it():
    svc = workload("api", kind="service", env={"LEVEL": "info"}, replicas=1)
    svc2 = workload("api", kind="service", env={"LEVEL": "debug"}, replicas=1)
    c = by_addr(run(graph(svc2), snapshot(record(svc, K8S)), [wplace("workload.api", K8S)]))["workload.api"]
    assert c.action is Action.UPDATE and c.update_paths == (("env", "LEVEL"),)
    # A local process cannot change its environment: replace.
    local = place(provider="local", region="local", zone=None, itype="local", pricing="on_demand", price=0.0)
    c = by_addr(run(graph(svc2), snapshot(record(svc, local)), [wplace("workload.api", local)]))["workload.api"]
    assert c.action is Action.DELETE_THEN_CREATE and c.replace_paths == (("env", "LEVEL"),)


def test_replicas_of_a_service_update_in_place():
    svc = workload("api", kind="service", replicas=1)
    svc2 = workload("api", kind="service", replicas=2)
    c = by_addr(run(graph(svc2), snapshot(record(svc, K8S)), [wplace("workload.api", K8S, K8S)]))["workload.api"]
    assert c.action is Action.UPDATE and ("replicas",) in c.update_paths


def test_placement_move_replaces_and_kept_placement_is_noop():
    w = workload("a")
    prior = snapshot(record(w, P1))
    assert by_addr(run(graph(w), prior, [wplace("workload.a", P2)]))["workload.a"].reason == \
        "replace_because_placement_changed"
    cheaper_same_place = dataclasses.replace(P1, hourly_price=30.0)
    assert by_addr(run(graph(w), prior, [wplace("workload.a", cheaper_same_place, kept=True)]))["workload.a"].action \
        is Action.NOOP


def test_create_before_destroy_orders_the_replacement():
    w = workload("a", lifecycle=Lifecycle(create_before_destroy=True))
    c = by_addr(run(graph(w), snapshot(record(w, P1)), [wplace("workload.a", P2)]))["workload.a"]
    assert c.action is Action.CREATE_THEN_DELETE and c.action.symbol == "+/-"


def test_prevent_destroy_fails_naming_the_address():
    w = workload("db", lifecycle=Lifecycle(prevent_destroy=True))
    with pytest.raises(PlanError, match="workload.db"):
        run(graph(w), snapshot(record(w, P1)), [wplace("workload.db", P2)])
    with pytest.raises(PlanError, match="prevent_destroy"):
        run(graph(w), snapshot(record(w, P1)), destroy=True)
    # No change: nothing to prevent.
    assert by_addr(run(graph(w), snapshot(record(w, P1))))["workload.db"].action is Action.NOOP


def test_prevent_destroy_error_points_at_the_block():
    from skyplan.errors import SourceRange

    w = workload("db", lifecycle=Lifecycle(prevent_destroy=True), source=SourceRange("main.sky.hcl", 7, 1))
    with pytest.raises(PlanError, match=r"^main\.sky\.hcl:7:1: workload\.db has lifecycle\.prevent_destroy"):
        run(graph(w), snapshot(record(w, P1)), destroy=True)


def test_ignore_changes_hides_listed_attributes():
    svc = workload("api", kind="service", env={"A": "1", "B": "1"}, lifecycle=Lifecycle(ignore_changes=("env.A",)))
    svc2 = dataclasses.replace(svc, env={"A": "2", "B": "1"})
    c = by_addr(run(graph(svc2), snapshot(record(svc, P1))))["workload.api"]
    assert c.action is Action.NOOP and c.after["env"]["A"] == "1"
    svc3 = dataclasses.replace(svc, env={"A": "2", "B": "2"})
    c = by_addr(run(graph(svc3), snapshot(record(svc, K8S)), [wplace("workload.api", K8S)]))["workload.api"]
    assert c.action is Action.UPDATE and c.update_paths == (("env", "B"),)


def test_count_and_for_each_instances_that_disappeared():
    s0, s1 = workload("shard", key=0), workload("shard", key=1)
    r_eu = workload("region", key="eu")
    r_us = workload("region", key="us")
    prior = snapshot(record(s0, P1), record(s1, P1), record(r_eu, P1), record(r_us, P1))
    c = by_addr(run(graph(s0, r_us), prior))
    assert c["workload.shard[1]"].reason == "delete_because_count_index"
    assert c['workload.region["eu"]'].reason == "delete_because_each_key"


def test_destroy_deletes_every_address():
    a, b = workload("a"), workload("b")
    p = run(graph(a, b), snapshot(record(a, P1), record(b, P1)), placements=[], destroy=True)
    assert {c.address: c.action for c in p.changes} == {"workload.a": Action.DELETE, "workload.b": Action.DELETE}
    assert p.cost_after == 0 and p.cost_before == 80.0


def test_target_includes_dependencies_only():
    base = workload("base")
    app = workload("app", depends_on=(Address("workload", "base"),))
    other = workload("other")
    p = run(graph(base, app, other), snapshot(), targets=("workload.app",))
    assert sorted(c.address for c in p.changes) == ["workload.app", "workload.base"]
    with pytest.raises(PlanError, match="matches no resource"):
        run(graph(base), snapshot(), targets=("workload.ghost",))
    shards = [workload("shard", key=i) for i in range(3)]
    p = run(graph(*shards, other), snapshot(), targets=("workload.shard",))
    assert len(p.changes) == 3


def test_target_a_module_call_selects_everything_inside_it():
    inner = workload("w")
    inner = dataclasses.replace(inner, address=Address("workload", "w", None, ("m",)))
    deeper = dataclasses.replace(workload("d"), address=Address("workload", "d", None, ("m", "n")))
    other = workload("other")
    p = run(graph(inner, deeper, other), snapshot(), targets=("module.m",))
    assert sorted(c.address for c in p.changes) == ["module.m.module.n.workload.d", "module.m.workload.w"]
    p = run(graph(inner, deeper, other), snapshot(), targets=("module.m.module.n",))
    assert [c.address for c in p.changes] == ["module.m.module.n.workload.d"]
    with pytest.raises(PlanError, match="matches no resource"):
        run(graph(inner, other), snapshot(), targets=("module.nope",))


def test_exclude_leaves_out_the_address_and_what_depends_on_it():
    base = workload("base")
    app = workload("app", depends_on=(Address("workload", "base"),))
    other = workload("other")
    p = run(graph(base, app, other), snapshot(), excludes=("workload.base",))
    assert [c.address for c in p.changes] == ["workload.other"]
    p = run(graph(base, app, other), snapshot(), excludes=("workload.app",))
    assert sorted(c.address for c in p.changes) == ["workload.base", "workload.other"]
    # with -target: the targets and their needs, minus the excluded
    p = run(graph(base, app, other), snapshot(), targets=("workload.other",), excludes=("workload.app",))
    assert [c.address for c in p.changes] == ["workload.other"]
    with pytest.raises(PlanError, match="workload.app is both targeted and excluded"):
        run(graph(base, app, other), snapshot(), targets=("workload.app",), excludes=("workload.app",))
    with pytest.raises(PlanError, match="-exclude workload.ghost matches no resource"):
        run(graph(base), snapshot(), excludes=("workload.ghost",))
    # destroying: the excluded stays, and so does what it needs
    state = snapshot(record(base, P1), record(app, P1), record(other, P1))
    p = run(graph(base, app, other), state, placements=[], destroy=True, excludes=("workload.app",))
    assert [c.address for c in p.changes] == ["workload.other"]
    p = run(graph(base, app, other), state, placements=[], destroy=True, excludes=("workload.base",))
    assert sorted(c.address for c in p.changes) == ["workload.app", "workload.other"]


def test_targeted_destroy_takes_dependants_and_leaves_dependencies():
    base = workload("base")
    app = workload("app", depends_on=(Address("workload", "base"),))
    other = workload("other")
    state = snapshot(record(base, P1), record(app, P1), record(other, P1))
    p = run(graph(base, app, other), state, placements=[], destroy=True, targets=("workload.app",))
    assert [c.address for c in p.changes] == ["workload.app"]
    p = run(graph(base, app, other), state, placements=[], destroy=True, targets=("workload.base",))
    assert sorted(c.address for c in p.changes) == ["workload.app", "workload.base"]
    assert all(c.action is Action.DELETE for c in p.changes)
    # A dependant no longer in the configuration is found through what state recorded.
    orphan = dataclasses.replace(record(app, P1), depends_on=("workload.base",))
    p = run(graph(base), snapshot(record(base, P1), orphan), placements=[], destroy=True,
            targets=("workload.base",))
    assert sorted(c.address for c in p.changes) == ["workload.app", "workload.base"]


def test_missing_nodes_from_refresh():
    gone = workload("gone", kind="service")
    half = workload("half", num_nodes=2)
    two = place(nodes=2)
    prior = snapshot(record(gone, P1), record(half, two))
    refreshed = snapshot(record(gone, P1, nodes_present=0), record(half, two, nodes_present=1))
    c = by_addr(run(graph(gone, half), prior, [wplace("workload.gone", P1), wplace("workload.half", two)],
                    refreshed=refreshed))
    assert c["workload.gone"].action is Action.CREATE and c["workload.gone"].reason == "replace_because_missing"
    assert c["workload.half"].action is Action.DELETE_THEN_CREATE
    assert c["workload.half"].reason == "replace_because_nodes_missing"


def test_unmanaged_instances_are_adopted_or_deleted():
    w = workload("crashed")
    orphans = instances("workload.crashed", P1) + instances("workload.stray", P2)
    p = plan(graph(w), solution(wplace("workload.crashed", P1)), snapshot(), None, PlanOptions(),
             unmanaged=orphans)
    c = by_addr(p)
    assert c["workload.crashed"].action is Action.UPDATE and c["workload.crashed"].reason == "adopt_unmanaged"
    assert c["workload.crashed"].prior.instances[0].id == orphans[0].id
    assert c["workload.stray"].action is Action.DELETE and c["workload.stray"].reason == "delete_because_unmanaged"
    assert [i.id for i in c["workload.stray"].prior.instances] == [orphans[1].id]


def test_tainted_record_is_replaced():
    w = workload("a")
    rec = dataclasses.replace(record(w, P1), tainted=True)
    assert by_addr(run(graph(w), snapshot(rec)))["workload.a"].reason == "replace_because_tainted"


def test_costs_before_and_after():
    a, b, done = workload("a"), workload("b"), workload("done")
    prior = snapshot(record(a, P1), record(done, P1, status="succeeded", nodes_present=0))
    p = run(graph(a, b, done), prior, [wplace("workload.a", P2), wplace("workload.b", P1),
                                       wplace("workload.done", P1)])
    assert p.cost_before == 40.0  # the finished job costs nothing
    assert p.cost_after == 75.0


def test_sensitive_paths_are_marked():
    w = workload("api", kind="service", env={"TOKEN": "s3cret"}, sensitive_paths=("env.TOKEN",))
    c = by_addr(run(graph(w), snapshot()))["workload.api"]
    assert c.after_sensitive == {"env": {"TOKEN": True}}


def test_unknown_values_become_after_unknown():
    w = workload("api", kind="service", env={"PEER": UNKNOWN})
    c = by_addr(run(graph(w), snapshot()))["workload.api"]
    assert c.after["env"]["PEER"] is None and c.after_unknown == {"env": {"PEER": True}}


def test_output_changes():
    w = workload("a")
    outs = {"ip": OutputSpec("ip", UNKNOWN), "n": OutputSpec("n", 3), "secret": OutputSpec("secret", "x", sensitive=True)}
    p = run(graph(w, outputs=outs), snapshot(record(w, P1), outputs={"ip": {"value": "1.2.3.4", "sensitive": False},
                                                                      "n": {"value": 3, "sensitive": False},
                                                                      "gone": {"value": 1, "sensitive": False}}))
    oc = p.output_changes
    assert oc["ip"]["actions"] == ["no-op"] and oc["ip"]["after"] == "1.2.3.4"
    assert oc["n"]["actions"] == ["no-op"]
    assert oc["secret"]["actions"] == ["create"] and oc["secret"]["after_sensitive"] is True
    assert oc["gone"]["actions"] == ["delete"]
    assert p.has_changes


def test_refresh_only_plans_no_resource_changes():
    w = workload("a")
    p = run(graph(w), snapshot(record(w, P1)), placements=[], refresh_only=True)
    assert p.changes == () and not p.has_changes


def test_plan_is_pure_and_deterministic():
    a, b = workload("a"), workload("b")
    prior = snapshot(record(a, P1))
    sol = solution(wplace("workload.a", P2), wplace("workload.b", P1))
    first = plan(graph(a, b), sol, prior, None, PlanOptions())
    second = plan(graph(a, b), sol, prior, None, PlanOptions())
    assert first == second
    assert prior.resources["workload.a"].groups[0].placement == P1


def test_strays_of_a_removed_address_are_deleted_with_it():
    old = workload("old")
    strays = instances("workload.old", P2, group=3)
    p = plan(graph(), solution(), snapshot(record(old, P1)), None, PlanOptions(), unmanaged=strays)
    (c,) = p.changes
    assert c.action is Action.DELETE and c.reason == "delete_because_no_config"
    assert {i.id for i in c.prior.instances} == {i.id for i in record(old, P1).instances} | {strays[0].id}

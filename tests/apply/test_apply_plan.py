"""apply_plan end to end on an in-process provider and a real SQLite state file."""

from __future__ import annotations

import io
import json
import threading
import time

import pytest

from skyplan.apply import apply_plan
from skyplan.apply.progress import JsonReporter, PlainReporter
from skyplan.apply.retry import RetryPolicy
from skyplan.errors import TransientError
from skyplan.planner.model import Action, Change, Plan
from skyplan.solver.model import GroupPlacement
from skyplan.state.model import FAILED, RUNNING, SUCCEEDED
from skyplan.state.store import StateStore
from tests.apply.sim import SimProvider, create_change, placement, plan_of, random_dag


@pytest.fixture()
def store(tmp_path):
    s = StateStore.open(tmp_path / "state.db")
    yield s
    s.close()


def test_200_actions_in_dependency_order_within_parallelism(store):
    deps = random_dag(200, seed=11)
    prov = SimProvider(latency=lambda a: 0.001 + (hash(a) % 5) / 1000)
    plan = plan_of([create_change(a, d) for a, d in deps.items()], store.lineage)
    res = apply_plan(plan, store, {"sim": prov}, parallelism=10)
    assert res.ok and res.added == 200
    assert prov.max_running <= 10
    finished_at = {a: i for i, (_, a) in enumerate(prov.finished)}
    started_at = {a: i for i, (_, a) in enumerate(prov.calls)}
    for a, ds in deps.items():
        for d in ds:
            assert finished_at[d] < finished_at[a]
    assert len(started_at) == 200
    snap = store.snapshot()
    assert set(snap.resources) == set(deps)
    assert all(r.status == RUNNING and len(r.instances) == 1 for r in snap.resources.values())
    assert res.summary() == "Apply complete! Resources: 200 added, 0 changed, 0 destroyed."


def test_failing_action_skips_exactly_its_dependants(store):
    deps = {"workload.a": [], "workload.b": ["workload.a"], "workload.c": ["workload.b"],
            "workload.d": [], "workload.e": ["workload.d"]}
    prov = SimProvider(fail=["workload.b"])
    plan = plan_of([create_change(a, d) for a, d in deps.items()], store.lineage)
    res = apply_plan(plan, store, {"sim": prov})
    assert not res.ok
    assert res.failed == ["workload.b (create)"]
    assert res.skipped == ["workload.c (create)"]
    assert sorted(res.done) == ["workload.a (create)", "workload.d (create)", "workload.e (create)"]
    assert "simulated failure" in res.errors["workload.b (create)"]
    assert res.reasons["workload.c (create)"] == "upstream failed: workload.b (create)"
    snap = store.snapshot()
    assert set(snap.resources) == {"workload.a", "workload.b", "workload.d", "workload.e"}
    # Nothing was launched (the listing finds no node of it): a failed record without cost replaces the marker.
    b = snap.resources["workload.b"]
    assert (b.status, b.groups, b.hourly_cost) == ("failed", (), 0) and "simulated failure" in b.reason
    assert "Apply failed: 3 done, 1 failed, 1 skipped" in res.summary()


def test_failover_ends_on_the_third_placement_and_records_it(store):
    a, b, c = placement(zone="r1a"), placement(zone="r1b"), placement(zone="r1c")
    prov = SimProvider(capacity={(a.infra, a.instance_type): "zone", (b.infra, b.instance_type): "zone"})
    ch = create_change("workload.x", groups=(GroupPlacement(a, (b, c)),))
    out = io.StringIO()
    res = apply_plan(plan_of([ch], store.lineage), store, {"sim": prov}, reporter=PlainReporter(out))
    assert res.ok
    rec = store.get("workload.x")
    assert rec.placement == c and rec.instances[0].zone == "r1c"
    assert "failed over to sim/r1/r1c" in out.getvalue()


def test_fallback_over_approved_cost_is_refused_with_a_table(store):
    a, pricey = placement(zone="r1a", price=1.0), placement(zone="r1b", price=3.0)
    prov = SimProvider(capacity={(a.infra, a.instance_type): "zone"})
    ch = create_change("workload.x", groups=(GroupPlacement(a, (pricey,)),), approved=1.0)
    res = apply_plan(plan_of([ch], store.lineage), store, {"sim": prov})
    assert res.failed == ["workload.x (create)"]
    msg = res.errors["workload.x (create)"]
    assert "INFRA" in msg and "refused: would cost $3.00/h, above the approved $1.00/h" in msg
    assert msg.endswith("hint: widen placement (regions, zones, pricing) or raise max_hourly_cost, then plan again")
    assert prov.tried == [(a.infra, a.instance_type)]


def test_partial_multi_group_create_is_recorded_tainted(store):
    ok, bad = placement(zone="r1a"), placement(zone="r1b")
    prov = SimProvider(capacity={(bad.infra, bad.instance_type): "zone"})
    ch = create_change("workload.x", groups=(GroupPlacement(ok), GroupPlacement(bad)))
    res = apply_plan(plan_of([ch], store.lineage), store, {"sim": prov})
    assert not res.ok
    rec = store.get("workload.x")
    assert rec.tainted and len(rec.groups) == 1 and len(rec.instances) == 1


def test_transient_errors_are_retried(store):
    class Flaky(SimProvider):
        n = 0

        def create(self, req):
            Flaky.n += 1
            if Flaky.n <= 2:
                raise TransientError("throttled")
            return super().create(req)

    waits = []
    res = apply_plan(plan_of([create_change("workload.x")], store.lineage), store, {"sim": Flaky()},
                     retry=RetryPolicy(sleep=waits.append))
    assert res.ok and len(waits) == 2


def test_a_retried_create_carries_the_same_launch_token(store):
    tokens = []

    class LostAnswer(SimProvider):
        def create(self, req):
            tokens.append(req.token)
            if len(tokens) == 1:
                raise TransientError("timed out waiting for the answer")
            return super().create(req)

    ch = create_change("workload.x", groups=(GroupPlacement(placement(zone="r1a"), ()),
                                             GroupPlacement(placement(zone="r1b"), ())))
    res = apply_plan(plan_of([ch], store.lineage), store, {"sim": LostAnswer()},
                     retry=RetryPolicy(sleep=lambda s: None))
    assert res.ok and len(tokens) == 3
    assert tokens[0] and tokens[0] == tokens[1], "a retry must be recognisable as the same launch"
    assert tokens[2] and tokens[2] != tokens[0], "another group is another launch"


def test_job_dependant_waits_for_success_and_is_skipped_after_failure(store):
    class Jobs(SimProvider):
        """Jobs run for a while and then end with the scripted outcome."""

        def __init__(self, outcome):
            super().__init__(job_state="running")
            self.outcome = outcome

        def create(self, req):
            out = super().create(req)
            if req.kind == "job":
                def finish():
                    time.sleep(0.15)
                    with self.lock:
                        for i in out:
                            self.live[i.id] = Instance(**{**i.__dict__, "state": self.outcome})
                threading.Thread(target=finish, daemon=True).start()
            return out

    from skyplan.providers.base import Instance

    for outcome, expect_ok in (("succeeded", True), ("failed", False)):
        prov = Jobs(outcome)
        prep = create_change(f"workload.prep_{outcome}", kind="job")
        train = create_change(f"workload.train_{outcome}", [prep.address], kind="job")
        res = apply_plan(plan_of([prep, train], store.lineage), store, {"sim": prov}, poll_interval=0.01)
        assert res.ok is expect_ok
        if expect_ok:
            assert store.get(prep.address).status == SUCCEEDED
            assert [a for _, a in prov.calls] == [prep.address, train.address]
        else:
            assert store.get(prep.address).status == FAILED
            assert res.skipped == [f"{train.address} (create)"]
            # The job failed within the apply: its own create fails, and its dependant is skipped.
            assert res.failed == [f"{prep.address} (create)"] and "failed" in res.errors[res.failed[0]]
            assert "upstream" in res.reasons[f"{train.address} (create)"]


def test_deletes_forget_state_in_reverse_order(store):
    prov = SimProvider()
    deps = {"workload.a": [], "workload.b": ["workload.a"]}
    apply_plan(plan_of([create_change(a, d) for a, d in deps.items()], store.lineage), store, {"sim": prov})
    snap = store.snapshot()
    changes = [Change(address=a, action=Action.DELETE, prior=snap.resources[a], depends_on=tuple(deps[a]))
               for a in deps]
    res = apply_plan(plan_of(changes, store.lineage), store, {"sim": prov})
    assert res.ok and res.destroyed == 2
    assert [a for op, a in prov.calls if op == "delete"] == ["workload.b", "workload.a"]
    assert store.snapshot().resources == {} and prov.live == {}


def test_json_reporter_emits_one_object_per_line(store):
    out = io.StringIO()
    apply_plan(plan_of([create_change("workload.a")], store.lineage), store, {"sim": SimProvider()},
               reporter=JsonReporter(out))
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["event"] for e in events] == ["started", "done"]
    assert events[0]["action"] == "workload.a (create)"


def test_per_provider_limit_from_max_parallel(store):
    prov = SimProvider(latency=0.01)
    prov.max_parallel = 2
    plan = plan_of([create_change(f"workload.w{i}") for i in range(12)], store.lineage)
    res = apply_plan(plan, store, {"sim": prov}, parallelism=10)
    assert res.ok and prov.max_running == 2


def test_update_changes_nodes_in_place_and_scales_replica_groups(store):
    class Recording(SimProvider):
        def __init__(self):
            super().__init__()
            self.updates = []

        def update(self, inst, changes):
            self.updates.append((inst.id, dict(changes)))
            return inst

    prov = Recording()
    apply_plan(plan_of([create_change("workload.api")], store.lineage), store, {"sim": prov})
    prior = store.get("workload.api")
    three = tuple(GroupPlacement(placement(zone=z)) for z in ("r1a", "r1b", "r1c"))
    up = create_change("workload.api", groups=three)
    up = Change(**{**up.__dict__, "action": Action.UPDATE, "prior": prior, "before": {"env": {}},
                   "after": {**up.after, "env": {"A": "1"}, "replicas": 3},
                   "update_paths": (("env", "A"), ("replicas",))})
    res = apply_plan(plan_of([up], store.lineage), store, {"sim": prov})
    assert res.ok and res.changed == 1
    assert prov.updates == [(prior.instances[0].id, {"env": {"A": "1"}})]
    rec = store.get("workload.api")
    assert [g.placement.zone for g in rec.groups] == ["r1a", "r1b", "r1c"] and len(prov.live) == 3

    down = create_change("workload.api", groups=three[:1])
    down = Change(**{**down.__dict__, "action": Action.UPDATE, "prior": rec, "after": {**down.after, "replicas": 1},
                     "update_paths": (("replicas",),)})
    res = apply_plan(plan_of([down], store.lineage), store, {"sim": prov})
    assert res.ok
    assert len(store.get("workload.api").groups) == 1 and len(prov.live) == 1
    assert len(prov.updates) == 1, "a replicas-only change touches no running node"


def test_live_reporter_draws_a_table_on_a_terminal(store):
    from rich.console import Console

    from skyplan.apply.progress import LiveReporter

    out = io.StringIO()
    rep = LiveReporter(Console(file=out, force_terminal=True, width=120))
    res = apply_plan(plan_of([create_change("workload.a"), create_change("workload.b", ["workload.a"])], store.lineage),
                     store, {"sim": SimProvider(fail=["workload.a"])}, reporter=rep)
    assert not res.ok
    text = out.getvalue()
    assert "ACTION" in text and "failed" in text and "skipped" in text and "upstream failed" in text


def test_outputs_known_at_plan_time_are_recorded_and_deleted_ones_dropped(store):
    store.set_outputs({"old": {"value": 1, "sensitive": False}, "kept": {"value": "x", "sensitive": False}})
    plan = plan_of([create_change("workload.a")], store.lineage)
    plan = Plan(**{**plan.__dict__, "output_changes": {
        "region": {"actions": ["create"], "after": "r1", "after_unknown": False, "after_sensitive": False},
        "token": {"actions": ["create"], "after": "s3cr3t", "after_unknown": False, "after_sensitive": True},
        "kept": {"actions": ["update"], "after": None, "after_unknown": True, "after_sensitive": False},
        "old": {"actions": ["delete"], "after": None, "after_unknown": False, "after_sensitive": False},
    }})
    assert apply_plan(plan, store, {"sim": SimProvider()}).ok
    assert store.snapshot().outputs == {"region": {"value": "r1", "sensitive": False},
                                        "token": {"value": "s3cr3t", "sensitive": True},
                                        "kept": {"value": "x", "sensitive": False}}


def test_max_parallel_from_provider_blocks():
    from skyplan.apply import provider_limits
    from skyplan.config.model import ProviderConfig

    limits = provider_limits({"aws": SimProvider("aws"), "local": SimProvider("local")},
                             {"aws": ProviderConfig(kind="aws", settings={"max_parallel": 4})})
    assert limits == {"aws": 4}


def _replace(change, action, prior):
    return Change(**{**change.__dict__, "action": action, "prior": prior})


def test_replacements_delete_first_or_create_first_as_planned(store):
    prov = SimProvider()
    apply_plan(plan_of([create_change("workload.a"), create_change("workload.b")], store.lineage), store, {"sim": prov})
    old_a, old_b = store.get("workload.a"), store.get("workload.b")
    prov.calls.clear()

    plan = plan_of([_replace(create_change("workload.a"), Action.DELETE_THEN_CREATE, old_a),
                    _replace(create_change("workload.b"), Action.CREATE_THEN_DELETE, old_b)], store.lineage)
    res = apply_plan(plan, store, {"sim": prov}, parallelism=1)
    assert res.ok and res.added == 2 and res.destroyed == 2
    order_a = [op for op, a in prov.calls if a == "workload.a"]
    order_b = [op for op, a in prov.calls if a == "workload.b"]
    assert order_a == ["delete", "create"] and order_b == ["create", "delete"]
    new_a, new_b = store.get("workload.a"), store.get("workload.b")
    assert new_a.instances[0].id != old_a.instances[0].id and new_b.instances[0].id != old_b.instances[0].id
    assert set(prov.live) == {new_a.instances[0].id, new_b.instances[0].id}


def test_failed_and_skipped_actions_are_journalled(store):
    plan = plan_of([create_change("workload.a"), create_change("workload.b", ["workload.a"])], store.lineage)
    apply_plan(plan, store, {"sim": SimProvider(fail=["workload.a"])})
    events = {(e["address"], e["outcome"]) for e in store.history()}
    assert ("workload.a", "failed") in events and ("workload.b", "skipped") in events

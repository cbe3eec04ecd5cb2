"""Properties of plan() over random configurations and states (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from skyplan.planner import Action, PlanOptions, plan
from tests.planner.builders import graph, place, record, snapshot, solution, workload, wplace

PLACES = [place(), place(region="us-west-2", zone="us-west-2b", price=35.0),
          place(provider="kubernetes", region="cluster", zone=None, itype="node", pricing="on_demand", price=0.0)]

names = st.sampled_from([f"w{i}" for i in range(8)])
spec = st.fixed_dictionaries({
    "kind": st.sampled_from(["job", "service"]),
    "run": st.sampled_from(["a", "b"]),
    "env": st.sampled_from([{}, {"A": "1"}, {"A": "2"}]),
    "replicas": st.integers(1, 2),
    "where": st.integers(0, 2),
    "status": st.sampled_from(["running", "succeeded", "failed"]),
    "present": st.integers(0, 2),
})


@settings(max_examples=150, deadline=None)
@given(desired=st.dictionaries(names, spec, max_size=6), prior=st.dictionaries(names, spec, max_size=6),
       destroy=st.booleans())
def test_every_address_gets_exactly_one_consistent_change(desired, prior, destroy):
    ws = {n: workload(n, kind=s["kind"], run=s["run"], env=s["env"], replicas=s["replicas"]) for n, s in desired.items()}
    wps = [wplace(f"workload.{n}", *[PLACES[s["where"]]] * s["replicas"]) for n, s in desired.items()]
    recs, live = [], []
    for n, s in prior.items():
        w = workload(n, kind=s["kind"], run=s["run"], env=s["env"], replicas=s["replicas"])
        groups = [PLACES[s["where"]]] * s["replicas"]
        recs.append(record(w, *groups, status=s["status"]))
        live.append(record(w, *groups, status=s["status"], nodes_present=min(s["present"], 1)))
    g, sol = graph(*ws.values()), solution(*wps)
    p = plan(g, sol, snapshot(*recs), snapshot(*live), PlanOptions(destroy=destroy))

    addresses = [c.address for c in p.changes]
    assert len(addresses) == len(set(addresses))
    declared = {f"workload.{n}" for n in desired}
    recorded = {f"workload.{n}" for n in prior}
    if destroy:
        assert set(addresses) == recorded and all(c.action is Action.DELETE for c in p.changes)
    else:
        assert set(addresses) == declared | recorded
        for c in p.changes:
            if c.address not in declared:
                assert c.action is Action.DELETE and c.reason == "delete_because_no_config"
            elif c.address not in recorded:
                assert c.action is Action.CREATE
            if c.action is not Action.DELETE:
                assert c.placement is not None and c.after is not None
            if c.action.is_replace:
                assert c.reason and c.prior is not None
    counts = p.counts()
    assert counts["add"] + counts["destroy"] >= sum(1 for c in p.changes if c.action is not Action.NOOP
                                                    and c.action is not Action.UPDATE)
    assert p == plan(g, sol, snapshot(*recs), snapshot(*live), PlanOptions(destroy=destroy))
    assert p.cost_after >= 0 and p.cost_before >= 0

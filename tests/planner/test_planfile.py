"""Plan files: full round trip, and refusal of stale or foreign plans."""

from __future__ import annotations

import dataclasses
import os

import pytest

from skyplan.config.model import VariableValue
from skyplan.errors import PlanError, StalePlanError
from skyplan.planner import DriftItem, PlanOptions, plan
from skyplan.planner.planfile import check_plan_against_state, is_plan_file, load_plan, save_plan
from tests.planner.builders import LINEAGE, graph, place, record, snapshot, solution, workload, wplace

P1, P2 = place(), place(region="us-west-2", zone="us-west-2b", price=35.0)


def sample():
    a, b, old = workload("a", env={"T": "x"}, sensitive_paths=("env.T",)), workload("b"), workload("old")
    g = graph(a, b, variables={"region": VariableValue("region", "us"),
                               "token": VariableValue("token", "hunter2", sensitive=True)})
    sol = solution(wplace("workload.a", P1, fallbacks=(P2,)), wplace("workload.b", P2))
    drift = (DriftItem("workload.b", "missing", provider="aws", provider_ids=("i-9",), before={"nodes": []}),)
    return plan(g, sol, snapshot(record(b, P1), record(old, P1)), None,
                PlanOptions(parallelism=4, targets=()), drift=drift,
                catalog={"source": "built-in", "observed_at": "2026-11-01"}, created_at="2026-11-28T12:00:00+00:00")


def test_round_trip_is_exact(tmp_path):
    p = sample()
    path = save_plan(p, tmp_path / "plan.skyplan")
    assert is_plan_file(path) and oct(os.stat(path).st_mode & 0o777) == "0o600"
    back = load_plan(path)
    assert back == p
    assert back.changes[0].placement.groups[0].fallbacks[0].region == "us-west-2"
    assert back.options["parallelism"] == 4
    assert back.catalog["observed_at"] == "2026-11-01"
    assert back.variables == {"region": "us"}
    # The sensitive value stays in the owner-only file, so apply evaluates exactly this
    # configuration; it is never rendered.
    assert back.sensitive_variables == {"token": "hunter2"}
    from skyplan.planner.render_json import render_json
    from skyplan.planner.render_text import render_text

    assert "hunter2" not in render_json(back) and "hunter2" not in render_text(back) and "hunter2" not in repr(back)


def test_stale_and_foreign_plans_are_refused():
    p = sample()
    check_plan_against_state(p, snapshot(serial=3))
    with pytest.raises(StalePlanError, match="Saved plan is stale: state changed since this plan was made"):
        check_plan_against_state(p, snapshot(serial=4))
    other = dataclasses.replace(snapshot(serial=3), lineage="another")
    with pytest.raises(StalePlanError, match="Saved plan does not match this state"):
        check_plan_against_state(p, other)


def test_plan_against_no_state_applies_to_a_fresh_state():
    p = plan(graph(workload("a")), solution(wplace("workload.a", P1)), snapshot(serial=0).__class__.empty(),
             None, PlanOptions())
    fresh = dataclasses.replace(snapshot(serial=0), resources={})
    check_plan_against_state(p, fresh)
    assert fresh.lineage == LINEAGE
    # Someone applied in between: the plan is stale, not "another state".
    with pytest.raises(StalePlanError, match="Saved plan is stale"):
        check_plan_against_state(p, snapshot(record(workload("a"), P1), serial=2))


def test_not_a_plan_file(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text('{"format_version": "1.2"}')
    with pytest.raises(PlanError, match="not a skyplan plan file"):
        load_plan(bad)
    with pytest.raises(PlanError, match="does not exist"):
        load_plan(tmp_path / "nope")
    bad.write_text("{not json")
    with pytest.raises(PlanError, match="not a skyplan plan file"):
        load_plan(bad)


def test_unwritable_plan_path_is_a_plan_error(tmp_path):
    p = plan(graph(), solution(), snapshot(), None, PlanOptions())
    (tmp_path / "folder").mkdir()
    with pytest.raises(PlanError, match="it is a folder"):
        save_plan(p, tmp_path / "folder")
    (tmp_path / "file").write_text("x")
    with pytest.raises(PlanError, match="cannot save the plan to"):
        save_plan(p, tmp_path / "file" / "plan.skyplan")  # its parent is a file
    assert sorted(x.name for x in tmp_path.iterdir()) == ["file", "folder"]

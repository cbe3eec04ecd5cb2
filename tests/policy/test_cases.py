"""Policy data cases: tests/cases/policy/<case>/{main.sky.hcl, [policies/], expected.json}.

Each case runs the real pipeline without providers (config.load, the case
catalog, the solver narrowed by the mandatory policies, planner.plan, the policy
check). expected.json holds either ``error`` (substrings of the message of a plan
that cannot be made) or ``results`` (policy name -> pass | warn | fail), optional
``violations`` (policy name -> substrings of its messages) and ``placements``
(address -> fields of its first group's chosen placement)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.examples import copy_config

CASES = Path(__file__).resolve().parents[1] / "cases" / "policy"
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if (p / "expected.json").is_file())


def plan_case(folder: Path, **options):
    from skyplan import workflow
    from skyplan.planner.options import PlanOptions

    catalog = CASES / "catalog.csv"
    return workflow.make_plan(folder, PlanOptions(refresh=False, lock=False, catalog=str(catalog), **options))


@pytest.mark.parametrize("case", CASE_NAMES)
def test_policy_case(case, tmp_path):
    from skyplan.errors import SkyplanError

    folder = tmp_path / case
    copy_config(CASES / case, folder)
    expected = json.loads((folder / "expected.json").read_text())
    if "error" in expected:
        with pytest.raises(SkyplanError) as info:
            plan_case(folder)
        text = str(info.value) + "".join(str(d) for d in getattr(info.value, "diagnostics", ()))
        for part in expected["error"]:
            assert part in text, text
        return
    plan = plan_case(folder).plan
    got = {r["policy"]: r["status"] for r in plan.policy_results}
    assert got == expected["results"], plan.policy_results
    for name, parts in expected.get("violations", {}).items():
        messages = " | ".join(v["message"] for r in plan.policy_results if r["policy"] == name for v in r["violations"])
        for part in parts:
            assert part in messages, messages
    changes = {c.address: c for c in plan.changes}
    for address, want in expected.get("placements", {}).items():
        chosen = changes[address].placement.groups[0].chosen.to_json()
        assert {k: chosen[k] for k in want} == want, chosen


@pytest.mark.parametrize("case, field, unconstrained", [
    ("budget_forces_spot", "pricing", "on_demand"),
    ("mandatory_region_moves", "region", "us-east-1"),
])
def test_mandatory_policy_changes_the_placement(case, field, unconstrained, tmp_path):
    """Without its policy the case's workload is placed elsewhere: the policy is what moved it."""
    import re

    folder = copy_config(CASES / case, tmp_path / case)
    main = folder / "main.sky.hcl"
    main.write_text(re.sub(r'\npolicy "[^"]+" \{.*?\n\}\n', "\n", main.read_text(), flags=re.S))
    plan = plan_case(folder).plan
    assert plan.policy_results == ()
    assert plan.changes[0].placement.groups[0].chosen.to_json()[field] == unconstrained


def test_plan_exits_1_and_apply_refuses_a_saved_plan_that_fails(tmp_path):
    """A mandatory failure: plan exits 1 (with -detailed-exitcode too), its result is in
    the JSON, and apply refuses the saved plan file before starting anything."""
    import jsonschema

    from tests.planner.cli_runner import run_cli

    folder = copy_config(CASES / "require_tags", tmp_path / "c")
    catalog = str(CASES / "catalog.csv")
    ran = run_cli("plan", "-refresh=false", "-detailed-exitcode", "-catalog", catalog, "-out", str(tmp_path / "p"),
                  str(folder))
    assert ran.returncode == 1, ran.stderr
    assert "✗ tags (mandatory): fail" in ran.stdout and "lacks tag(s) cost_center" in ran.stdout
    doc = json.loads(run_cli("plan", "-refresh=false", "-json", "-catalog", catalog, str(folder)).stdout)
    schema = json.loads((CASES.parents[2] / "schemas" / "plan.schema.json").read_text())
    jsonschema.validate(doc, schema)
    assert doc["policy_results"][0]["status"] == "fail"
    applied = run_cli("apply", "-auto-approve", str(tmp_path / "p"), cwd=folder)
    assert applied.returncode == 1
    assert "Apply refused: mandatory policy fails" in applied.stdout + applied.stderr
    state = folder / ".skyplan" / "state.db"
    if state.exists():
        from skyplan.state.store import StateStore

        store = StateStore.open(state)
        try:
            assert store.snapshot().resources == {}
        finally:
            store.close()


def test_markdown_carries_the_policy_results(tmp_path):
    from markdown_it import MarkdownIt

    from skyplan.planner.render_markdown import render_markdown

    folder = copy_config(CASES / "condition_per_change", tmp_path / "c")
    text = render_markdown(plan_case(folder).plan)
    tokens = MarkdownIt().enable("table").parse(text)
    cells = [t.content for t in tokens if t.type == "inline"]
    assert "⚠️ warn" in cells and "✅ pass" in cells
    assert any("workload.open_ended uses 1 GPU(s) with no duration_hours" in c for c in cells)
    assert text.count("<details>") == text.count("</details>")

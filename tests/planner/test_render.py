"""Text, JSON and Markdown renderings of plans."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from skyplan.config.model import Lifecycle
from skyplan.planner import DriftItem, PlanOptions, plan
from skyplan.planner.render_json import render_json
from skyplan.planner.render_markdown import MAX_CHARS, render_markdown
from skyplan.planner.render_text import render_lines, render_text, summary_line
from tests.planner.builders import graph, place, record, snapshot, solution, workload, wplace

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "plan.schema.json").read_text())
P1 = place(price=41.20)
P2 = place(region="us-west-2", zone="us-west-2b", price=37.85)


def mixed_plan():
    keep, move, gone = workload("keep"), workload("move"), workload("gone")
    new = workload("train", env={"TOKEN": "s3cret"}, sensitive_paths=("env.TOKEN",))
    svc = workload("api", kind="service", ports=(80,))
    svc2 = workload("api", kind="service", ports=(80, 443))
    prior = snapshot(record(keep, P1), record(move, P1), record(gone, P1), record(svc, P1))
    sol = solution(wplace("workload.keep", P1, kept=True), wplace("workload.move", P2),
                   wplace("workload.train", P2, fallbacks=(P1,)), wplace("workload.api", P1, kept=True))
    drift = (DriftItem("workload.keep", "changed", provider="aws", provider_ids=("i-1",), paths=("tags.owner",)),)
    return plan(graph(keep, move, new, svc2), sol, prior, None, PlanOptions(), drift=drift)


def test_text_follows_terraform_conventions():
    text = render_text(mixed_plan())
    assert "# workload.train will be created" in text
    assert "# workload.move must be replaced" in text
    assert '~ region        = "us-east-1" -> "us-west-2"  # forces replacement' in text
    assert "# workload.gone will be destroyed" in text
    assert "# workload.api will be updated in-place" in text
    assert "(sensitive value)" in text and "s3cret" not in text
    assert "(known after apply)" in text
    assert "unchanged attributes hidden)" in text
    assert "Objects have changed outside of skyplan" in text
    assert "workload.train: aws/us-west-2/us-west-2b p5.48xlarge H100:8 spot x1 $37.85/h" in text
    last = text.strip().splitlines()[-1]
    # jobs are estimated over their duration (1 h when none is declared), the service over a month
    assert last == ("Plan: 2 to add, 1 to change, 2 to destroy. Cost: $164.80/h -> $158.10/h; estimated "
                    "$30,199.60 -> $30,192.90 over the workloads' durations (services: 730 h/month).")
    assert "\x1b[" not in text and "\x1b[32m  + workload" in render_text(mixed_plan(), color=True)
    marks = dict((t.strip(), m) for m, t in render_lines(mixed_plan()))
    assert marks['# workload.train will be created'] == "#" and marks['+ workload "train" {'] == "+"
    assert marks['-/+ workload "move" {'] == "-/+" and marks['- workload "gone" {'] == "-"


def test_summary_line_matches_the_issue_example():
    p = plan(graph(), solution(), snapshot(), None, PlanOptions())
    import dataclasses

    p = dataclasses.replace(p, cost_before=41.20, cost_after=37.85, estimated_before=30076.0, estimated_after=27630.5)
    assert summary_line(p).endswith("Cost: $41.20/h -> $37.85/h; estimated $30,076.00 -> $27,630.50 over the "
                                    "workloads' durations (services: 730 h/month).")


def test_no_changes_message():
    w = workload("a")
    p = plan(graph(w), solution(wplace("workload.a", P1, kept=True)), snapshot(record(w, P1)), None, PlanOptions())
    assert render_text(p).startswith("No changes. Your infrastructure matches the configuration.")


def test_json_is_valid_against_the_schema_and_terraform_shaped():
    doc = json.loads(render_json(mixed_plan()))
    jsonschema.validate(doc, SCHEMA)
    rc = {r["address"]: r for r in doc["resource_changes"]}
    assert rc["workload.move"]["change"]["actions"] == ["delete", "create"]
    assert rc["workload.move"]["action_reason"] == "replace_because_placement_changed"
    assert rc["workload.train"]["change"]["after"]["env"]["TOKEN"] is None
    assert rc["workload.train"]["change"]["after_sensitive"] == {"env": {"TOKEN": True}}
    assert rc["workload.train"]["change"]["after_unknown"]["instances"] is True
    assert rc["workload.gone"]["change"]["after"] is None
    assert doc["cost"]["hourly_before"] == pytest.approx(164.8)
    assert doc["resource_drift"][0]["paths"] == ["tags.owner"]
    assert doc["applyable"] is True and doc["errored"] is False
    assert {p["address"] for p in doc["placements"]} == {"workload.keep", "workload.move", "workload.train",
                                                          "workload.api"}
    assert "s3cret" not in render_json(mixed_plan())


def test_json_for_an_empty_plan_is_valid():
    doc = json.loads(render_json(plan(graph(), solution(), snapshot(), None, PlanOptions())))
    jsonschema.validate(doc, SCHEMA)
    assert doc["applyable"] is False


def test_markdown_comment_parts():
    md = render_markdown(mixed_plan())
    assert md.startswith("<!-- skyplan-plan -->\n### skyplan plan: 2 to add, 1 to change, 2 to destroy")
    assert "| `workload.move` | `-/+` replace" in md
    assert "aws/us-east-1/us-east-1a p5.48xlarge spot → aws/us-west-2/us-west-2b p5.48xlarge spot" in md
    assert "$41.20 → $37.85" in md
    assert "> [!WARNING]" in md and "**destroys** 1" in md
    assert "<details>" in md and "```diff" in md
    assert "estimated $30,199.60 → $30,192.90 over the workloads' durations (services: 730 h/month): -$6.70" in md


def _large_plan(n: int):
    ws = [workload("w", key=i, env={f"K{j}": "v" * 40 for j in range(8)}) for i in range(n)]
    sol = solution(*(wplace(str(w.address), P1, fallbacks=(P2,)) for w in ws))
    return plan(graph(*ws), sol, snapshot(), None, PlanOptions(), created_at="2026-11-28T12:00:00+00:00")


def test_markdown_truncation_keeps_head_tail_and_structure():
    from markdown_it import MarkdownIt

    p = _large_plan(400)
    full = render_text(p)
    assert len(full) > MAX_CHARS
    md = render_markdown(p)
    assert len(md) <= MAX_CHARS
    assert "cut to fit the comment limit" in md
    assert "# workload.w[0] will be created" in md  # head
    assert md.rstrip().endswith("</details>")
    assert "Plan: 400 to add, 0 to change, 0 to destroy." in md  # tail line kept
    html = MarkdownIt("commonmark").enable("table").render(md)
    assert html.count("<table>") == 1 and html.count("</table>") == 1
    assert html.count('<code class="language-diff">') == 1 and html.count("</code></pre>") == 1
    assert html.count("<details>") == 1 and "</details>" in html
    # Nothing after the code block leaked out of it: the summary line is inside it.
    code = html.split('<code class="language-diff">', 1)[1].split("</code></pre>", 1)[0]
    assert "Plan: 400 to add" in code and "cut to fit the comment limit" in code


def test_markdown_with_a_small_cap_still_closes_everything():
    from markdown_it import MarkdownIt

    md = render_markdown(_large_plan(50), max_chars=8_000)
    assert len(md) <= 8_000
    html = MarkdownIt("commonmark").enable("table").render(md)
    assert html.count("<pre>") == html.count("</pre>") == 1


@pytest.mark.parametrize("destroy", [True, False], ids=["destroy-plan", "removed-from-config"])
def test_deleting_a_resource_keeps_its_sensitive_values_hidden(tmp_path, destroy):
    """A destroy plan (config still declares it) and a removal (config no longer
    does) both show the recorded sensitive values as such, in every format."""
    from skyplan.state import StateStore

    w = workload("train", env={"TOKEN": "s3cret", "MODE": "fast"}, sensitive_paths=("env.TOKEN",))
    with StateStore.open(tmp_path / "state.db") as store:
        store.record(record(w, P1), action="create", sensitive_paths=("env.TOKEN",))
        prior = store.snapshot()
    desired = graph(w) if destroy else graph()
    p = plan(desired, solution(), prior, None, PlanOptions(destroy=destroy))
    assert [c.action.value for c in p.changes] == ["delete"]
    text = render_text(p)
    assert "- TOKEN = (sensitive value) -> null" in text and '- MODE  = "fast" -> null' in text
    for out in (text, render_json(p), render_markdown(p)):
        assert "s3cret" not in out
    doc = json.loads(render_json(p))
    jsonschema.validate(doc, SCHEMA)
    assert doc["resource_changes"][0]["change"]["before_sensitive"] == {"env": {"TOKEN": True}}


def test_targeted_plan_warns_that_it_may_be_incomplete():
    a, b = workload("a"), workload("b")
    sol = solution(wplace("workload.a", P1), wplace("workload.b", P1))
    targeted = render_text(plan(graph(a, b), sol, snapshot(), None, PlanOptions(targets=("workload.a",))))
    assert "Warning: Resource targeting is in effect" in targeted
    assert targeted.index("Plan: 1 to add") < targeted.index("Warning: Resource targeting")
    assert "targeting" not in render_text(plan(graph(a, b), sol, snapshot(), None, PlanOptions()))


def test_a_sensitive_key_with_a_dot_is_hidden_and_journaled_redacted(tmp_path):
    from skyplan.state import StateStore
    from skyplan.state.redact import paths_from_tree

    w = workload("train", env={"MY.TOKEN": "s3cret", "OK": "1"}, sensitive_paths=('env["MY.TOKEN"]',))
    p = plan(graph(w), solution(wplace("workload.train", P1)), snapshot(), None, PlanOptions())
    assert p.changes[0].after_sensitive == {"env": {"MY.TOKEN": True}}
    assert "s3cret" not in render_text(p) and "s3cret" not in render_json(p)
    with StateStore.open(tmp_path / "state.db") as store:  # what apply hands the store
        store.record(record(w, P1), action="create", sensitive_paths=paths_from_tree(p.changes[0].after_sensitive))
        assert "s3cret" not in json.dumps(store.history())


def test_an_empty_destroy_plan_says_nothing_needs_destroying():
    text = render_text(plan(graph(workload("a")), solution(), snapshot(), None, PlanOptions(destroy=True)))
    assert text.startswith("No changes. No objects need to be destroyed.")

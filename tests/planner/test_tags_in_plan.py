"""Each created or updated object's tags (its own over its provider's default_tags)
are in the text plan, the JSON plan (``tags_all``, valid against the schema), the
Markdown and the plan file; a tag change is an in-place update."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import jsonschema

from skyplan.config.model import ProviderConfig
from skyplan.planner import Action, PlanOptions, plan
from skyplan.planner.planfile import change_from_json, change_to_json
from skyplan.planner.render_json import render_json
from skyplan.planner.render_markdown import render_markdown
from skyplan.planner.render_text import render_text
from tests.planner.builders import graph, place, record, snapshot, solution, workload, wplace

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "plan.schema.json").read_text())
P = place(price=41.20)


def _graph(*ws):
    g = graph(*ws)
    aws = ProviderConfig("aws", regions=("us-east-1",), settings={"default_tags": {"cost_center": "ml-42",
                                                                                   "team": "platform"}})
    return replace(g, providers={**g.providers, "aws": aws})


def _tag_change_plan():
    old = workload("api", kind="service", tags={"team": "vision", "owner": "ana"})
    new = workload("api", kind="service", tags={"team": "nlp"})
    fresh = workload("train", tags={"stage": "dev"})
    return plan(_graph(new, fresh), solution(wplace("workload.api", P, kept=True), wplace("workload.train", P)),
                snapshot(record(old, P)), None, PlanOptions())


def test_a_tag_change_is_an_in_place_update_showing_the_merged_tags():
    p = _tag_change_plan()
    changes = {c.address: c for c in p.changes}
    api, train = changes["workload.api"], changes["workload.train"]
    assert api.action is Action.UPDATE
    assert api.tags_before == {"cost_center": "ml-42", "team": "vision", "owner": "ana"}
    assert api.tags_after == {"cost_center": "ml-42", "team": "nlp"}
    assert train.action is Action.CREATE and train.tags_after == {"cost_center": "ml-42", "team": "platform",
                                                                  "stage": "dev"}
    text = render_text(p)
    api_block = text.split("# workload.api")[1].split("# workload.train")[0]
    assert "~ tags_all        = {" in api_block and '- owner       = "ana" -> null' in api_block
    assert '~ team        = "vision" -> "nlp"' in api_block and "(1 unchanged attribute hidden)" in api_block
    train_block = text.split("# workload.train")[1]
    assert "+ tags_all        = {" in train_block and '+ team        = "platform"' in train_block
    assert "0 to add" not in text and "1 to add, 1 to change, 0 to destroy" in text


def test_json_markdown_and_plan_file_carry_the_merged_tags():
    p = _tag_change_plan()
    doc = json.loads(render_json(p))
    jsonschema.validate(doc, SCHEMA)
    rc = {r["address"]: r["change"] for r in doc["resource_changes"]}
    assert rc["workload.api"]["before"]["tags_all"]["owner"] == "ana"
    assert rc["workload.api"]["after"]["tags_all"] == {"cost_center": "ml-42", "team": "nlp"}
    assert rc["workload.train"]["after"]["tags_all"]["team"] == "platform"
    bad = json.loads(render_json(p))
    bad["resource_changes"][0]["change"]["after"]["tags_all"] = {"team": 1}
    try:
        jsonschema.validate(bad, SCHEMA)
    except jsonschema.ValidationError:
        pass
    else:
        raise AssertionError("a tag value that is not a string passed the schema")
    md = render_markdown(p)
    assert "tags_all" in md and '"nlp"' in md
    for c in p.changes:
        assert change_from_json(json.loads(json.dumps(change_to_json(c)))).tags_after == c.tags_after

"""The spread over providers and the single-cloud comparison in every plan format."""

from __future__ import annotations

import json
from dataclasses import replace

import jsonschema

from skyplan.planner import PlanOptions, plan
from skyplan.planner.planfile import plan_from_json, plan_to_json
from skyplan.planner.render_cost import short
from skyplan.planner.render_json import render_json
from skyplan.planner.render_markdown import render_markdown
from skyplan.planner.render_text import render_text
from skyplan.solver.model import CloudPlan, SingleCloudComparison
from tests.planner.builders import graph, place, snapshot, solution, workload, wplace
from tests.planner.test_render import SCHEMA

TRAIN = place(price=50.0, pricing="on_demand")
API = place(provider="gcp", region="us-central1", zone="us-central1-a", itype="g2-standard-8", price=0.85,
            pricing="on_demand", accelerators="L4:1")


def _plan(comparison):
    sol = replace(solution(wplace("workload.train", TRAIN), wplace("workload.api", API)), total_cost=670.5,
                  single_cloud=comparison)
    return plan(graph(workload("train"), workload("api")), sol, snapshot(), None, PlanOptions())


def test_spread_and_cheapest_single_cloud_plan_in_text_markdown_and_json():
    cmp_ = SingleCloudComparison(50.85, 670.5, ("aws", "gcp"), (
        CloudPlan("aws", 51.2, 700.0, "optimal"),
        CloudPlan("gcp", 60.9, 750.0, "optimal"),
        CloudPlan("azure", None, None, "infeasible", "workload.api: no offer has L4:1; more text"),
    ))
    p = _plan(cmp_)
    text = render_text(p)
    assert "Spread across providers:\n  aws: 1 group, 1 node(s), $50.00/h\n  gcp: 1 group, 1 node(s), $0.85/h" in text
    assert "  this plan (aws + gcp): $50.85/h, est. $670.50 over the workloads' durations" in text
    assert "  aws only: $51.20/h, est. $700.00\n  gcp only: $60.90/h, est. $750.00" in text
    assert "  azure only: not feasible: workload.api: no offer has L4:1\n" in text
    assert "vs cheapest single-cloud plan: $700.00 on aws ($51.20/h); this plan saves $29.50 (4.2%)." in text
    md = render_markdown(p)
    assert "Spread across providers: aws 1 group $50.00/h, gcp 1 group $0.85/h" in md
    assert "**vs cheapest single-cloud plan: $700.00 on aws ($51.20/h); this plan saves $29.50 (4.2%).**" in md
    doc = json.loads(render_json(p))
    jsonschema.validate(doc, SCHEMA)
    cost = doc["cost"]
    assert [(r["provider"], r["groups"], r["hourly_cost"]) for r in cost["by_provider"]] == \
        [("aws", 1, 50.0), ("gcp", 1, 0.85)]
    sc = cost["single_cloud"]
    assert (sc["best"], sc["saving"], sc["clouds_used"]) == ("aws", 29.5, ["aws", "gcp"])
    assert sc["plans"][2] == {"cloud": "azure", "hourly_cost": None, "total_cost": None, "status": "infeasible",
                              "reason": "workload.api: no offer has L4:1; more text"}
    # a saved plan shows the same figures
    again = plan_from_json(json.loads(json.dumps(plan_to_json(p))))
    assert render_text(again) == text


def test_no_single_cloud_plan_and_a_plan_that_costs_more():
    none = SingleCloudComparison(50.85, 670.5, ("aws", "gcp"), (
        CloudPlan("aws", None, None, "infeasible", "workload.api: no option"),
        CloudPlan("gcp", None, None, "infeasible", "workload.train: no option")))
    text = render_text(_plan(none))
    assert "vs cheapest single-cloud plan: not feasible on one cloud." in text
    doc = json.loads(render_json(_plan(none)))
    jsonschema.validate(doc, SCHEMA)
    assert doc["cost"]["single_cloud"]["best"] is None
    dearer = SingleCloudComparison(50.85, 670.5, ("aws", "gcp"), (CloudPlan("aws", 50.0, 600.0, "feasible"),))
    text = render_text(_plan(dearer))
    assert "  aws only: $50.00/h, est. $600.00 (best found within the time limit)" in text
    assert "this plan costs $70.50 (11.8%) more." in text


def test_one_cloud_shows_neither_section():
    sol = solution(wplace("workload.train", TRAIN))
    p = plan(graph(workload("train")), sol, snapshot(), None, PlanOptions())
    text = render_text(p)
    assert "Spread across providers" not in text and "single-cloud" not in text
    doc = json.loads(render_json(p))
    jsonschema.validate(doc, SCHEMA)
    cost = doc["cost"]
    assert cost["single_cloud"] is None and cost["by_provider"][0]["provider"] == "aws"


def test_long_reasons_are_cut_to_their_first_clause():
    assert short("quota aws vcpus allows 448 vcpus but at least 472 are needed: workload.api (8 vcpus), "
                 + "x" * 200) == "quota aws vcpus allows 448 vcpus but at least 472 are needed"
    assert short("a; b") == "a"
    assert len(short("y" * 300)) == 140

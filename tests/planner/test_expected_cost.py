"""Plans price finite jobs over their duration_hours and services per month, with the
same total ``optimize`` prints, in text, Markdown and JSON (not every job per month)."""

from __future__ import annotations

import json
import re

from tests.apply.clirun import REPO
from tests.examples import copy_example
from tests.planner.cli_runner import run_cli


def _optimize_total(folder) -> str:
    r = run_cli("optimize", str(folder))
    assert r.returncode == 0, r.stderr
    return re.search(r"estimated (\$[\d,.]+) over the workloads' durations", r.stdout).group(1)


def test_plan_text_markdown_and_json_show_the_optimize_total(tmp_path):
    d = copy_example("multinode-spot-training", tmp_path / "m")
    total = _optimize_total(d)
    text = run_cli("plan", "-refresh=false", str(d))
    assert text.returncode == 0, text.stderr
    last = text.stdout.strip().splitlines()[-1]
    assert f"estimated $0.00 -> {total} over the workloads' durations" in last, last
    assert "/month" not in last.split("(")[0]  # 48 h and 2 h jobs are not priced per month
    md = run_cli("plan", "-refresh=false", "--format", "markdown", str(d))
    assert f"estimated $0.00 → {total}" in md.stdout, md.stdout[:800]
    doc = json.loads(run_cli("plan", "-refresh=false", "--json", str(d)).stdout)
    cost = doc["cost"]
    assert f"${cost['estimated_after']:,.2f}" == total
    assert cost["estimated_before"] == 0 and cost["estimated_delta"] == cost["estimated_after"]
    assert cost["hourly_after"] > 0


def test_services_are_estimated_per_month(tmp_path):
    (tmp_path / "main.sky.hcl").write_text(
        'provider "aws" { regions = ["us-east-1"] }\n'
        'workload "api" {\n  kind = "service"\n  resources { cpus = 2 }\n}\n'
        'workload "job" {\n  resources { cpus = 2 }\n  duration_hours = 10\n}\n')
    doc = json.loads(run_cli("plan", "-refresh=false", "--json", str(tmp_path)).stdout)
    per_hour = {p["address"]: p["hourly_cost"] for p in doc["placements"]}
    expected = per_hour["workload.api"] * 730 + per_hour["workload.job"] * 10
    assert abs(doc["cost"]["estimated_after"] - expected) < 0.01
    assert _optimize_total(tmp_path) == f"${doc['cost']['estimated_after']:,.2f}"

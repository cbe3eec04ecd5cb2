"""Incremental re-plan through the workflow: a plan keeps the placements it solved
in state, the next plan of a config where one workload changed keeps the others
without solving them again, and plans exactly what a plan from scratch plans."""

from __future__ import annotations

import json
from pathlib import Path

CATALOG = Path(__file__).resolve().parents[1] / "cases" / "planner" / "catalog.csv"

CONFIG = """
provider "aws" {
  regions = ["us-east-1", "us-west-2"]
}
provider "gcp" {
  regions = ["us-central1"]
}
workload "prepare" {
  kind = "job"
  resources {
    cpus = "2+"
  }
  run = "python prep.py"
}
workload "train" {
  kind = "job"
  resources {
    accelerators = ["L4:1"]
  }
  duration_hours = HOURS
  run = "python train.py"
}
workload "serve" {
  kind     = "service"
  replicas = 2
  resources {
    cpus = "4+"
  }
  placement {
    spread = "region"
  }
  run = "python serve.py"
}
"""


def _plan(folder: Path, hours: int, **kw):
    from skyplan import workflow
    from skyplan.planner.options import PlanOptions

    (folder / "main.sky.hcl").write_text(CONFIG.replace("HOURS", str(hours)))
    return workflow.make_plan(folder, PlanOptions(refresh=False, catalog=str(CATALOG)), **kw)


def test_a_plan_after_a_one_workload_change_keeps_the_others_and_matches_a_fresh_plan(tmp_path):
    from skyplan.planner.render_json import render_json

    (tmp_path / "team").mkdir()
    first = _plan(tmp_path / "team", 2, create_state=True)
    assert first.solution.reused == 0
    assert first.store.placement_memo() == first.solution.memo != {}
    first.store.close()

    again = _plan(tmp_path / "team", 5)
    again.store.close()
    assert again.solution.reused == 2  # prepare and serve: unchanged; train was solved again
    assert again.plan.solver["reused"] == 2

    (tmp_path / "fresh").mkdir()
    fresh = _plan(tmp_path / "fresh", 5)
    assert fresh.store is None and fresh.solution.reused == 0
    assert dict(again.solution.placements) == dict(fresh.solution.placements)
    assert again.solution.single_cloud == fresh.solution.single_cloud
    kept, full = json.loads(render_json(again.plan)), json.loads(render_json(fresh.plan))
    for doc in (kept, full):
        doc.pop("created_at", None)
        doc.pop("lineage", None)  # the fresh folder has no state yet
        doc.get("solver", {}).pop("seconds", None)
        doc.get("solver", {}).pop("reused", None)
    assert kept == full

"""Every module in modules/ is validated and planned against the built-in catalog,
called the way its README shows; the module-library example plans too."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from skyplan.config import load
from tests.planner.cli_runner import run_cli

REPO = Path(__file__).resolve().parents[2]
LIBRARY = sorted(p.name for p in (REPO / "modules").iterdir() if p.is_dir())

CALLS = {
    "llm-finetune": ('model = "Qwen/Qwen2.5-7B"\n  checkpoint_uri = "s3://b/ckpt"\n  num_nodes = 2\n'
                     '  accelerators = ["A100-80GB:8", "H100:8"]\n  max_hourly_cost = 200',
                     {"module.m.workload.train"}),
    "vllm-serve": ('model = "Qwen/Qwen2.5-7B-Instruct"\n  replicas = 2', {"module.m.workload.api"}),
    "batch-inference": ('model = "m"\n  datasets = { a = "s3://b/a" }\n  shards = 2',
                        {'module.m.workload.prepare["a"]', 'module.m.module.shards["a"].workload.shard[0]',
                         'module.m.module.shards["a"].workload.shard[1]'}),
    "dev-box": ("", {"module.m.workload.box"}),
}


def test_every_library_module_has_a_call_and_a_readme():
    assert sorted(CALLS) == LIBRARY
    for name in LIBRARY:
        text = (REPO / "modules" / name / "README.md").read_text()
        assert "## Inputs" in text and "## Outputs" in text and f"modules/{name}" in text


@pytest.mark.parametrize("name", LIBRARY)
def test_library_module_plans_against_the_built_in_catalog(tmp_path, name):
    shutil.copytree(REPO / "modules", tmp_path / "modules")
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    inputs, want = CALLS[name]
    (cfg / "main.sky.hcl").write_text('provider "aws" {\n  regions = ["us-east-1", "us-west-2"]\n}\n'
                                      f'module "m" {{\n  source = "../modules/{name}"\n  {inputs}\n}}\n')
    assert set(load(cfg).workloads) == want
    out = run_cli("plan", "-refresh=false", "--json", str(cfg), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    changes = json.loads(out.stdout)["resource_changes"]
    assert {c["address"] for c in changes} == want
    assert all(c["change"]["actions"] == ["create"] for c in changes)


def test_the_module_library_example_plans(tmp_path):
    shutil.copytree(REPO / "modules", tmp_path / "modules")
    shutil.copytree(REPO / "examples" / "module-library", tmp_path / "examples" / "module-library")
    out = run_cli("plan", "-refresh=false", "--json", "examples/module-library", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    addrs = {c["address"] for c in json.loads(out.stdout)["resource_changes"]}
    assert {'module.serve["qwen"].workload.api', 'module.serve["mistral"].workload.api',
            'module.batch.module.shards["tickets"].workload.shard[2]', "module.dev.workload.box"} <= addrs


def test_llm_finetune_is_spot_first_and_resumable():
    g = load(REPO / "examples" / "module-library")
    w = g.workloads["module.finetune.workload.train"]
    assert w.pricing == ("spot", "on_demand") and w.num_nodes == 2 and w.max_hourly_cost == 200
    assert w.env["CHECKPOINT_URI"] == "s3://my-bucket/qwen-7b" and "resume" in w.env["RESUME_CMD"]


def test_dev_box_stops_itself_after_its_autostop_window(tmp_path):
    shutil.copytree(REPO / "modules", tmp_path / "modules")
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    call = 'provider "aws" {\n  regions = ["us-east-1"]\n}\nmodule "m" {\n  source = "../modules/dev-box"\n%s}\n'
    (cfg / "main.sky.hcl").write_text(call % "")
    assert load(cfg).workloads["module.m.workload.box"].autostop == "2h"
    (cfg / "main.sky.hcl").write_text(call % '  autostop = "30m"\n')
    assert load(cfg).workloads["module.m.workload.box"].attributes()["autostop"] == "30m"
    (cfg / "main.sky.hcl").write_text(call % '  autostop = "soon"\n')
    out = run_cli("validate", str(cfg), cwd=tmp_path)
    assert out.returncode == 1 and 'autostop = "soon" is not an idle time' in out.stderr

"""Candidate generation split over two processes gives the placements, costs,
fallbacks and candidate tables of the serial run, on a config of distinct
workloads over the built-in catalog (enough of them to split)."""

from __future__ import annotations

import json
import random

import pytest

from skyplan import forked, workflow
from skyplan.commands.solver_cmds import to_json
from skyplan.solver import SolveOptions, build_problem, solve

pytestmark = pytest.mark.skipif(not forked.enabled(), reason="splitting needs Linux and a second core")

ACCS = ["H100:8", "A100:8", "L4:1", "L4:4", "T4:1", "A10G:1", "V100:8", None, None, None]  # all sold on aws
REGIONS = {"aws": {"us-*", "eu-*", "ap-*", "us-east-1"}, "gcp": {"us-*", "europe-*", "asia-*", "us-central1"},
           "azure": {"eastus*", "westeurope", "westus*"}}


def _config(n: int, seed: int) -> str:
    rng = random.Random(seed)
    out = ['provider "aws" {}', 'provider "gcp" {}', 'provider "azure" {}',
           'provider "aws" {\n  alias = "team"\n  quota {\n    accelerator = "H100"\n    max = 64\n  }\n'
           '  quota {\n    vcpus = 2000\n  }\n}']
    for i in range(n):
        acc = rng.choice(ACCS)
        res = [f'accelerators = ["{acc}"]'] if acc else []
        res.append(f'cpus = "{rng.choice([2, 4, 8] if acc else [2, 4, 8, 16, 32])}+"')
        if rng.random() < 0.5:
            res.append(f'memory = "{rng.choice([8, 16, 32] if acc else [8, 16, 32, 64, 128])}+"')
        # aws sells every shape asked for; the others and the quota'd team account may add cheaper ones
        providers = ["aws"] + rng.sample(["gcp", "azure", "aws.team"], rng.randint(0, 2))
        pricing = rng.choice([["on_demand"], ["spot"], ["spot", "on_demand"]])
        kind = rng.choice(["job", "job", "service"])
        lines = [f'workload "w{i}" {{', f'  kind = "{kind}"']
        if kind == "job":
            lines.append(f"  duration_hours = {rng.randint(1, 48)}")
        else:
            lines.append(f"  replicas = {rng.choice([1, 2, 3])}")
        lines += ["  pricing = " + json.dumps(pricing), "  resources {"] + [f"    {r}" for r in res] + ["  }",
                  "  placement {", "    providers = " + json.dumps(providers)]
        common = sorted(set.intersection(*(REGIONS[p.split(".")[0]] for p in providers)))
        if common:  # a region pattern must name regions of every provider the workload allows
            lines.append("    regions = " + json.dumps(rng.sample(common, rng.randint(1, len(common)))))
        if kind == "service" and rng.random() < 0.5:
            lines.append('    spread = "zone"')
        lines += ["  }", "}"]
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def _optimize(folder) -> dict:
    graph = workflow.load_config(folder, {}, [])
    offers, info = workflow.build_offers(graph, None, store=None, live=False)
    return to_json(solve(build_problem(graph, offers, None, SolveOptions())), info)


@pytest.mark.slow
def test_split_candidates_give_the_serial_answer(tmp_path, monkeypatch):
    (tmp_path / "main.sky.hcl").write_text(_config(forked.LEAST_TASKS + 40, seed=11))
    split = _optimize(tmp_path)
    monkeypatch.setenv("SKYPLAN_PARALLEL", "0")
    serial = _optimize(tmp_path)
    for doc in (split, serial):
        doc.pop("solve_seconds")
    assert len(serial["placements"]) == forked.LEAST_TASKS + 40
    assert split == serial

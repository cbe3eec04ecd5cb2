"""A preview needs no credentials: ``plan -refresh=false`` and ``optimize`` contact no
provider. A Kubernetes cluster is priced from an existing fleet's declared capacity,
else from the node inventory state recorded at the last live read (its date shown),
else the plan names the provider it could not price and what fixes it. Run with no
kubeconfig and no cloud credentials at all."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.apply.clirun import REPO, skyplan_argv
from tests.examples import copy_example
from tests.planner.cli_runner import run_cli

FLEET = '''
provider "kubernetes" {
  context = "onprem"
}

fleet "onprem" {
  provider = "kubernetes"
  existing = true
  capacity {
    accelerator = "A100"
    per_node    = 8
    nodes       = 2
  }
}

workload "train" {
  resources {
    accelerators = ["A100:8"]
  }
  duration_hours = 4
  run            = "python train.py"
}
'''

CLUSTER_ONLY = '''
provider "kubernetes" {
  kubeconfig = "%s"
}

workload "train" {
  resources {
    accelerators = ["H100:8"]
  }
  run = "python train.py"
}
'''


def no_credentials(tmp_path) -> dict:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "KUBECONFIG", "GOOGLE_", "AZURE_"))}
    env.update(HOME=str(home), KUBECONFIG=str(home / "missing-kubeconfig"), AWS_EC2_METADATA_DISABLED="true",
               NO_COLOR="1", PYTHONPATH=str(REPO), SKYPLAN_CACHE_DIR=str(tmp_path / "cache"))
    return env


def skyplan(env, *args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(skyplan_argv() + list(args), capture_output=True, text=True, env=env, cwd=cwd,
                          stdin=subprocess.DEVNULL, timeout=120)


def test_fleet_capacity_prices_the_cluster_without_a_kubeconfig(tmp_path):
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "main.sky.hcl").write_text(FLEET)
    env = no_credentials(tmp_path)
    plan = skyplan(env, "plan", "-refresh=false", str(cfg))
    assert plan.returncode == 0, plan.stderr
    assert "workload.train: kubernetes/- fleet:onprem A100:8" in plan.stdout
    assert "Prices: kubernetes: from the declared capacity of fleet.onprem" in plan.stdout
    opt = skyplan(env, "optimize", str(cfg))
    assert opt.returncode == 0, opt.stderr
    assert "fleet:onprem" in opt.stdout and "declared capacity of fleet.onprem" in opt.stdout
    doc = json.loads(skyplan(env, "plan", "-refresh=false", "--json", str(cfg)).stdout)
    assert doc["catalog"]["providers"]["kubernetes"].startswith("kubernetes: from the declared capacity")


def test_unpriced_cluster_is_named_with_the_setting_that_fixes_it(tmp_path):
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "main.sky.hcl").write_text(CLUSTER_ONLY % (tmp_path / "missing"))
    env = no_credentials(tmp_path)
    for args in (("plan", "-refresh=false"), ("optimize",)):
        r = skyplan(env, *args, str(cfg))
        assert r.returncode == 1
        assert "kubernetes could not be priced without contacting the cluster" in r.stderr, r.stderr
        assert 'existing = true, capacity' in r.stderr and "with refresh" in r.stderr
        assert "credentials" not in r.stderr and "Traceback" not in r.stderr
    # another provider can still place the workload; the plan warns about the cluster
    (cfg / "main.sky.hcl").write_text(CLUSTER_ONLY % (tmp_path / "missing") + 'provider "aws" {}\n')
    r = skyplan(env, "plan", "-refresh=false", str(cfg))
    assert r.returncode == 0, r.stderr
    assert "Warning: kubernetes could not be priced" in r.stdout and "workload.train: aws/" in r.stdout


@pytest.mark.slow
def test_inventory_recorded_at_the_last_live_read_prices_a_later_preview(tmp_path, k8s, monkeypatch):
    from skyplan.state import StateStore

    kubeconfig = k8s.kubeconfig(tmp_path / "kubeconfig")
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "main.sky.hcl").write_text(CLUSTER_ONLY % kubeconfig)
    StateStore.open(cfg / ".skyplan" / "state.db").close()
    live = run_cli("plan", str(cfg))  # reads the cluster's nodes and records them in state
    assert live.returncode == 0, live.stderr
    assert "workload.train: kubernetes/emulator/rack-1 gpu-a H100:8" in live.stdout
    with StateStore.open(cfg / ".skyplan" / "state.db") as store:
        [row] = [r for r in store.history() if r["action"] == "inventory"]
        serial = store.serial
    assert row["address"] == "provider.kubernetes" and serial == 0  # no resource, no serial changed
    assert run_cli("plan", str(cfg)).returncode == 0
    with StateStore.open(cfg / ".skyplan" / "state.db") as store:  # an unchanged inventory is not recorded again
        assert len([r for r in store.history() if r["action"] == "inventory"]) == 1

    os.unlink(kubeconfig)
    k8s.requests.clear()
    env = no_credentials(tmp_path)
    plan = skyplan(env, "plan", "-refresh=false", str(cfg))
    assert plan.returncode == 0, plan.stderr
    assert "workload.train: kubernetes/emulator/rack-1 gpu-a H100:8" in plan.stdout
    assert f"Prices: kubernetes: from the node inventory recorded in state at {row['at']}" in plan.stdout
    opt = skyplan(env, "optimize", str(cfg))
    assert opt.returncode == 0 and "recorded in state at" in opt.stdout, opt.stderr
    assert k8s.requests == []  # nothing contacted the cluster


def test_optimize_json_does_not_name_one_region_for_groups_in_several(tmp_path):
    cfg = copy_example("inference-service", tmp_path / "svc")
    r = skyplan(no_credentials(tmp_path), "optimize", "--json", str(cfg))
    assert r.returncode == 0, r.stderr
    [api] = [p for p in json.loads(r.stdout)["placements"] if p["address"] == "workload.api"]
    regions = {g["chosen"]["region"] if "chosen" in g else g["region"] for g in api["groups"]}
    assert len(regions) == 3
    assert api["region"] is None and api["regions"] == sorted(regions)
    assert api["fallbacks"] == []  # each group lists its own

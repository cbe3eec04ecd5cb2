"""examples/multicloud planned with no credentials at all: `skyplan plan -refresh=false`
shows the spread over AWS, GCP, Azure and the Kubernetes fleet, and the cost against
the cheapest single-cloud plan."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from tests.planner.cli_runner import run_cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "multicloud"
CREDENTIAL_PREFIXES = ("AWS_", "AZURE_", "GOOGLE_", "CLOUDSDK_", "GCLOUD_", "ARM_", "MSI_", "IDENTITY_")


@pytest.fixture
def no_credentials(tmp_path, monkeypatch):
    """An environment with no cloud or cluster credentials and no catalog cache."""
    for name in list(os.environ):
        if name.startswith(CREDENTIAL_PREFIXES) or name in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SKYPLAN_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "multicloud"
    shutil.copytree(EXAMPLE, folder)
    return folder


def _plan(folder: Path, *extra: str):
    ran = run_cli("plan", "-refresh=false", *extra, str(folder))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert not (folder / ".skyplan").exists()  # a preview writes no state
    return ran.stdout


def test_plan_without_credentials_shows_the_spread_and_the_single_cloud_comparison(no_credentials):
    text = _plan(no_credentials)
    spread = text.split("Spread across providers:\n", 1)[1].split("\n\n", 1)[0]
    assert [line.split(":")[0].strip() for line in spread.splitlines()] == \
        ["aws", "azure", "gcp", "kubernetes (fleet.lab)"]
    assert "workload.train: aws/" in text  # the cheapest H100s, within the AWS GPU quota
    assert "  aws only: not feasible: quota aws vcpus allows 448 vcpus" in text
    verdict = re.search(r"vs cheapest single-cloud plan: \$([\d,.]+) on (\w+) \(\$[\d,.]+/h\); "
                        r"this plan saves \$([\d,.]+) \(([\d.]+)%\)\.", text)
    assert verdict, text
    assert verdict.group(2) == "gcp"

    doc = json.loads(_plan(no_credentials, "--format", "json"))
    cost = doc["cost"]
    assert {r["provider"] for r in cost["by_provider"]} == {"aws", "azure", "gcp", "kubernetes"}
    sc = cost["single_cloud"]
    assert sc["clouds_used"] == ["aws", "azure", "gcp"]
    feasible = {p["cloud"]: p["total_cost"] for p in sc["plans"] if p["total_cost"] is not None}
    assert set(feasible) == {"gcp", "azure"} and sc["best"] == min(feasible, key=feasible.get)
    assert sc["saving"] == pytest.approx(feasible["gcp"] - sc["total_cost"], abs=1e-6) and sc["saving"] > 0
    assert float(verdict.group(1).replace(",", "")) == pytest.approx(feasible["gcp"], abs=0.005)
    assert all(sc["total_cost"] <= t for t in feasible.values())  # the spread is never dearer than one cloud
    api = next(p for p in doc["placements"] if p["address"] == "workload.api")
    assert sorted(g["provider"] for g in api["after"]) == ["aws", "azure", "gcp"]

    md = _plan(no_credentials, "--format", "markdown")
    assert "**vs cheapest single-cloud plan: $" in md and "Spread across providers: aws " in md

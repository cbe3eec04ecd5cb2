"""A placement on a provider skyplan can price but not launch is refused before
anything is asked or changed."""

from __future__ import annotations

from pathlib import Path

from tests.apply.clirun import run

CONFIG = """
provider "azure" {
  regions = ["eastus"]
}

workload "t" {
  resources {
    instance_type = "Standard_D4s_v5"
  }
  run = "echo hi"
}
"""


def test_apply_on_a_plan_only_provider_fails_before_the_prompt(tmp_path: Path):
    (tmp_path / "main.sky.hcl").write_text(CONFIG)
    r = run("apply", str(tmp_path))
    assert r.returncode == 1
    assert "cannot launch on azure" in r.stderr and "Traceback" not in r.stderr
    assert "Enter a value" not in r.stdout
    listed = run("state", "list", str(tmp_path))
    assert "workload.t" not in listed.stdout

"""On the local provider: a saved plan whose configuration has a sensitive variable
is applied with the configuration it was made from (here the skyplan block's state
path), its sensitive values kept in the 0600 plan file only; a configuration
changed since the plan is refused."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest

from skyplan.state import StateStore
from tests.apply.clirun import run

CONFIG = """
skyplan {
  state {
    path = "kept/state.db"
  }
}

variable "tok" {
  type      = string
  sensitive = true
}

workload "svc" {
  kind = "service"
  run  = "echo \\"tok=$TOKEN\\" > ../../seen.txt; sleep 60"
  env  = { TOKEN = var.tok }
}
"""

SECRET = "loc4l-secret-e1"


@pytest.mark.slow
def test_saved_plan_with_a_sensitive_variable_uses_its_configuration(tmp_path: Path):
    (tmp_path / "main.sky.hcl").write_text(CONFIG)
    r = run("plan", str(tmp_path), "-var", f"tok={SECRET}", "-out", str(tmp_path / "p.skyplan"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert stat.S_IMODE((tmp_path / "p.skyplan").stat().st_mode) == 0o600
    r = run("apply", str(tmp_path / "p.skyplan"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert SECRET not in r.stdout + r.stderr
    assert (tmp_path / "kept" / "state.db").exists() and not (tmp_path / ".skyplan" / "state.db").exists()
    seen = tmp_path / ".skyplan" / "local" / "seen.txt"
    deadline = time.monotonic() + 20
    while not (seen.exists() and seen.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert seen.read_text().strip() == f"tok={SECRET}"
    with StateStore.open(tmp_path / "kept" / "state.db") as s:
        assert s.get("workload.svc").attributes["env"] == {"TOKEN": SECRET}
    r = run("destroy", str(tmp_path), "-auto-approve", "-var", f"tok={SECRET}")
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_saved_plan_is_refused_once_its_configuration_changed(tmp_path: Path):
    (tmp_path / "main.sky.hcl").write_text(CONFIG)
    r = run("plan", str(tmp_path), "-var", f"tok={SECRET}", "-out", str(tmp_path / "p.skyplan"))
    assert r.returncode == 0, r.stdout + r.stderr
    (tmp_path / "main.sky.hcl").write_text(CONFIG.replace("sleep 60", "sleep 61"))
    r = run("apply", str(tmp_path / "p.skyplan"))
    assert r.returncode == 1 and "configuration changed since this plan was made" in r.stderr, r.stderr
    assert not (tmp_path / "kept").exists() and not (tmp_path / ".skyplan" / "local").exists()

"""``apply -policy-dir DIR``: with a folder it plans within DIR's policies; with a
saved plan file the plan is checked against the policy folders it was made with
and against each DIR given too, never re-solved, and refused when a mandatory
policy fails. Real local-provider processes and a real state file."""

from __future__ import annotations

from pathlib import Path

from skyplan.state.store import StateStore
from tests.planner.cli_runner import run_cli

CONFIG = '''
provider "local" {}

workload "job" {
  run  = "true"
  tags = { team = "vision" }
}
'''


def _setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    cfg, strict, lax = tmp_path / "cfg", tmp_path / "strict", tmp_path / "lax"
    for d in (cfg, strict, lax):
        d.mkdir()
    (cfg / "main.sky.hcl").write_text(CONFIG)
    (strict / "tags.sky.hcl").write_text('policy "cost-center" {\n  require_tags = ["cost_center"]\n}\n')
    (lax / "tags.sky.hcl").write_text('policy "team" {\n  require_tags = ["team"]\n}\n')
    return cfg, strict, lax


def _resources(cfg: Path) -> dict:
    state = cfg / ".skyplan" / "state.db"
    if not state.exists():
        return {}
    with StateStore.open(state) as store:
        return dict(store.snapshot().resources)


def test_apply_of_a_folder_plans_with_the_given_policy_dir(tmp_path):
    cfg, strict, lax = _setup(tmp_path)
    ran = run_cli("apply", "-auto-approve", "-policy-dir", str(strict), str(cfg))
    assert ran.returncode == 1, ran.stdout + ran.stderr
    out = ran.stdout + ran.stderr
    assert "cost-center (mandatory): fail" in out and "Apply refused: mandatory policy fails" in out
    assert _resources(cfg) == {}
    ran = run_cli("apply", "-auto-approve", "-policy-dir", str(lax), str(cfg))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "team (mandatory): pass" in ran.stdout and "workload.job" in _resources(cfg)


def test_a_saved_plan_is_also_checked_against_a_policy_dir_given_at_apply(tmp_path):
    cfg, strict, lax = _setup(tmp_path)
    plan_file = tmp_path / "plan.bin"
    made = run_cli("plan", "-out", str(plan_file), "-policy-dir", str(lax), str(cfg))
    assert made.returncode == 0, made.stdout + made.stderr
    ran = run_cli("apply", "-auto-approve", "-policy-dir", str(strict), str(plan_file), cwd=cfg)
    out = ran.stdout + ran.stderr
    assert ran.returncode == 1 and "Apply refused: mandatory policy fails" in out and "cost-center" in out, out
    assert _resources(cfg) == {}
    # the folder the plan was made with is checked as well (given again or not), and passes
    ran = run_cli("apply", "-auto-approve", "-policy-dir", str(lax), str(plan_file), cwd=cfg)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "workload.job" in _resources(cfg)

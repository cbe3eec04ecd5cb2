"""A job's outcome is what apply reports: a job that fails within the apply is
``failed (exit N)`` with the last lines of its output, exit 1 and a failed count
in the summary; the next plan replaces it ``because it failed`` unless
``lifecycle { retry_failed = false }``. On the local provider through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skyplan.cli import main

BAD = """
workload "bad" {
  kind = "job"
  run  = "echo preparing data; echo 'boom: no such file' >&2; exit 3"
%s
}
"""

NO_RETRY = """  lifecycle {
    retry_failed = false
  }"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def listed(capsys, root: Path) -> dict[str, str]:
    code, out, err = run(capsys, "state", "list", str(root), "--json")
    assert code == 0, out + err
    return {r["address"]: r["status"] for r in json.loads(out)["resources"]}


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "cfg"
    root.mkdir()
    return root


def test_failed_job_is_reported_failed_and_planned_again(root, capsys):
    (root / "main.sky.hcl").write_text(BAD % "")
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    text = out + err
    assert code == 1, text
    assert "failed (exit 3)" in text and "done after" not in text
    assert "boom: no such file" in text and "preparing data" in text  # the last lines of its output
    assert "Apply complete" not in text and "1 failed" in text
    assert listed(capsys, root) == {"workload.bad": "failed"}

    code, out, err = run(capsys, "plan", str(root), "-detailed-exitcode")
    assert code == 2, out + err
    assert "workload.bad" in out and "because it failed" in out and "replace" in out

    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 1 and "failed (exit 3)" in out + err  # it was run again


def test_retry_failed_false_keeps_the_failed_job(root, capsys):
    (root / "main.sky.hcl").write_text(BAD % NO_RETRY)
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 1 and "failed (exit 3)" in out + err
    code, out, err = run(capsys, "plan", str(root), "-detailed-exitcode")
    assert code == 0, out + err
    assert "No changes" in out


def test_a_dependant_of_a_kept_failed_job_is_held_not_planned(root, capsys):
    """With retry_failed = false the failed job stays; apply would skip what depends on
    it, so the plan does not promise it: the dependant is held, and said to be."""
    (root / "main.sky.hcl").write_text(BAD % NO_RETRY + """
workload "report" {
  kind       = "job"
  run        = "echo report"
  depends_on = [workload.bad]
}

workload "publish" {
  kind       = "job"
  run        = "echo publish"
  depends_on = [workload.report]
}
""")
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 1 and "failed (exit 3)" in out + err
    code, out, err = run(capsys, "plan", str(root), "-detailed-exitcode")
    assert code == 0, out + err
    assert "to add" not in out and "+ create" not in out, out
    assert "workload.report is not planned: it depends on workload.bad" in out
    assert "workload.publish is not planned: it depends on workload.bad" in out
    code, out, err = run(capsys, "plan", str(root), "-json")
    held = {c["address"]: c for c in json.loads(out)["resource_changes"] if c["address"] != "workload.bad"}
    assert {a: (c["change"]["actions"], c["held_by"]) for a, c in held.items()} == {
        "workload.report": (["no-op"], "workload.bad"), "workload.publish": (["no-op"], "workload.bad")}
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0 and "Skipped" not in err, out + err
    assert listed(capsys, root) == {"workload.bad": "failed"}


def test_a_job_declared_short_is_waited_for(root, capsys):
    (root / "main.sky.hcl").write_text("""
workload "short" {
  kind           = "job"
  duration_hours = 0.01
  run            = "sleep 1.5; exit 4"
}

workload "ok" {
  kind = "job"
  run  = "echo fine"
}
""")
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 1, out + err
    assert "failed (exit 4)" in out + err
    assert listed(capsys, root) == {"workload.ok": "succeeded", "workload.short": "failed"}


def test_a_dependant_of_a_failed_job_is_skipped_and_both_run_again(root, capsys):
    (root / "main.sky.hcl").write_text("""
workload "prep" {
  kind = "job"
  run  = "sleep 1.2; test -f ok || exit 5"
}

workload "train" {
  kind       = "job"
  run        = "echo trained"
  depends_on = [workload.prep]
}
""")
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 1 and "failed (exit 5)" in out + err  # waited for: something depends on it
    assert "Skipped: workload.train (create)" in err
    for workdir in (root / ".skyplan" / "local").glob("workload.prep/*"):
        (workdir / "ok").write_text("")
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out + err
    assert listed(capsys, root) == {"workload.prep": "succeeded", "workload.train": "succeeded"}
    code, out, err = run(capsys, "plan", str(root), "-detailed-exitcode")
    assert code == 0, out + err


def test_retry_failed_must_be_a_bool(root, capsys):
    (root / "main.sky.hcl").write_text(BAD % NO_RETRY.replace("false", '"no"'))
    code, out, err = run(capsys, "validate", str(root))
    assert code == 1 and "retry_failed" in out + err and "main.sky.hcl:" in out + err

"""What the user reads at the end of a command: apply's ``Outputs:``, where a console
syntax error is, and ``status`` rows that stay within the terminal."""

from __future__ import annotations

import os
import subprocess

from tests.apply.clirun import REPO, env, run, skyplan_argv
from tests.planner.cli_runner import run_cli
from tests.state.conftest import make_record


def test_apply_prints_outputs_at_the_end(tmp_path):
    (tmp_path / "main.sky.hcl").write_text(
        'variable "tok" {\n  default   = "s3cr3t"\n  sensitive = true\n}\n'
        'workload "w" {\n  run = "true"\n}\n'
        'output "kind" { value = workload.w.kind }\n'
        'output "n" { value = 3 }\n'
        'output "tok" {\n  value     = var.tok\n  sensitive = true\n}\n')
    r = run("apply", "--auto-approve", str(tmp_path), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    tail = r.stdout[r.stdout.index("Apply complete!"):]
    assert "\nOutputs:\n\nkind = \"job\"\nn = 3\ntok = <sensitive>\n" in tail
    assert "s3cr3t" not in r.stdout + r.stderr
    again = run("apply", "--auto-approve", str(tmp_path), cwd=tmp_path)  # no changes: outputs still shown
    assert again.returncode == 0 and again.stdout.rstrip().endswith("Outputs:\n\nkind = \"job\"\nn = 3\ntok = <sensitive>")
    gone = run("destroy", "--auto-approve", str(tmp_path), cwd=tmp_path)
    assert gone.returncode == 0 and "\nOutputs:\n" not in gone.stdout


def test_console_syntax_error_is_on_line_1(tmp_path):
    (tmp_path / "main.sky.hcl").write_text('workload "w" {\n  run = "true"\n}\n')
    r = run_cli("console", "-e", "1 +", str(tmp_path))
    assert r.returncode == 1
    assert "<expression>:1:4: Syntax error: unexpected end of file" in r.stderr


def _no_aws_env(home) -> dict:
    e = {k: v for k, v in env().items() if not k.startswith("AWS_")}
    e.update(HOME=str(home), AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=str(home / "none"),
             AWS_SHARED_CREDENTIALS_FILE=str(home / "none"), PYTHONPATH=str(REPO))
    return e


def test_status_rows_stay_within_the_terminal_width(tmp_path):
    from skyplan.state.store import StateStore

    (tmp_path / "main.sky.hcl").write_text('provider "aws" { regions = ["us-east-1"] }\n')
    with StateStore.open(tmp_path / ".skyplan" / "state.db") as s:
        s.record(make_record('module.serving.workload.api_gateway_frontend["eu"]', 1, nodes=2, lineage=s.lineage),
                 action="create")
        s.record(make_record("workload.x", 1, lineage=s.lineage), action="create")
    e = _no_aws_env(tmp_path)
    for columns in (80, 100):
        e["COLUMNS"] = str(columns)
        r = subprocess.run(skyplan_argv() + ["status", str(tmp_path)], capture_output=True, text=True, env=e,
                           cwd=tmp_path, stdin=subprocess.DEVNULL, timeout=60)
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        assert all(len(line) <= columns for line in lines), "\n".join(lines)
        assert "credentials" in r.stdout  # the reason is shown, wrapped under its row
        x = next(n for n, line in enumerate(lines) if line.startswith("workload.x"))
        assert "unknown" in lines[x] and lines[x + 1].startswith(" ")
    e.pop("COLUMNS")  # piped, no COLUMNS: one line per row, the reason inline
    r = subprocess.run(skyplan_argv() + ["status", str(tmp_path)], capture_output=True, text=True, env=e,
                       cwd=tmp_path, stdin=subprocess.DEVNULL, timeout=60)
    row = next(line for line in r.stdout.splitlines() if line.startswith("workload.x"))
    assert "unknown (aws:" in row and "credentials" in row

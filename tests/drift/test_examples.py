"""The scheduled-run examples parse, and the skyplan command lines in them are
ones the CLI accepts."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import yaml

from skyplan.cli import app, terraform_args

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _parses(argv: list[str]) -> None:
    import typer.main

    cmd = typer.main.get_command(app)
    args = terraform_args(argv)
    assert args[0] == "drift"
    sub = cmd.get_command(None, "drift")
    ctx = sub.make_context("drift", args[1:])  # raises on an unknown flag or a bad value
    assert ctx.params["repair"] and ctx.params["auto_approve"]


def _skyplan_line(text: str) -> list[str]:
    joined = text.replace("\\\n", " ")
    line = next(ln for ln in joined.splitlines() if ln.strip().startswith("skyplan drift"))
    words = shlex.split(line.split(">")[0])
    return [w for w in words[1:] if not w.startswith("$")]


def test_github_actions_workflow():
    doc = yaml.safe_load((EXAMPLES / "ci" / "github-actions-drift.yml").read_text())
    assert doc[True]["schedule"][0]["cron"]  # "on:" is YAML 1.1's true
    steps = doc["jobs"]["drift"]["steps"]
    run = next(s["run"] for s in steps if "skyplan drift" in s.get("run", ""))
    argv = _skyplan_line(run)
    assert "--format" in argv and argv[argv.index("--format") + 1] == "markdown"
    _parses(argv)
    assert any("gh issue comment" in s.get("run", "") for s in steps)


def test_systemd_units():
    service = configparser.ConfigParser(strict=False, interpolation=None)
    service.read_string((EXAMPLES / "systemd" / "skyplan-drift.service").read_text())
    assert service["Service"]["Type"] == "oneshot"
    exec_start = shlex.split(service["Service"]["ExecStart"])
    assert exec_start[0].endswith("/skyplan")
    _parses(exec_start[1:])
    timer = configparser.ConfigParser(strict=False, interpolation=None)
    timer.read_string((EXAMPLES / "systemd" / "skyplan-drift.timer").read_text())
    assert timer["Timer"]["Unit"] == "skyplan-drift.service" and timer["Timer"]["OnCalendar"]

"""CLI-wide contracts: fast start-up without SDKs, --help everywhere, Terraform spellings."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer

from skyplan.cli import app, terraform_args

HEAVY = ("boto3", "botocore", "kubernetes", "ortools", "google.cloud", "azure")


def test_help_imports_no_cloud_sdk_or_solver():
    code = (
        "import sys, runpy\n"
        "sys.argv = ['skyplan', '--help']\n"
        "from skyplan.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"heavy = [m for m in sys.modules if m.split('.')[0] in {[h.split('.')[0] for h in HEAVY]!r}]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr


def _all_commands():
    root = typer.main.get_command(app)
    stack = [((), root)]
    while stack:
        path, cmd = stack.pop()
        yield path, cmd
        if hasattr(cmd, "commands"):  # typer groups are not click.Group (typer vendors click)
            for name, sub in cmd.commands.items():
                stack.append((path + (name,), sub))


def test_every_command_has_help_text():
    missing = [" ".join(p) for p, c in _all_commands() if p and not (c.help or c.short_help)]
    assert not missing, f"commands without help text: {missing}"


@pytest.mark.parametrize("path", [p for p, _ in _all_commands()], ids=lambda p: " ".join(p) or "skyplan")
def test_every_command_answers_help(path):
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_terraform_spellings_are_rewritten():
    assert terraform_args(["plan", "-out", "p.json", "-var", "a=1", "-refresh=false", "-lock=true"]) == [
        "plan", "--out", "p.json", "--var", "a=1", "--no-refresh", "--lock"]
    assert terraform_args(["console", "-e", "-x"]) == ["console", "-e", "-x"]
    assert terraform_args(["plan", "-parallelism=4", "-lock-timeout=5s"]) == [
        "plan", "--parallelism=4", "--lock-timeout=5s"]

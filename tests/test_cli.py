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


AZURE_CONFIG = """
provider "azure" {
  subscription_id = "00000000-0000-0000-0000-000000000000"
  regions         = ["eastus"]
}

workload "web" {
  kind = "service"
  run  = "python -m http.server"
  resources {
    instance_type = "Standard_D2s_v5"
  }
}
"""


@pytest.mark.parametrize("argv,heavy", [
    (["validate"], HEAVY),
    (["plan", "-refresh=false"], ("azure",)),  # the plan names Azure's network pieces without the SDK
])
def test_azure_config_validates_and_plans_without_the_azure_sdk(tmp_path, argv, heavy):
    (tmp_path / "main.sky.hcl").write_text(AZURE_CONFIG)
    code = (
        "import sys\n"
        f"sys.argv = ['skyplan', *{argv!r}, {str(tmp_path)!r}]\n"
        "from skyplan.cli import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    print('EXIT', e.code)\n"
        f"loaded = [m for m in sys.modules if m.split('.')[0] in {[h.split('.')[0] for h in heavy]!r}]\n"
        "print('HEAVY', loaded)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "EXIT 0" in out.stdout and "HEAVY []" in out.stdout, out.stdout + out.stderr

"""Terraform's flag spellings on every command that takes them, as a user types them.

Every command that takes the state lock takes ``-lock=false`` and ``-lock-timeout``;
``apply -destroy`` destroys; the global ``--no-color`` works before or after the
sub-command; a flag no command knows is reported as the user typed it."""

from __future__ import annotations

from pathlib import Path

import pytest

from skyplan.cli import terraform_args
from tests.apply.clirun import run

JOB = 'workload "j" {\n  kind = "job"\n  run  = "true"\n}\n'


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    (tmp_path / "main.sky.hcl").write_text(JOB)
    return tmp_path


def _ok(r):
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout + r.stderr


@pytest.mark.slow
def test_lock_false_and_apply_destroy_through_the_whole_cycle(cfg: Path):
    d = str(cfg)
    out = _ok(run("apply", d, "-lock=false", "-lock-timeout=5s", "-auto-approve"))
    assert "Apply complete!" in out
    _ok(run("drift", d, "-lock=false", "-lock-timeout=1s", "-no-color"))
    _ok(run("plan", d, "-lock=false"))
    _ok(run("state", "rm", "workload.j", d, "-lock=false", "-lock-timeout=1s"))
    _ok(run("state", "list", d, "--no-color"))
    out = _ok(run("apply", d, "-auto-approve", "-lock=false"))
    assert "1 added" in out
    out = _ok(run("apply", "-destroy", d, "-auto-approve"))
    assert "Destroy complete! Resources: 1 destroyed." in out
    out = _ok(run("destroy", d, "-lock=false", "-auto-approve"))


@pytest.mark.parametrize("argv", [
    ["validate", "--no-color"], ["validate", "-no-color"], ["--no-color", "validate"],
    ["graph", "--no-color"], ["optimize", "--no-color"], ["catalog", "list", "--no-color", "--limit", "1"],
])
def test_no_color_works_in_any_position(cfg: Path, argv):
    _ok(run(*argv, cwd=cfg))


@pytest.mark.parametrize("typed", ["-frobnicate", "-frobnicate=false", "--frobnicate", "-lock=false"])
def test_an_unknown_flag_is_reported_as_typed(cfg: Path, typed):
    r = run("validate", typed, cwd=cfg)
    assert r.returncode == 1
    assert f"No such option: {typed}" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_apply_destroy_refuses_a_saved_plan(cfg: Path):
    plan = cfg / "p.skyplan"
    _ok(run("plan", str(cfg), "-out", str(plan)))
    r = run("apply", "-destroy", str(plan))
    assert r.returncode == 1 and "-destroy" in r.stderr, r.stderr


def test_global_flags_move_before_the_sub_command():
    assert terraform_args(["state", "list", "-no-color"]) == ["--no-color", "state", "list"]
    assert terraform_args(["console", "-e", "--no-color"]) == ["console", "-e", "--no-color"]
    assert terraform_args(["run", "--", "--no-color"])[-1] == "--no-color"


def test_every_command_that_takes_the_lock_takes_lock_and_lock_timeout():
    from tests.test_cli import _all_commands

    names = {}
    for path, cmd in _all_commands():
        opts = {o for p in getattr(cmd, "params", ()) for o in (*p.opts, *p.secondary_opts)}
        if "--lock-timeout" in opts or "--lock" in opts:
            names[" ".join(path)] = {"--lock", "--no-lock", "--lock-timeout"} <= opts
    assert {"plan", "apply", "destroy", "drift", "import", "state mv", "state rm", "state push"} <= set(names)
    assert all(names.values()), names

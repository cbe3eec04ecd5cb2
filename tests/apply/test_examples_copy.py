"""Tests copy an example's configuration only, never the state a user made by running
it from the repository (the README's first command writes examples/quickstart/.skyplan/)."""

from __future__ import annotations

import shutil

import pytest

from tests.apply.clirun import REPO, run
from tests.examples import copy_example


@pytest.mark.slow
def test_copy_leaves_behind_the_state_a_user_made(tmp_path):
    user_examples = tmp_path / "clone" / "examples"
    shutil.copytree(REPO / "examples" / "quickstart", user_examples / "quickstart")
    first = run("apply", str(user_examples / "quickstart"), "--auto-approve")  # the README's set-up command
    assert first.returncode == 0, first.stdout + first.stderr
    assert (user_examples / "quickstart" / ".skyplan" / "state.db").exists()
    (user_examples / "quickstart" / "plan.skyplan").write_text("{}")

    copy = copy_example("quickstart", tmp_path / "copy", examples=user_examples)
    assert sorted(p.name for p in copy.iterdir()) == ["main.sky.hcl"]
    plan = run("plan", str(copy))
    assert plan.returncode == 0 and "Plan: 2 to add" in plan.stdout
    run("destroy", str(user_examples / "quickstart"), "--auto-approve")


def test_copy_of_every_example_holds_its_configuration(tmp_path):
    for folder in sorted(p for p in (REPO / "examples").iterdir() if p.is_dir()):
        copy = copy_example(folder.name, tmp_path / folder.name)
        wanted = sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.endswith(".skyplan"))
        assert sorted(p.name for p in copy.iterdir()) == wanted

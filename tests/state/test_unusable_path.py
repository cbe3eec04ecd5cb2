"""An unusable state path is the user's to fix: the path and a hint, never "internal error"."""

from __future__ import annotations

import pytest

from tests.planner.cli_runner import run_cli


def _config(tmp_path, state_path: str):
    (tmp_path / "main.sky.hcl").write_text(
        'skyplan {\n  state { path = "%s" }\n}\nworkload "w" {\n  run = "true"\n}\n' % state_path)
    return tmp_path


@pytest.mark.parametrize("where", ["proc", "under_file"])
def test_apply_to_unusable_state_path_is_a_user_error(tmp_path, where):
    if where == "proc":
        state = "/proc/nope/state.db"
    else:
        (tmp_path / "f").write_text("")
        state = str(tmp_path / "f" / "state.db")
    cfg = _config(tmp_path, state)
    r = run_cli("apply", "--auto-approve", str(cfg))
    assert r.returncode == 1
    assert "internal error" not in r.stderr and "bug in skyplan" not in r.stderr
    assert state in r.stderr
    assert "state { path" in r.stderr  # the hint names the setting that fixes it
    assert not (tmp_path / ".skyplan" / "local" / "registry").exists() or not any(
        (tmp_path / ".skyplan" / "local" / "registry").iterdir())


def test_store_open_raises_state_error(tmp_path):
    from skyplan.errors import StateError
    from skyplan.state import StateStore

    (tmp_path / "f").write_text("")
    with pytest.raises(StateError, match="cannot create"):
        StateStore.open(tmp_path / "f" / "state.db")

"""End to end on the local provider, through the CLI: real processes, real state.

Kill a workload's process behind skyplan's back -> `skyplan drift` reports it
missing (exit 2); `drift --repair --auto-approve` restores it; the next
`drift` exits 0.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import jsonschema
import pytest

import skyplan
from skyplan.cli import main
from skyplan.state import StateStore

SCHEMA = json.loads((Path(skyplan.__file__).parent / "schemas" / "drift.schema.json").read_text())

CONFIG = """
provider "local" {}

workload "api" {
  kind      = "service"
  num_nodes = 2
  run       = "sleep 600"
}

workload "done" {
  kind = "job"
  run  = "echo finished"
}
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def instances(root: Path, address: str):
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        rec = store.get(address)
    return rec.instances if rec else ()


def kill(inst) -> None:
    """SIGKILL the node's whole process group, as an out-of-memory killer or a person would."""
    pgid = inst.attributes.get("pgid") or inst.attributes.get("pid")
    os.killpg(int(pgid), signal.SIGKILL)


def wait_finished(capsys, root: Path, address: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        code, out, _ = run(capsys, "drift", str(root), "--json")
        if code == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"{address} did not settle: {out}")


@pytest.fixture
def applied(tmp_path, capsys):
    root = tmp_path / "cfg"
    root.mkdir()
    (root / "main.sky.hcl").write_text(CONFIG)
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out + err
    yield root
    run(capsys, "destroy", str(root), "--auto-approve")


@pytest.mark.slow
def test_kill_report_repair_in_sync(applied, capsys):
    root = applied
    wait_finished(capsys, root, "workload.done")  # the finished job is never "missing"
    code, out, err = run(capsys, "drift", str(root))
    assert code == 0, out + err
    assert "No drift" in out

    nodes = instances(root, "workload.api")
    assert len(nodes) == 2
    kill(nodes[1])

    code, out, err = run(capsys, "drift", str(root), "--json")
    assert code == 2, out + err
    data = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    assert [(i["address"], i["category"]) for i in data["items"]] == [("workload.api", "missing")]
    assert data["items"][0]["provider_ids"] == [nodes[1].id]
    assert "rank(s) 1" in data["items"][0]["detail"]

    code, out, err = run(capsys, "drift", str(root), "--format", "markdown")
    assert code == 2 and out.startswith("## skyplan drift: 1 resource(s) drifted")

    code, out, err = run(capsys, "drift", str(root), "--repair", "--auto-approve", "--json")
    assert code == 0, out + err
    data = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    assert data["repair"]["attempted"] and data["repair"]["after"]["in_sync"]

    code, out, err = run(capsys, "drift", str(root))
    assert code == 0, out + err
    live = instances(root, "workload.api")
    assert len(live) == 2 and nodes[1].id not in {i.id for i in live}


@pytest.mark.slow
def test_repair_needs_approval_when_not_interactive(applied, capsys):
    kill(instances(applied, "workload.api")[0])
    code, out, err = run(capsys, "drift", str(applied), "--repair")
    assert code == 1 and "--auto-approve" in err
    code, out, err = run(capsys, "drift", str(applied), "--json")
    assert code == 2  # nothing was changed


def test_no_state_is_an_error(tmp_path, capsys):
    (tmp_path / "main.sky.hcl").write_text(CONFIG)
    code, out, err = run(capsys, "drift", str(tmp_path))
    assert code == 1 and "no state" in err
    assert not (tmp_path / ".skyplan" / "state.db").exists()


def test_bad_format_and_ignore_file(tmp_path, capsys):
    (tmp_path / "main.sky.hcl").write_text(CONFIG)
    code, out, err = run(capsys, "drift", str(tmp_path), "--format", "yaml")
    assert code == 1 and "--format" in err
    (tmp_path / ".skyplanignore").write_text("workload.api:\n")
    code, out, err = run(capsys, "drift", str(tmp_path))
    assert code == 1 and ".skyplanignore:1:1" in err


def test_lock_wait_is_bounded(tmp_path, capsys):
    import threading

    (tmp_path / "main.sky.hcl").write_text(CONFIG)
    store = StateStore.open(tmp_path / ".skyplan" / "state.db")
    try:
        with store.lock("apply"):
            code, out, err = run(capsys, "drift", str(tmp_path), "-lock-timeout", "300ms")
        assert code == 1 and "lock" in err.lower()

        held, release = threading.Event(), threading.Event()

        def hold():
            with store.lock("apply"):
                held.set()
                release.wait(5)

        t = threading.Thread(target=hold)
        t.start()
        held.wait(5)
        threading.Timer(0.5, release.set).start()
        code, out, err = run(capsys, "drift", str(tmp_path), "-lock-timeout", "20s")
        t.join()
        assert code == 0, out + err  # waited for the lock, then found an empty state in sync
    finally:
        store.close()


PROTECTED = """
provider "local" {}

workload "db" {
  kind      = "service"
  num_nodes = 2
  run       = "sleep 600"
  lifecycle {
    prevent_destroy = true
  }
}
"""


@pytest.mark.slow
def test_repair_never_destroys_prevent_destroy(tmp_path, capsys):
    (tmp_path / "main.sky.hcl").write_text(PROTECTED)
    code, out, err = run(capsys, "apply", str(tmp_path), "--auto-approve")
    assert code == 0, out + err
    try:
        nodes = instances(tmp_path, "workload.db")
        kill(nodes[1])
        code, out, err = run(capsys, "drift", str(tmp_path), "--repair", "--auto-approve")
        assert code == 1 and "prevent_destroy" in err
        code, out, err = run(capsys, "drift", str(tmp_path), "--json")
        assert code == 2
        data = json.loads(out)
        assert [(i["category"], i["provider_ids"]) for i in data["items"]] == [("missing", [nodes[1].id])]
    finally:
        (tmp_path / "main.sky.hcl").write_text(PROTECTED.replace("prevent_destroy = true", "prevent_destroy = false"))
        run(capsys, "destroy", str(tmp_path), "--auto-approve")


@pytest.mark.slow
def test_skyplanignore_accepts_drift(applied, capsys):
    kill(instances(applied, "workload.api")[0])
    code, out, err = run(capsys, "drift", str(applied), "--json")
    assert code == 2
    (applied / ".skyplanignore").write_text("# the api is restarted by hand\nworkload.api\n")
    code, out, err = run(capsys, "drift", str(applied), "--json")
    assert code == 0, out + err
    code, out, err = run(capsys, "drift", str(applied), "--repair", "--auto-approve")
    assert code == 0, out + err
    assert len(instances(applied, "workload.api")) == 2  # state left as it was; nothing recreated


def test_drift_before_any_apply_says_nothing_was_applied(tmp_path, capsys):
    (tmp_path / "main.sky.hcl").write_text(CONFIG)
    code, out, err = run(capsys, "drift", str(tmp_path))
    assert code == 1
    assert "nothing has been applied" in err and "skyplan apply" in err
    assert "--state" not in err  # drift has no such option
    assert not (tmp_path / ".skyplan").exists()


@pytest.mark.slow
def test_repair_backs_up_state_before_changing_it_as_apply_does(applied, capsys):
    backups = applied / ".skyplan" / "backups"
    before = sorted(p.name for p in backups.glob("state-*.db"))
    kill(instances(applied, "workload.api")[0])
    code, out, err = run(capsys, "drift", str(applied), "--repair", "--auto-approve", "--json")
    assert code == 0, out + err
    assert len(sorted(p.name for p in backups.glob("state-*.db"))) == len(before) + 1

"""apply/destroy through the real CLI: approval, saved and stale plans, prevent_destroy, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from skyplan.config.model import ProviderConfig
from skyplan.providers.local import LocalProvider
from skyplan.state.store import StateStore
from tests.apply.clirun import popen, run

JOB = '''
workload "hello" {
  kind = "job"
  run  = "echo hello"
}
'''

GUARDED = '''
workload "db" {
  kind = "service"
  run  = "sleep 60"
  lifecycle {
    prevent_destroy = true
  }
}
'''

SLOW_CHAIN = '''
workload "first" {
  kind = "job"
  run  = "sleep 3"
}

workload "second" {
  kind       = "job"
  depends_on = [workload.first]
  run        = "echo second"
}
'''


def _dir(tmp_path: Path, text: str) -> Path:
    d = tmp_path / "cfg"
    d.mkdir()
    (d / "main.sky.hcl").write_text(text)
    return d


def _state(d: Path):
    with StateStore.open(d / ".skyplan" / "state.db") as s:
        return s.snapshot()


def _cleanup(d: Path) -> None:
    snap = _state(d)
    prov = LocalProvider(ProviderConfig(kind="local", settings={"root": str(d)}))
    prov.delete(prov.list_managed(snap.lineage))


@pytest.mark.slow
def test_answer_other_than_yes_cancels_and_saved_plans_apply_once(tmp_path):
    d = _dir(tmp_path, JOB)
    r = run("apply", str(d), input="no\n")
    assert r.returncode == 1 and "Apply cancelled." in r.stdout
    assert _state(d).resources == {}

    plan_file = tmp_path / "hello.plan"
    r = run("plan", str(d), "-out", str(plan_file))
    assert r.returncode == 0, r.stderr
    r = run("apply", str(plan_file))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Apply complete! Resources: 1 added" in r.stdout
    serial = _state(d).serial

    stale = run("apply", str(plan_file))
    assert stale.returncode == 1
    assert "Saved plan is stale" in stale.stderr and "Traceback" not in stale.stderr
    assert _state(d).serial == serial, "a refused plan must write nothing"
    _cleanup(d)


@pytest.mark.slow
def test_destroy_honours_prevent_destroy(tmp_path):
    d = _dir(tmp_path, GUARDED)
    try:
        r = run("apply", str(d), "--auto-approve")
        assert r.returncode == 0, r.stdout + r.stderr
        r = run("destroy", str(d), "--auto-approve")
        assert r.returncode == 1
        assert "prevent_destroy" in r.stderr and "Traceback" not in r.stderr
        snap = _state(d)
        assert list(snap.resources) == ["workload.db"]
        prov = LocalProvider(ProviderConfig(kind="local", settings={"root": str(d)}))
        live = prov.list_managed(snap.lineage)
        assert [i.state for i in live] == ["running"]

        # Killed behind skyplan's back: --refresh-only records that in state, changing nothing else.
        os.killpg(int(live[0].attributes["pgid"]), signal.SIGKILL)
        deadline = time.monotonic() + 10
        while prov.list_managed(snap.lineage) and time.monotonic() < deadline:
            time.sleep(0.05)
        r = run("apply", str(d), "--refresh-only", "--auto-approve")
        assert r.returncode == 0, r.stdout + r.stderr
        assert "workload.db: missing" in r.stdout and "1 record(s) refreshed" in r.stdout
        after = _state(d)
        assert after.serial > snap.serial and after.resources["workload.db"].instances == ()
    finally:
        _cleanup(d)


@pytest.mark.slow
def test_ctrl_c_stops_new_actions_releases_the_lock_and_exits_130(tmp_path):
    d = _dir(tmp_path, SLOW_CHAIN)
    proc = popen("apply", str(d), "--auto-approve")
    try:
        seen = ""
        deadline = time.monotonic() + 60
        # The first job's own step waits for its outcome, since the second depends on it.
        waiting = "workload.first (create): waiting for the job to end"
        while waiting not in seen and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen += line
        assert waiting in seen, seen + proc.stderr.read()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out + err
    assert "Interrupt received" in err
    snap = _state(d)
    assert set(snap.resources) == {"workload.first"}  # what ran is recorded; second never started
    r = run("status", str(d), "--json")
    assert r.returncode == 0
    assert [x["address"] for x in json.loads(r.stdout)["resources"]] == ["workload.first"]
    with StateStore.open(d / ".skyplan" / "state.db") as s:
        assert s.current_lock() is None
    _cleanup(d)


def test_parallelism_zero_is_a_usage_error_for_apply_and_saved_plans(tmp_path):
    d = _dir(tmp_path, JOB)
    r = run("apply", str(d), "--auto-approve", "-parallelism=0")
    assert r.returncode == 1 and "-parallelism must be at least 1 (got 0)" in r.stderr, r.stdout + r.stderr
    assert not (d / ".skyplan" / "state.db").exists() or _state(d).resources == {}

    plan_file = tmp_path / "hello.plan"
    assert run("plan", str(d), "-out", str(plan_file)).returncode == 0
    r = run("apply", str(plan_file), "-parallelism=0")
    assert r.returncode == 1 and "-parallelism must be at least 1 (got 0)" in r.stderr, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and _state(d).resources == {}


def test_status_and_logs_before_any_apply_say_to_apply_and_offer_no_missing_flag(tmp_path):
    d = _dir(tmp_path, JOB)
    for args in (("status", str(d)), ("status", str(d), "--json"), ("logs", "workload.hello", str(d))):
        r = run(*args)
        assert r.returncode == 1, r.stdout + r.stderr
        assert "nothing has been applied" in r.stderr and f"skyplan apply {d}" in r.stderr, r.stderr
        assert "--state" not in r.stderr and "Traceback" not in r.stderr
    assert not (d / ".skyplan" / "state.db").exists()

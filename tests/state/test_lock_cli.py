"""The state lock as a user meets it on the command line.

A holder that is provably gone on this host is taken over (said, journaled); a
holder on another host whose heartbeat stopped is reported stale with its age,
and ``-lock-timeout`` waits for its lease to run out; ``force-unlock`` refuses a
holder that still runs here (even with ``-force``), warns about one on another
host, and says how to confirm when there is no terminal. An apply whose lock was
removed while it ran starts nothing more, says so, and the next apply finishes
the work without running anything twice."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from skyplan.state.store import StateStore
from tests.apply.clirun import popen, run
from tests.state.test_lock import _die_holding, put_lock

JOB = 'workload "j" {\n  kind = "job"\n  run  = "true"\n}\n'


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    (tmp_path / "main.sky.hcl").write_text(JOB)
    StateStore.open(tmp_path / ".skyplan" / "state.db").close()
    return tmp_path


def _db(cfg: Path) -> Path:
    return cfg / ".skyplan" / "state.db"


def _history(cfg: Path) -> list[dict]:
    r = run("state", "history", str(cfg), "--json", "--limit", "0")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_a_killed_holders_lock_is_taken_over_and_journaled(cfg: Path):
    lock_id = _die_holding(_db(cfg))
    r = run("plan", str(cfg))
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"Took over the state lock of 'apply'" in r.stderr and lock_id in r.stderr
    assert "is no longer running" in r.stderr
    takeover = [h for h in _history(cfg) if h["action"] == "lock-takeover"]
    assert takeover and lock_id in takeover[0]["detail"]


def test_another_hosts_stopped_lock_is_stale_with_its_age_and_waited_out(cfg: Path):
    put_lock(_db(cfg), host="ci-runner-3", pid=777, heartbeat=time.time() - 300)
    r = run("plan", str(cfg))
    assert r.returncode == 1
    assert "stale: its last heartbeat was 30" in r.stderr and "lease 60s" in r.stderr, r.stderr
    assert "-lock-timeout" in r.stderr
    r = run("plan", str(cfg), "-lock-timeout=2s")
    assert r.returncode == 0, r.stderr
    assert "Took over the state lock" in r.stderr and "ci-runner-3" in r.stderr


def test_force_unlock_without_a_terminal_says_how_to_confirm(cfg: Path):
    lock_id = put_lock(_db(cfg), host="ci-runner-3", pid=777)
    r = run("force-unlock", lock_id, str(cfg))  # stdin is /dev/null
    assert r.returncode == 1
    assert "no terminal" in r.stderr and "-force" in r.stderr, r.stderr
    assert "another host (ci-runner-3)" in r.stderr and "is still running" in r.stderr
    with StateStore.open(_db(cfg)) as s:
        assert s.current_lock().id == lock_id
    r = run("force-unlock", "-force", lock_id, str(cfg))
    assert r.returncode == 0, r.stderr
    assert "another host" in r.stderr  # warned even when forced


_HOLDER = textwrap.dedent("""
    import sys, time
    from skyplan.state.store import StateStore
    s = StateStore.open(sys.argv[1])
    with s.lock("apply") as info:
        print(info.id, flush=True)
        time.sleep(60)
""")


def test_force_unlock_refuses_a_holder_alive_on_this_host_even_forced(cfg: Path):
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(_db(cfg))], stdout=subprocess.PIPE, text=True)
    try:
        lock_id = holder.stdout.readline().strip()
        for args in (("force-unlock", lock_id, str(cfg)), ("force-unlock", "-force", lock_id, str(cfg))):
            r = run(*args)
            assert r.returncode == 1
            assert f"process {holder.pid}" in r.stderr and "still running on this host" in r.stderr, r.stderr
            assert "stop it first" in r.stderr
        with StateStore.open(_db(cfg)) as s:
            assert s.current_lock().id == lock_id
    finally:
        holder.kill()
        holder.wait()


TWO_STEPS = """
workload "first" {
  kind = "job"
  run  = "while [ ! -f ../../go ]; do sleep 0.05; done"
}

workload "second" {
  kind       = "job"
  depends_on = [workload.first]
  run        = "echo ran >> ../../second.txt"
}
"""


@pytest.mark.slow
def test_an_apply_that_lost_its_lock_starts_nothing_more_and_the_next_run_finishes(tmp_path: Path):
    (tmp_path / "main.sky.hcl").write_text(TWO_STEPS)
    a = popen("apply", str(tmp_path), "-auto-approve")
    db = _db(tmp_path)
    deadline = time.monotonic() + 30
    lock_id = None
    while time.monotonic() < deadline:  # A has launched `first` and waits for it
        if db.exists():
            with StateStore.open(db) as s:
                rec, held = s.get("workload.first"), s.current_lock()
            if rec is not None and rec.instances and held is not None:
                lock_id = held.id
                break
        time.sleep(0.05)
    assert lock_id, "apply did not start"
    r = run("force-unlock", "-force", lock_id, str(tmp_path))
    assert r.returncode == 1 and f"process {a.pid}" in r.stderr
    with StateStore.open(db) as s, s.atomic() as conn:  # as force-unlock on another host would
        conn.execute("DELETE FROM lock WHERE id = ?", (lock_id,))
    (tmp_path / ".skyplan" / "local" / "go").touch()  # now `first` succeeds
    out, err = a.communicate(timeout=60)
    assert a.returncode == 1, out + err
    assert "lost the state lock" in err and "started nothing more" in out, out + err
    second = tmp_path / ".skyplan" / "local" / "second.txt"
    assert not second.exists()

    r = run("apply", str(tmp_path), "-auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    deadline = time.monotonic() + 20
    while not second.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    assert second.read_text() == "ran\n"
    with StateStore.open(db) as s:
        assert len(s.get("workload.first").instances) == 1
    lost = [h for h in _history(tmp_path) if h["outcome"] == "lock-lost"]
    assert lost and lost[0]["address"] == "workload.second"

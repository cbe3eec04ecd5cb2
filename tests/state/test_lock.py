"""The state lock: holder named, re-entrant for its store, stale locks reported,
force-unlock, heartbeat, and exactly one winner when processes race."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from skyplan.errors import LockError, StateError
from skyplan.state.location import PostgresLocation, open_store
from skyplan.state.store import StateStore


@pytest.fixture
def cstore(location):
    """The store of the lock contract, on each backend."""
    s = open_store(location)
    yield s
    s.close()


def _where(location) -> list[str]:
    """Arguments that let a child process open ``location`` (see _OPEN)."""
    if isinstance(location, PostgresLocation):
        return [location.url, location.name]
    return [str(location)]


_OPEN = ("from skyplan.state.location import PostgresLocation, open_store\n"
         "def _open(args):\n"
         "    return open_store(PostgresLocation(*args) if len(args) == 2 else args[0])\n")


def _dead_reason(location) -> str:
    return "database session ended" if isinstance(location, PostgresLocation) else "is no longer running"


def test_second_holder_is_refused_naming_the_first(cstore, location):
    with cstore.lock("apply") as info:
        with open_store(location) as other:
            with pytest.raises(LockError) as e:
                with other.lock("plan"):
                    pass
            msg = str(e.value)
            assert info.id in msg and "'apply'" in msg and f"pid {os.getpid()}" in msg and info.who in msg
            assert "stale" not in msg and f"process {os.getpid()} is still running" in e.value.hint
            t = time.monotonic()
            with pytest.raises(LockError):
                with other.lock("plan", timeout=0.3):
                    pass
            assert time.monotonic() - t >= 0.3
    assert cstore.current_lock() is None


def test_lock_timeout_waits_for_release(cstore, location):
    import threading

    other = open_store(location)
    got = []
    with cstore.lock("apply"):
        cm = other.lock("plan", timeout=5)
        t = threading.Thread(target=lambda: got.append(cm.__enter__()))
        t.start()
        time.sleep(0.3)
    t.join()
    assert got and got[0].operation == "plan"
    other.close()  # releases the lock it still holds
    assert cstore.current_lock() is None


def test_lock_is_reentrant_for_the_same_store(cstore):
    with cstore.lock("apply") as a:
        with cstore.lock("refresh") as b:
            assert a == b
        assert cstore.current_lock() == a
    assert cstore.current_lock() is None


def test_journal_rows_carry_the_operation(cstore):
    from tests.state.conftest import make_record

    with cstore.lock("apply"):
        cstore.record(make_record(), action="create")
    assert cstore.history()[0]["operation"] == "apply"


def _die_holding(location) -> str:
    code = _OPEN + textwrap.dedent(f"""
        import os
        s = _open({_where(location)!r})
        held = s.lock("apply"); held.__enter__()
        print(s.current_lock().id, flush=True)
        os._exit(0)  # dies holding the lock
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip(), out.stderr
    return out.stdout.strip()


def test_dead_holder_on_this_host_is_taken_over_said_and_journaled(cstore, location):
    lock_id = _die_holding(location)
    notes = []
    cstore.on_notice = notes.append
    with cstore.lock("plan") as info:
        assert info.id != lock_id and info.generation == 2
    (note,) = notes
    assert f"lock ID {lock_id}" in note and _dead_reason(location) in note
    row = cstore.history()[0]
    assert row["action"] == "lock-takeover" and lock_id in row["detail"] and row["operation"] == "plan"
    assert cstore.current_lock() is None


def test_force_unlock_of_a_dead_holder(cstore, location):
    lock_id = _die_holding(location)
    with pytest.raises(StateError, match="does not match"):
        cstore.force_unlock("wrong-id")
    cstore.force_unlock(lock_id)
    assert cstore.current_lock() is None
    assert cstore.history()[0]["action"] == "force-unlock"
    with pytest.raises(StateError, match="not locked"):
        cstore.force_unlock(lock_id)


def put_lock(state_path, *, host: str, pid: int, created: str | None = None, heartbeat: float | None = None,
             operation: str = "apply", pid_start: str = "") -> str:
    """A lock row as another process (or another host) would have written it."""
    from skyplan.state import schema

    lock_id = f"lock-{host}-{pid}"
    with StateStore.open(state_path) as s, s.atomic() as conn:
        conn.execute("INSERT INTO lock (slot, id, operation, who, host, pid, created, heartbeat, version, generation,"
                     " pid_start) VALUES (1, ?, ?, ?, ?, ?, ?, ?, '0', 7, ?)",
                     (lock_id, operation, f"ci@{host}", host, pid, created or schema.now_iso(),
                      time.time() if heartbeat is None else heartbeat, pid_start))
    return lock_id


def test_a_reused_pid_does_not_keep_a_dead_holders_lock(store, state_path):
    # The pid is alive, but its process started an hour after the lock was taken.
    later = subprocess.Popen(["sleep", "30"])
    try:
        from skyplan.state.lock import hostname

        lock_id = put_lock(state_path, host=hostname(), pid=later.pid, created="2020-01-01T00:00:00.000000Z")
        notes = []
        store.on_notice = notes.append
        with store.lock("plan"):
            pass
        assert "started after the lock was taken" in notes[0] and lock_id in notes[0]
    finally:
        later.kill()
        later.wait()


def test_a_pid_whose_start_time_is_not_the_holders_is_not_the_holder(store, state_path):
    from skyplan.state.lock import hostname, pid_start_ticks

    assert pid_start_ticks(os.getpid())
    put_lock(state_path, host=hostname(), pid=os.getpid(), pid_start="1")  # recorded start: not this process
    notes = []
    store.on_notice = notes.append
    with store.lock("plan"):
        pass
    assert "now belongs to another process" in notes[0]


def test_a_live_holder_on_this_host_is_never_taken_over(store, state_path):
    from skyplan.state.lock import hostname

    put_lock(state_path, host=hostname(), pid=os.getpid(), heartbeat=time.time() - 3600)
    with pytest.raises(LockError, match="stale: its last heartbeat") as e:
        with store.lock("plan", timeout=0.2):
            pass
    assert "still running on this host" in e.value.hint
    with pytest.raises(LockError, match="still running on this host"):
        store.force_unlock(store.current_lock().id)


def test_another_hosts_lock_is_stale_after_the_lease_and_taken_over_by_a_waiting_command(store, state_path):
    put_lock(state_path, host="build-7", pid=4242, heartbeat=time.time() - 125)
    with pytest.raises(LockError, match=r"stale: its last heartbeat was 12\ds ago \(lease 60s\)") as e:
        with store.lock("plan"):
            pass
    assert "-lock-timeout" in e.value.hint and "force-unlock" in e.value.hint
    notes = []
    store.on_notice = notes.append
    with store.lock("plan", timeout=1):
        pass
    assert "stopped 12" in notes[0] and "build-7" in notes[0]


def test_lock_timeout_waits_for_another_hosts_lease_to_run_out(store, state_path):
    # the lease runs out 2 s from now: room for a loaded machine to ask once before it does
    put_lock(state_path, host="build-7", pid=4242, heartbeat=time.time() - store.lease + 2.0)
    t = time.monotonic()
    with pytest.raises(LockError) as e:
        with store.lock("plan"):
            pass
    assert "stale" not in str(e.value) and "lease" in e.value.hint
    store.on_notice = lambda text: None
    with store.lock("plan", timeout=10):
        waited = time.monotonic() - t
    assert 1.0 < waited < 8


def test_a_holder_that_lost_its_lock_writes_nothing_more(cstore, location):
    from skyplan.errors import LockLostError
    from tests.state.conftest import make_record

    with cstore.lock("apply") as info:
        cstore.record(make_record(), action="create")
        with open_store(location) as other:
            with other.atomic() as conn:  # as force-unlock run on another host does
                if isinstance(location, PostgresLocation):  # ... which also ends the holder's lock session
                    conn.execute("SELECT pg_terminate_backend(backend_pid) FROM lock WHERE id = ?", (info.id,))
                conn.execute("DELETE FROM lock WHERE id = ?", (info.id,))
            other.on_notice = lambda text: None
            with other.lock("apply") as newer:
                assert newer.generation == info.generation + 1
                with pytest.raises(LockLostError, match="lost the state lock"):
                    cstore.record(make_record("workload.other"), action="create")
                with pytest.raises(LockLostError):
                    cstore.check_lock()
                cstore.journal_lost("workload.other", "create", "launched, not recorded", make_record("workload.other"),
                                   sensitive_paths=("env.TOKEN",))
        assert cstore.get("workload.other") is None
    rows = cstore.history()
    assert rows[0]["outcome"] == "lock-lost" and rows[0]["generation"] == info.generation
    assert "secret-1" not in str(rows[0]) and rows[0]["after"]["address"] == "workload.other"
    assert [r["generation"] for r in rows if r["action"] == "create" and r["outcome"] == "ok"] == [info.generation]


def test_old_heartbeat_is_stale(store):
    with store.lock("apply") as info:
        assert info.stale_reason() == ""
        assert "heartbeat was" in info.stale_reason(lease=10, now=info.heartbeat + 60)


def test_heartbeat_refreshes_while_held(location):
    with open_store(location) as s:
        s.heartbeat_interval = 0.05
        with s.lock("apply") as info:
            time.sleep(0.3)
            assert s.current_lock().heartbeat > info.heartbeat


_RACER = _OPEN + textwrap.dedent("""
    import pathlib, sys, time
    from skyplan.errors import LockError
    start, losses = float(sys.argv[1]), pathlib.Path(sys.argv[2])
    s = _open(sys.argv[3:])
    while time.time() < start:
        pass
    try:
        with s.lock("apply"):
            print("won", flush=True)
            # hold the lock until the others have tried (a slow start must not find it free)
            deadline = time.time() + 30
            while time.time() < deadline and len(losses.read_text().split()) < 2:
                time.sleep(0.02)
    except LockError:
        with losses.open("a") as f:
            f.write("lost\\n")
        print("lost", flush=True)
""")


@pytest.mark.parametrize("round_", range(4))
def test_racing_processes_exactly_one_wins(location, tmp_path, round_):
    open_store(location).close()
    losses = tmp_path / f"losses-{round_}"
    losses.write_text("")
    start = time.time() + 1.5
    procs = [subprocess.Popen([sys.executable, "-c", _RACER, str(start), str(losses), *_where(location)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [p.communicate(timeout=60) for p in procs]
    outs = sorted(o.strip() for o, _ in results)
    assert outs == ["lost", "lost", "won"], results

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
from skyplan.state.store import StateStore


def test_second_holder_is_refused_naming_the_first(store, state_path):
    with store.lock("apply") as info:
        with StateStore.open(state_path) as other:
            with pytest.raises(LockError) as e:
                with other.lock("plan"):
                    pass
            msg = str(e.value)
            assert info.id in msg and "'apply'" in msg and f"pid {os.getpid()}" in msg and info.who in msg
            assert "stale" not in msg and "force-unlock" in e.value.hint
            t = time.monotonic()
            with pytest.raises(LockError):
                with other.lock("plan", timeout=0.3):
                    pass
            assert time.monotonic() - t >= 0.3
    assert store.current_lock() is None


def test_lock_timeout_waits_for_release(store, state_path):
    import threading

    other = StateStore.open(state_path)
    got = []
    with store.lock("apply"):
        cm = other.lock("plan", timeout=5)
        t = threading.Thread(target=lambda: got.append(cm.__enter__()))
        t.start()
        time.sleep(0.3)
    t.join()
    assert got and got[0].operation == "plan"
    other.close()  # releases the lock it still holds
    assert store.current_lock() is None


def test_lock_is_reentrant_for_the_same_store(store):
    with store.lock("apply") as a:
        with store.lock("refresh") as b:
            assert a == b
        assert store.current_lock() == a
    assert store.current_lock() is None


def test_journal_rows_carry_the_operation(store):
    from tests.state.conftest import make_record

    with store.lock("apply"):
        store.record(make_record(), action="create")
    assert store.history()[0]["operation"] == "apply"


def test_dead_holder_is_reported_stale_and_force_unlocked(store, state_path):
    code = textwrap.dedent(f"""
        import os
        from skyplan.state.store import StateStore
        s = StateStore.open({str(state_path)!r})
        held = s.lock("apply"); held.__enter__()
        print(s.current_lock().id, flush=True)
        os._exit(0)  # dies holding the lock
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    lock_id = out.stdout.strip()
    assert lock_id, out.stderr
    with pytest.raises(LockError, match=r"stale: process \d+ is no longer running") as e:
        with store.lock("plan"):
            pass
    assert f"force-unlock {lock_id}" in e.value.hint
    with pytest.raises(StateError, match="does not match"):
        store.force_unlock("wrong-id")
    store.force_unlock(lock_id)
    assert store.current_lock() is None
    assert store.history()[0]["action"] == "force-unlock"
    with pytest.raises(StateError, match="not locked"):
        store.force_unlock(lock_id)


def test_old_heartbeat_is_stale(store):
    with store.lock("apply") as info:
        assert info.stale_reason() == ""
        assert "heartbeat was" in info.stale_reason(lease=10, now=info.heartbeat + 60)


def test_heartbeat_refreshes_while_held(state_path):
    with StateStore.open(state_path) as s:
        s.heartbeat_interval = 0.05
        with s.lock("apply") as info:
            time.sleep(0.3)
            assert s.current_lock().heartbeat > info.heartbeat


_RACER = textwrap.dedent("""
    import sys, time
    from skyplan.errors import LockError
    from skyplan.state.store import StateStore
    path, start = sys.argv[1], float(sys.argv[2])
    s = StateStore.open(path)
    while time.time() < start:
        pass
    try:
        with s.lock("apply"):
            print("won", flush=True)
            time.sleep(0.3)
    except LockError:
        print("lost", flush=True)
""")


@pytest.mark.parametrize("round_", range(4))
def test_racing_processes_exactly_one_wins(state_path, round_):
    StateStore.open(state_path).close()
    start = time.time() + 1.0
    procs = [subprocess.Popen([sys.executable, "-c", _RACER, str(state_path), str(start)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [p.communicate(timeout=60) for p in procs]
    outs = sorted(o.strip() for o, _ in results)
    assert outs == ["lost", "lost", "won"], results

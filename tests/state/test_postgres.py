"""What only the PostgreSQL backend has: several states in one database that never
block each other, the lock released with a holder's session, a fenced writer
refused, a dropped connection and a server restart survived, migrations
recorded, the URL's password never shown."""

from __future__ import annotations

import threading
import time

import pytest

from skyplan.errors import LockError, LockLostError, StateError
from skyplan.state.location import PostgresLocation, open_store, redact_text, redact_url
from tests.state.conftest import make_record


def _sibling(loc: PostgresLocation, suffix: str) -> PostgresLocation:
    return PostgresLocation(loc.url, loc.name + suffix)


def test_two_states_in_one_database_never_block_each_other(pg_location):
    a, b = open_store(pg_location), open_store(_sibling(pg_location, "-b"))
    try:
        with a.lock("apply"), b.lock("apply"):
            a.record(make_record("workload.a"), action="create")
            b.record(make_record("workload.b"), action="create")
        assert list(a.snapshot().resources) == ["workload.a"] and list(b.snapshot().resources) == ["workload.b"]
        assert a.lineage != b.lineage
    finally:
        a.close()
        b.close()


def test_migrations_are_named_and_recorded_in_a_table(pg_location):
    from skyplan.state.postgres import MIGRATIONS

    with open_store(pg_location) as s:
        names = [r[0] for r in s._conn.execute("SELECT name FROM migrations ORDER BY id")]
        assert names == [n for n, _ in MIGRATIONS]
    with open_store(pg_location) as again:  # opening again applies nothing twice
        assert again._conn.execute("SELECT count(*) FROM migrations").fetchone()[0] == len(MIGRATIONS)


def test_unknown_migration_names_are_refused(pg_location):
    with open_store(pg_location) as s:
        s._conn.execute("UPDATE migrations SET name = '0001_something_else' WHERE name = '0001_initial'")
    with pytest.raises(StateError, match="migrations this skyplan does not know"):
        open_store(pg_location)


def test_a_writer_whose_session_ended_is_fenced_off(pg_location):
    """A holder paused (or partitioned) long enough for its session to end: another
    takes the lock; the first one's writes are refused, the newer holder's kept."""
    old = open_store(pg_location)
    new = open_store(pg_location)
    new.on_notice = lambda text: None
    try:
        with old.lock("apply") as info:
            old.record(make_record(version=1), action="create")
            old.heartbeat_interval = 3600  # paused: it does not notice
            # The server ends the holder's lock session (as after a partition).
            new._conn.execute("SELECT pg_terminate_backend(backend_pid) FROM lock WHERE id = ?", (info.id,))
            deadline = time.monotonic() + 10
            while True:
                try:
                    newer = new.lock("apply", timeout=0).__enter__()
                    break
                except LockError:
                    assert time.monotonic() < deadline
                    time.sleep(0.05)
            assert newer.generation == info.generation + 1
            new.record(make_record(version=5), action="update")
            with pytest.raises(LockLostError, match="lost the state lock"):
                old.record(make_record(version=2), action="update")
            assert "takeover" in new.history()[1]["action"]
            new._release_lock()
        assert new.snapshot().resources["workload.train"].config_hash == "h5"
    finally:
        old.close()
        new.close()


def test_second_process_names_the_holder(pg_location):
    import subprocess
    import sys
    import textwrap

    with open_store(pg_location) as s, s.lock("apply") as info:
        code = textwrap.dedent(f"""
            from skyplan.errors import LockError
            from skyplan.state.location import PostgresLocation, open_store
            s = open_store(PostgresLocation({pg_location.url!r}, {pg_location.name!r}))
            try:
                with s.lock("apply"):
                    print("proceeded")
            except LockError as e:
                print(str(e))
        """)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert info.id in out.stdout and "'apply'" in out.stdout and "proceeded" not in out.stdout
        assert "pw-secret" not in out.stdout + out.stderr


def test_a_dropped_connection_is_retried_and_nothing_recorded_twice(pg_location, pg_server):
    with open_store(pg_location) as s, s.lock("apply"):
        s.record(make_record("workload.a"), action="create")
        pid = s._conn.raw.info.backend_pid
        pg_server.psql(f"SELECT pg_terminate_backend({pid})")
        assert s.record(make_record("workload.b"), action="create") == 2
        assert sorted(s.snapshot().resources) == ["workload.a", "workload.b"]
        rows = [r for r in s.history() if r["action"] == "create"]
        assert [r["address"] for r in rows] == ["workload.b", "workload.a"]


def test_an_unreachable_database_stops_the_writer_with_a_clear_error(pg_location, pg_server):
    s = open_store(pg_location)
    s.retry_seconds = 0.5
    try:
        s.record(make_record("workload.a"), action="create")
        pg_server.stop("immediate")
        try:
            with pytest.raises(LockLostError, match="cannot reach the state database") as e:
                s.record(make_record("workload.b"), action="create")
            assert "pw-secret" not in str(e.value)
        finally:
            pg_server.start()
        s.retry_seconds = 30
        assert sorted(s.snapshot().resources) == ["workload.a"]  # reconnects once the server is back
    finally:
        s.close()


@pytest.mark.slow
def test_server_restarted_mid_apply_keeps_the_lock_and_every_record(pg_location, pg_server):
    with open_store(pg_location) as s:
        s.heartbeat_interval = 0.1
        with s.lock("apply") as info:
            done = []

            def apply():
                for i in range(40):
                    done.append(s.record(make_record(f"workload.w{i}"), action="create"))
                    time.sleep(0.02)

            t = threading.Thread(target=apply)
            t.start()
            time.sleep(0.2)
            pg_server.restart()
            t.join(timeout=120)
            assert len(done) == 40 and done == sorted(done) and done[-1] == 40
            time.sleep(0.5)  # the heartbeat reconnects and takes the advisory lock again
            assert not s._heartbeat.lost
            s.check_lock()
            assert s.current_lock().id == info.id
            with open_store(pg_location) as other, pytest.raises(LockError, match=info.id):
                with other.lock("plan"):
                    pass
        assert len(s.snapshot().resources) == 40
        assert len([r for r in s.history() if r["action"] == "create"]) == 40


def test_redaction_of_urls():
    assert redact_url("postgresql://skyplan:hunter2@db:5432/infra") == "postgresql://skyplan:***@db:5432/infra"
    assert redact_url("postgres://db/infra?password=hunter2&sslmode=require") == \
        "postgres://db/infra?password=***&sslmode=require"
    text = "cannot connect to postgresql://u:hunter2@db/x: password hunter2 refused"
    assert "hunter2" not in redact_text(text, "postgresql://u:hunter2@db/x")
    assert "hunter2" not in str(PostgresLocation("postgresql://u:hunter2@db/x", "n"))
    assert "hunter2" not in repr(PostgresLocation("postgresql://u:hunter2@db/x", "n"))


def test_a_wrong_url_is_a_clear_error_without_the_password():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    loc = PostgresLocation(f"postgresql://u:hunter2@127.0.0.1:{port}/x", "n")
    with pytest.raises(StateError, match="cannot connect to the state database") as e:
        open_store(loc)
    assert "hunter2" not in str(e.value) + str(e.value.hint)

"""A writer killed with SIGKILL at random moments, holding the state lock, leaves a
state that opens, holds every committed change, has each resource at a whole old
or new version, and whose lock the next command gets (on PostgreSQL: released
with the killed holder's session). On both backends."""

from __future__ import annotations

import json
import os
import random
import signal
import time

import pytest

from skyplan.state.location import PostgresLocation, open_store
from tests.state.conftest import make_record

ADDRESSES = [f"workload.w{i}" for i in range(8)]


def _writer(path, report_fd: int, seed: int) -> None:
    """Child process: under the lock, record many versions; report each committed serial."""
    rng = random.Random(seed)
    store = open_store(path)
    store.on_notice = lambda text: None
    held = store.lock("apply")
    held.__enter__()  # held until the kill
    os.write(report_fd, b"L\n")  # the kill comes while the lock is held
    version = store.serial
    while True:
        version += 1
        address = rng.choice(ADDRESSES)
        rec = make_record(address, version, nodes=1 + version % 3, groups=1 + version % 2,
                          pad="p" * rng.randint(0, 6000))
        if rng.random() < 0.1 and store.get(address) is not None:
            serial = store.forget(address)
        else:
            serial = store.record(rec, action="update", sensitive_paths=["env.TOKEN"])
        os.write(report_fd, f"{serial}\n".encode())
    held.__exit__(None, None, None)


def _check(path, last_reported: int) -> int:
    with open_store(path) as store:
        store.on_notice = lambda text: None
        with store.lock("plan"):  # the killed holder's lock is not in the way
            pass
        snap = store.snapshot()
        # Durable: everything reported as committed is there; at most one more.
        assert last_reported <= snap.serial <= last_reported + 1
        journal = store._conn.execute("SELECT count(*), max(serial) FROM journal WHERE address <> 'lock'").fetchone()
        assert journal == (snap.serial, snap.serial or None)
        rows = store._conn.execute("SELECT address, config_hash, hourly_price, provider_ids FROM resources")
        for address, config_hash, price, ids in rows:
            rec = snap.resources[address]
            v = rec.attributes["version"]
            # Every part of the record names the same version: nothing torn.
            assert rec.config_hash == config_hash == f"h{v}"
            assert rec.attributes["env"]["TOKEN"] == f"secret-{v}"
            assert len(rec.groups) == 1 + v % 2
            assert all(g.placement.instance_type == f"type-{v}" and g.placement.nodes == 1 + v % 3
                       for g in rec.groups)
            assert [i.id for i in rec.instances] == json.loads(ids)
            assert all(f"-{v}-" in i for i in json.loads(ids))
            assert price == pytest.approx(rec.hourly_cost)
            # The journal's last word on this address is this version.
            last = store.history(limit=1, address=address)[0]
            assert last["after"]["attributes"]["version"] == v
            assert last["after"]["attributes"]["env"]["TOKEN"] == "(sensitive value)"
        takeovers = store._conn.execute("SELECT count(*) FROM journal WHERE action = 'lock-takeover'").fetchone()[0]
        assert takeovers >= 1 or snap.serial == 0
        return snap.serial


def test_sigkill_at_random_moments_never_tears_a_record(location):
    path = location
    open_store(path).close()
    rng = random.Random(1234)
    runs, serial = (50 if isinstance(location, PostgresLocation) else 60), 0
    for run in range(runs):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: never returns into pytest
            try:
                os.close(r)
                _writer(path, w, run)
            finally:
                os._exit(0)
        os.close(w)
        f = os.fdopen(r)
        assert f.readline() == "L\n"  # the writer holds the lock
        time.sleep(rng.uniform(0.02, 0.12))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        with f:
            reported = [int(x) for x in f.read().split()]
        last = reported[-1] if reported else serial
        serial = _check(path, last)
    assert serial > runs  # the writers did real work between kills

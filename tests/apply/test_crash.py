"""Kill the apply process (SIGKILL) at random points; the next plan must see every object
created so far, and a second apply must converge without duplicates."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from skyplan.apply import apply_plan
from skyplan.planner.model import Action
from skyplan.state.model import CREATING
from skyplan.state.location import open_store
from tests.apply import crashrig

REPO = Path(__file__).resolve().parents[2]
RUNS = 30


def _registered(root: Path, lineage: str) -> list[dict]:
    from skyplan.providers.local.registry import Registry

    return [e for e in Registry(root / ".skyplan" / "local").entries() if e["lineage"] == lineage]


def apply_seconds(root: Path, where: tuple[str, ...] = ()) -> float:
    """How long one whole apply of the rig takes on this machine now, so the kills are
    spread over an apply's real length however loaded the machine is."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.apply.crashrig", str(root), *where], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        start = time.monotonic()
        proc.wait(120)
        assert proc.returncode == 0, proc.stderr.read()
        return time.monotonic() - start
    finally:
        proc.stdout.close()
        proc.stderr.close()
        g = crashrig.graph(str(root))
        with open_store(crashrig.location(str(root), list(where))) as store:
            crashrig.providers(g)["local"].delete(crashrig.providers(g)["local"].list_managed(store.lineage))


def _one_run(root: Path, delay: float, where: tuple[str, ...] = ()) -> str:
    """Kill an apply after ``delay`` s, then check the next plan and apply (state in
    ROOT's SQLite file, or the PostgreSQL state ``where`` = (url, name))."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.apply.crashrig", str(root), *where], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()

    g = crashrig.graph(str(root))
    provs = crashrig.providers(g)
    store = open_store(crashrig.location(str(root), list(where)))
    try:
        before = store.snapshot()
        done = [r for r in before.resources.values() if r.status != CREATING and r.instances]
        phase = "untouched" if not before.resources else ("complete" if len(done) == len(g.workloads) else "partial")

        # 0. The killed holder's lock is taken over (its process, or its database session, is gone).
        store.on_notice = lambda text: None
        with store.lock("apply", timeout=10):
            # 1. The next plan sees every created object: recorded in state, or found by lineage tag.
            plan, refreshed = crashrig.make_plan(g, store, provs)
            live = {i.id for i in provs["local"].list_managed(store.lineage)}
            seen = {i.id for r in refreshed.snapshot.resources.values() for i in r.instances}
            seen |= {i.id for i in refreshed.unmanaged}
            assert live <= seen, f"objects invisible to the next plan: {sorted(live - seen)}"

            # 2. A second apply converges without duplicates.
            res = apply_plan(plan, store, provs, parallelism=4, poll_interval=0.01)
            assert res.ok, (res.errors, res.reasons)
            snap = store.snapshot()
            assert set(snap.resources) == set(g.workloads)
            assert all(r.status != CREATING and len(r.instances) == 1 for r in snap.resources.values())
            entries = _registered(root, snap.lineage)
            live_entries = [e for e in entries if provs["local"]._state(e) is not None]
            per_address = {}
            for e in live_entries:
                per_address.setdefault(e["address"], []).append(e["id"])
            assert {a: len(ids) for a, ids in per_address.items()} == {a: 1 for a in g.workloads}, per_address
            assert {a: ids[0] for a, ids in per_address.items()} == {a: r.instances[0].id for a, r in snap.resources.items()}

        # 3. And a third plan has nothing left to do for the services.
        again, _ = crashrig.make_plan(g, store, provs)
        moving = [c.address for c in again.changes if c.action is not Action.NOOP and c.after
                  and c.after.get("kind") == "service"]
        assert moving == []
    finally:
        provs["local"].delete(provs["local"].list_managed(store.lineage))
        store.close()
    return phase


@pytest.mark.slow
def test_sigkill_at_random_points_then_reapply_converges(tmp_path):
    rng = random.Random(20261128)
    (tmp_path / "whole").mkdir()
    length = apply_seconds(tmp_path / "whole")
    phases = []
    for n in range(RUNS):
        root = tmp_path / f"run{n}"
        root.mkdir()
        phases.append(_one_run(root, rng.uniform(0.0, length)))
    # The kills must land mid-apply often enough for the test to mean something.
    print("kill phases:", {p: phases.count(p) for p in set(phases)})
    assert phases.count("partial") >= RUNS // 3, phases

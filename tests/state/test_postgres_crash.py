"""SIGKILL an apply whose state is on PostgreSQL at random points: its lock goes with
its session, the next plan sees everything it created, and the next apply converges
with nothing lost or launched twice (the SQLite twin is tests/apply/test_crash.py)."""

from __future__ import annotations

import random

import pytest

from tests.apply.test_crash import _one_run, apply_seconds

RUNS = 50  # every reopen is checked over at least 50 kills


@pytest.mark.slow
def test_sigkill_mid_apply_on_postgres_then_reapply_converges(pg_server, tmp_path):
    rng = random.Random(20261201)
    (tmp_path / "whole").mkdir()
    length = apply_seconds(tmp_path / "whole", (pg_server.url, "team/crash-whole"))
    phases = []
    for n in range(RUNS):
        root = tmp_path / f"run{n}"
        root.mkdir()
        phases.append(_one_run(root, rng.uniform(0.0, length), (pg_server.url, f"team/crash-{n}")))
    print("kill phases:", {p: phases.count(p) for p in set(phases)})
    assert phases.count("partial") >= RUNS // 4, phases

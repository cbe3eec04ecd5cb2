"""The generic walker: order, bounded parallelism, failure and cancellation semantics."""

from __future__ import annotations

import threading
import time

import pytest

from skyplan.apply.walker import DONE, FAILED, SKIPPED, Skip, walk
from tests.apply.sim import random_dag


def _transitive_dependants(deps, key):
    out, stack = set(), [key]
    while stack:
        k = stack.pop()
        for child, ds in deps.items():
            if k in ds and child not in out:
                out.add(child)
                stack.append(child)
    return out


class Recorder:
    def __init__(self, latency=0.002, fail=()):
        self.lock = threading.Lock()
        self.started: dict[str, int] = {}
        self.ended: dict[str, int] = {}
        self.tick = 0
        self.running = 0
        self.max_running = 0
        self.latency = latency
        self.fail = set(fail)

    def __call__(self, key):
        with self.lock:
            self.tick += 1
            self.started[key] = self.tick
            self.running += 1
            self.max_running = max(self.max_running, self.running)
        time.sleep(self.latency)
        with self.lock:
            self.tick += 1
            self.ended[key] = self.tick
            self.running -= 1
        if key in self.fail:
            raise RuntimeError(f"boom {key}")
        return key


@pytest.mark.parametrize("parallelism", [1, 4, 10])
def test_200_nodes_run_after_their_dependencies_within_the_limit(parallelism):
    deps = random_dag(200, seed=parallelism)
    rec = Recorder()
    res = walk(deps, rec, parallelism=parallelism)
    assert all(s == DONE for s in res.status.values()) and len(res.status) == 200
    for k, ds in deps.items():
        for d in ds:
            assert rec.ended[d] < rec.started[k], f"{k} started before {d} ended"
    assert rec.max_running <= parallelism
    assert res.max_running == rec.max_running or res.max_running <= parallelism


def test_wide_graph_reaches_the_parallelism_limit():
    deps = {f"n{i}": [] for i in range(40)}
    rec = Recorder(latency=0.02)
    walk(deps, rec, parallelism=8)
    assert rec.max_running == 8


def test_failure_skips_exactly_the_transitive_dependants():
    deps = random_dag(200, seed=7)
    bad = "workload.w20"
    rec = Recorder(fail={bad})
    res = walk(deps, rec, parallelism=10)
    expected = _transitive_dependants(deps, bad)
    assert res.status[bad] == FAILED
    assert {k for k, s in res.status.items() if s == SKIPPED} == expected
    assert {k for k, s in res.status.items() if s == DONE} == set(deps) - expected - {bad}
    assert not (set(rec.started) & expected), "a dependant of a failed node ran"
    for k in expected:
        assert res.reasons[k].startswith("upstream failed")


def test_skip_raised_by_a_node_skips_its_dependants():
    deps = {"a": [], "b": ["a"], "c": ["b"], "d": []}

    def run(k):
        if k == "a":
            raise Skip("upstream job failed")
        return k

    res = walk(deps, run)
    assert res.status == {"a": SKIPPED, "b": SKIPPED, "c": SKIPPED, "d": DONE}
    assert res.reasons["a"] == "upstream job failed"


def test_per_group_limit_holds_while_other_groups_proceed():
    deps = {f"{g}{i}": [] for g in "ab" for i in range(12)}
    lock = threading.Lock()
    running = {"a": 0, "b": 0}
    peak = {"a": 0, "b": 0}

    def run(k):
        g = k[0]
        with lock:
            running[g] += 1
            peak[g] = max(peak[g], running[g])
        time.sleep(0.01)
        with lock:
            running[g] -= 1

    walk(deps, run, parallelism=10, limits={"a": 2}, group_of=lambda k: k[0])
    assert peak["a"] == 2
    assert peak["b"] > 2


def test_cancel_stops_new_nodes_and_lets_running_ones_finish():
    deps = {f"n{i}": ([f"n{i-1}"] if i else []) for i in range(10)}
    cancel = threading.Event()
    ran = []

    def run(k):
        ran.append(k)
        if k == "n2":
            cancel.set()
            time.sleep(0.02)
        return k

    res = walk(deps, run, cancel=cancel)
    assert ran == ["n0", "n1", "n2"]
    assert res.status["n2"] == DONE
    assert all(res.status[f"n{i}"] == SKIPPED and res.reasons[f"n{i}"] == "cancelled" for i in range(3, 10))


def test_abandon_returns_without_waiting_for_running_nodes():
    abandon = threading.Event()
    release = threading.Event()

    def run(k):
        abandon.set()
        release.wait(5)

    t0 = time.monotonic()
    res = walk({"slow": []}, run, abandon=abandon)
    release.set()
    assert res.status["slow"] == "abandoned"
    assert time.monotonic() - t0 < 2


def test_unknown_dependency_is_rejected():
    with pytest.raises(ValueError):
        walk({"a": ["missing"]}, lambda k: k)

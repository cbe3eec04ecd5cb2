"""A generic bounded-parallel DAG walker. It knows nothing of plans or providers.

``walk(deps, run, parallelism=, limits=, group_of=)`` runs ``run(key)`` for every
key once all of its dependencies are done, at most ``parallelism`` at a time and
at most ``limits[g]`` at a time within group ``g``. Ready nodes start in order of
their height (longest chain of dependants below them), which keeps the critical
path busy. A node that raises fails; every node that transitively depends on it
is skipped ("upstream failed") and independent branches go on. A node may raise
``Skip`` to end as skipped (its dependants are skipped too).

Cancellation is cooperative: once ``cancel`` is set no new node starts, running
ones finish, the rest are skipped ("cancelled"). Once ``abandon`` is set the
walker returns at once, reporting running nodes as abandoned (their threads are
daemons and are left to finish or die with the process).
"""

from __future__ import annotations

import heapq
import queue
import threading
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from typing import Any, Callable, Mapping

DONE = "done"
FAILED = "failed"
SKIPPED = "skipped"
ABANDONED = "abandoned"


class Skip(Exception):
    """Raised by a node to end as skipped (with ``str(reason)``) instead of failed."""


@dataclass
class WalkResult:
    status: dict[str, str] = field(default_factory=dict)  # key -> done | failed | skipped | abandoned
    results: dict[str, Any] = field(default_factory=dict)  # key -> run()'s return value
    errors: dict[str, BaseException] = field(default_factory=dict)  # failed keys
    reasons: dict[str, str] = field(default_factory=dict)  # skipped/abandoned keys -> why
    order: list[str] = field(default_factory=list)  # keys in the order they finished
    max_running: int = 0

    def keys(self, status: str) -> list[str]:
        return [k for k in self.order if self.status.get(k) == status]


class Hooks:
    """No-op callbacks the walker calls (from its own thread, never concurrently)."""

    def started(self, key: str) -> None: ...
    def finished(self, key: str, result: Any) -> None: ...
    def failed(self, key: str, error: BaseException) -> None: ...
    def skipped(self, key: str, reason: str) -> None: ...


def _heights(deps: Mapping[str, frozenset[str] | set[str] | tuple]) -> dict[str, int]:
    dependants: dict[str, list[str]] = {k: [] for k in deps}
    for k, ds in deps.items():
        for d in ds:
            dependants[d].append(k)
    order = list(TopologicalSorter({k: tuple(v) for k, v in deps.items()}).static_order())
    height: dict[str, int] = {}
    for k in reversed(order):
        height[k] = 1 + max((height[c] for c in dependants[k]), default=0)
    return height


def walk(
    deps: Mapping[str, Any],
    run: Callable[[str], Any],
    *,
    parallelism: int = 10,
    limits: Mapping[str, int] | None = None,
    group_of: Callable[[str], str] | None = None,
    hooks: Hooks | None = None,
    cancel: threading.Event | None = None,
    abandon: threading.Event | None = None,
    priority: Mapping[str, float] | None = None,
) -> WalkResult:
    """Walk the DAG ``deps`` (key -> keys it waits for). See the module docstring."""
    if parallelism < 1:
        raise ValueError("parallelism must be at least 1")
    hooks = hooks or Hooks()
    limits = dict(limits or {})
    group_of = group_of or (lambda k: "")
    cancel = cancel or threading.Event()
    abandon = abandon or threading.Event()
    deps = {k: frozenset(v) for k, v in deps.items()}
    for k, ds in deps.items():
        missing = ds - deps.keys()
        if missing:
            raise ValueError(f"{k} depends on unknown node(s) {sorted(missing)}")
    prio = dict(priority) if priority is not None else _heights(deps)

    dependants: dict[str, list[str]] = {k: [] for k in deps}
    waiting: dict[str, int] = {}
    for k, ds in deps.items():
        waiting[k] = len(ds)
        for d in ds:
            dependants[d].append(k)

    result = WalkResult()
    ready: list[tuple[float, int, str]] = []
    seq = 0
    for k in deps:
        if waiting[k] == 0:
            heapq.heappush(ready, (-prio.get(k, 0), seq, k))
            seq += 1
    running: set[str] = set()
    per_group: dict[str, int] = {}
    events: "queue.Queue[tuple[str, str, Any]]" = queue.Queue()

    def worker(key: str) -> None:
        try:
            events.put((key, DONE, run(key)))
        except Skip as s:
            events.put((key, SKIPPED, str(s)))
        except BaseException as e:  # noqa: BLE001 - a node's failure is data here
            events.put((key, FAILED, e))

    def settle(key: str, status: str) -> None:
        result.status[key] = status
        result.order.append(key)

    def skip_below(key: str, reason: str) -> None:
        stack = list(dependants[key])
        while stack:
            k = stack.pop()
            if k in result.status:
                continue
            settle(k, SKIPPED)
            result.reasons[k] = reason
            hooks.skipped(k, reason)
            stack.extend(dependants[k])

    def release(key: str) -> None:
        nonlocal seq
        for k in dependants[key]:
            waiting[k] -= 1
            if waiting[k] == 0 and k not in result.status:
                heapq.heappush(ready, (-prio.get(k, 0), seq, k))
                seq += 1

    def start_what_fits() -> None:
        held: list[tuple[float, int, str]] = []
        while ready and len(running) < parallelism:
            item = heapq.heappop(ready)
            key = item[2]
            if key in result.status:
                continue
            g = group_of(key)
            if g in limits and per_group.get(g, 0) >= limits[g]:
                held.append(item)
                continue
            running.add(key)
            per_group[g] = per_group.get(g, 0) + 1
            result.max_running = max(result.max_running, len(running))
            hooks.started(key)
            threading.Thread(target=worker, args=(key,), name=f"apply:{key}", daemon=True).start()
        for item in held:
            heapq.heappush(ready, item)

    while True:
        if not cancel.is_set():
            start_what_fits()
        if not running:
            break
        if abandon.is_set():
            for k in sorted(running):
                settle(k, ABANDONED)
                result.reasons[k] = "abandoned while running (interrupted twice)"
                hooks.skipped(k, result.reasons[k])
            running.clear()
            break
        try:
            key, status, value = events.get(timeout=0.1)
        except queue.Empty:
            continue
        running.discard(key)
        g = group_of(key)
        per_group[g] -= 1
        settle(key, status)
        if status == DONE:
            result.results[key] = value
            hooks.finished(key, value)
            release(key)
        elif status == SKIPPED:
            result.reasons[key] = value
            hooks.skipped(key, value)
            skip_below(key, f"upstream skipped: {key}")
        else:
            result.errors[key] = value
            hooks.failed(key, value)
            skip_below(key, f"upstream failed: {key}")

    for k in deps:
        if k not in result.status:
            settle(k, SKIPPED)
            result.reasons[k] = "cancelled" if cancel.is_set() else "not reached"
            hooks.skipped(k, result.reasons[k])
    return result

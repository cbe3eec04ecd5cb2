"""The control loop: a tick is refresh, decide, plan the repair, apply it.

``tick`` takes the state lock for that tick only: it refreshes what runs, decides
for every deadline job the mode it must run in (``deadline.control``: Uniform
Progress over progress measured from the journal and the capacity remembered in
state), plans the repair with those modes steering the solver (a job moved
between spot and on-demand is a replacement of its placement; a job told to wait
is not re-launched) and applies it. ``skyplan watch`` runs ticks every
``--interval`` until SIGTERM/SIGINT (``--once``: one tick); ``skyplan drift
--repair`` makes the same decisions through ``plan_repair``.

The orchestration lives here, beside ``workflow.make_plan``: ``drift/`` only
refreshes, classifies and reports, and calls nothing in ``workflow``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Mapping, Sequence

from skyplan import workflow
from skyplan.drift.classify import Refreshed
from skyplan.drift.repair import (RepairPlan, accept_fixes, check_envelope, in_place_restores, needs_replacement,
                                  replica_groups, restore_in_place, state_fixes)
from skyplan.planner.model import Action
from skyplan.planner.options import PlanOptions
from skyplan.providers.base import Provider


def deadline_decisions(graph, store, refreshed: Refreshed, providers: Mapping[str, Provider], options: PlanOptions,
                       now: datetime | None = None) -> list:
    """``deadline.control.job_decisions`` for ``graph`` after ``refreshed`` (no provider
    is asked anything but the jobs' logs); empty without deadline jobs."""
    from skyplan.deadline.control import has_deadline_jobs, job_decisions
    from skyplan.drift.blocked import durable_blocked

    if not has_deadline_jobs(graph):
        return []
    now = now or datetime.now(timezone.utc)
    offers, _ = workflow.build_offers(graph, options.catalog, providers, store=store, live=False)
    lost = durable_blocked(store, refreshed, now, options.capacity_memory)
    return job_decisions(graph, refreshed.snapshot, store, providers, offers, lost, now)


def plan_repair(graph, store, prior, refreshed: Refreshed, options: PlanOptions,
                providers: Mapping[str, Provider] | None = None, decisions: Sequence = ()) -> RepairPlan:
    """Make the repair plan (the caller holds the lock on ``store``) from ``refreshed``
    (made by ``providers`` under the same lock: they are not asked a second time).
    ``decisions`` (``deadline_decisions``) steer their jobs' pricing: ``replace``
    moves a job, ``hold`` keeps it from being re-launched; a job with
    ``recovery.strategy = "none"`` is never re-run."""
    declared = set(graph.workloads) | set(graph.fleets)
    replace_addrs = set(needs_replacement(refreshed, sorted(declared)))
    never = {a for a, w in graph.workloads.items() if w.deadline is not None and w.deadline.strategy == "none"}
    held = {d.address for d in decisions if d.action in ("hold", "none")}
    moved = {d.address for d in decisions if d.action == "replace" and d.address in refreshed.snapshot.resources}
    replace_addrs = (replace_addrs - never - held) | moved
    steer = {d.address: d.pricing for d in decisions}
    some = replica_groups(refreshed, sorted(replace_addrs - moved))  # services: only the replicas that need it
    opts = replace(options, replace=tuple(sorted(set(options.replace) | (replace_addrs - set(some)))),
                   replace_groups={**options.replace_groups, **some}, refresh=True, refresh_only=False, destroy=False)
    result = workflow.make_plan(graph.root, opts, store=store, graph=graph, operation="drift",
                                providers=providers, refreshed=refreshed, steer=steer)
    plan = replace(result.plan, options={**result.plan.options, "repair": True})  # keeps the approved envelopes
    check_envelope(plan)
    touched = {c.address for c in plan.changes if c.action is not Action.NOOP}
    restores = in_place_restores(prior, refreshed, skip=sorted(touched))
    accept = state_fixes(refreshed, skip=sorted(touched | {r.address for r in restores}))
    return RepairPlan(plan=plan, replace=tuple(sorted(replace_addrs)), restores=restores, accept=accept,
                      providers=dict(result.providers))


@dataclass
class TickResult:
    decisions: list = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)


def apply_repair(graph, store, refreshed: Refreshed, rp: RepairPlan, providers: Mapping[str, Provider], *,
                 parallelism: int = 10, cancel: threading.Event | None = None,
                 abandon: threading.Event | None = None) -> TickResult:
    """Apply ``rp`` (changes, in-place restores, state fixes); failures are in the result."""
    from skyplan.apply import apply_plan, provider_limits
    from skyplan.apply.progress import Reporter

    out = TickResult(counts={"added": 0, "changed": 0, "destroyed": 0, "restored": 0, "recorded": 0})
    if rp.empty:
        return out
    every = {**providers, **rp.providers}
    store.backup()
    if rp.plan is not None and rp.plan.has_changes:
        res = apply_plan(rp.plan, store, every, parallelism=parallelism, reporter=Reporter(), graph=graph,
                         limits=provider_limits(every, graph.providers), cancel=cancel, abandon=abandon)
        out.counts.update(added=res.added, changed=res.changed, destroyed=res.destroyed)
        out.errors += [f"{k}: {v}" for k, v in res.errors.items()]
        out.errors += [f"{k}: skipped ({v})" for k, v in res.reasons.items()]
    if cancel is None or not cancel.is_set():
        failed = restore_in_place(store, rp.restores, every)
        out.counts["restored"] = len(rp.restores) - len(failed)
        out.errors += failed
        out.counts["recorded"] = accept_fixes(store, refreshed, rp.accept) if rp.accept else 0
    return out


def tick(dir: str | Path, options: PlanOptions, *, emit: Callable[[dict], None],
         cancel: threading.Event | None = None, now: datetime | None = None) -> TickResult:
    """One tick under the state lock; each decision is given to ``emit`` as it is made.
    Raises SkyplanError subclasses (a provider that cannot be reached: ProviderError/AuthError)."""
    from skyplan.errors import StateError

    graph = workflow.load_config(dir, options.vars, options.var_files)
    if not workflow.state_path(graph).exists():
        raise StateError(f"no state at {workflow.state_path(graph)}: nothing has been applied from this "
                         "configuration yet", hint="run skyplan apply first")
    store = workflow.open_state(graph, create=False)
    try:
        with workflow.maybe_lock(store, options, "watch"):
            now = now or datetime.now(timezone.utc)
            prior = store.snapshot()
            providers = workflow.build_providers(graph)
            refreshed = workflow.refresh(graph, prior, providers, store)
            decisions = deadline_decisions(graph, store, refreshed, providers, options, now)
            for d in decisions:
                emit(d.to_json(now))
            rp = plan_repair(graph, store, prior, refreshed, options, providers=providers, decisions=decisions)
            result = apply_repair(graph, store, refreshed, rp, providers, parallelism=options.parallelism,
                                  cancel=cancel)
            result.decisions = decisions
            return result
    finally:
        store.close()


def run(dir: str | Path, options: PlanOptions, *, interval: float, once: bool, emit: Callable[[dict], None],
        stop: threading.Event) -> int:
    """Ticks every ``interval`` seconds until ``stop`` is set (``once``: one tick).
    Returns 0, or 1 when a tick failed (a provider unreachable, an apply error)."""
    while True:
        result = tick(dir, options, emit=emit, cancel=stop)
        for e in result.errors:
            emit({"at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "error": e})
        if result.errors:
            return 1
        if once or stop.wait(interval):
            return 0

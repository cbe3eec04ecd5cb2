"""Apply: carries out a Plan. ``graph`` builds the action DAG from the plan's changes,
``walker`` walks any DAG with bounded parallelism (globally and per provider),
``executor`` is what each step does against its provider (``jobs``: waiting for a
job's outcome), ``failover`` moves a node
group to its next approved placement on capacity errors, ``retry`` retries
transient errors with backoff, and ``progress`` reports what happens. Every
finished action is recorded in state at once; a failed action skips its
dependants and nothing is re-planned beyond the approved envelope.

Entry point: ``apply_plan(plan, store, providers, parallelism=, reporter=) -> ApplyResult``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Mapping

from skyplan.apply.graph import CREATE, DELETE, DELETE_OLD, UPDATE, ActionGraph, Step, build_graph
from skyplan.apply.progress import Reporter
from skyplan.apply.retry import RetryPolicy
from skyplan.apply.walker import ABANDONED, DONE, FAILED, SKIPPED, walk
from skyplan.planner.model import Plan
from skyplan.providers.base import Provider


@dataclass
class ApplyResult:
    """What happened to each step (keys like ``workload.train (create)``)."""

    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # failed key -> message
    reasons: dict[str, str] = field(default_factory=dict)  # skipped/abandoned key -> why
    added: int = 0
    changed: int = 0
    destroyed: int = 0
    cancelled: bool = False
    max_running: int = 0
    warnings: list[str] = field(default_factory=list)
    lock_lost: str = ""  # set when the state lock was taken away mid-apply: nothing more started
    state_unreachable: bool = False  # lock_lost because the state database could not be reached

    @property
    def ok(self) -> bool:
        return not (self.failed or self.skipped or self.abandoned or self.lock_lost)

    def summary(self) -> str:
        if self.ok:
            return (f"Apply complete! Resources: {self.added} added, {self.changed} changed, "
                    f"{self.destroyed} destroyed.")
        head = "Apply interrupted" if self.cancelled else "Apply failed"
        if self.lock_lost:
            head = ("Apply stopped: it lost the state lock, so it started nothing more (what it did is in "
                    "`skyplan state history`; run `skyplan plan` to see what is left)")
        if self.state_unreachable:
            head = ("Apply stopped: the state database could not be reached, so it started nothing more (what "
                    "it did but could not record is listed with the errors; run `skyplan plan` once the database is back)")
        return (f"{head}: {len(self.done)} done, {len(self.failed)} failed, "
                f"{len(self.skipped) + len(self.abandoned)} skipped. Resources: {self.added} added, "
                f"{self.changed} changed, {self.destroyed} destroyed.")

    def to_json(self) -> dict:
        return {
            "ok": self.ok, "done": self.done, "failed": self.failed, "skipped": self.skipped,
            "abandoned": self.abandoned, "errors": self.errors, "reasons": self.reasons,
            "added": self.added, "changed": self.changed, "destroyed": self.destroyed, "cancelled": self.cancelled,
            "warnings": self.warnings, "lock_lost": self.lock_lost or None,
        }


def provider_limits(providers: Mapping[str, Provider], configs: Mapping[str, Any] | None = None) -> dict[str, int]:
    """Per-provider ``max_parallel`` from provider blocks (``settings``) or the provider objects."""
    limits: dict[str, int] = {}
    for key, prov in providers.items():
        value = None
        cfg = (configs or {}).get(key)
        if cfg is not None:
            value = dict(getattr(cfg, "settings", {}) or {}).get("max_parallel")
        if value is None:
            value = getattr(prov, "max_parallel", None)
        if value:
            limits[key] = max(1, int(value))
    return limits


def _journal_unfinished(store, actions: ActionGraph, res: ApplyResult) -> None:
    """Failed and skipped actions changed no resource; the state journal still says so."""
    journal = getattr(store, "journal_event", None)
    if res.lock_lost and getattr(store, "journal_lost", None) is not None:
        def journal(address, op, outcome, detail):  # noqa: F811 - this holder may only journal now
            store.journal_lost(address, op, f"{outcome}: {detail}")
    if journal is None:
        return
    for key, outcome, why in ([(k, "failed", res.errors[k]) for k in res.failed]
                              + [(k, "skipped", res.reasons.get(k, "")) for k in res.skipped + res.abandoned]):
        step = actions.steps[key]
        try:
            journal(step.address, step.op, outcome, detail=(why.splitlines() or [""])[0][:500])
        except Exception as e:  # noqa: BLE001 - the journal is a record, not a reason to fail
            res.warnings.append(f"could not journal {key}: {e}")


def apply_plan(
    plan: Plan,
    store,
    providers: Mapping[str, Provider],
    *,
    parallelism: int = 10,
    reporter: Reporter | None = None,
    cancel: threading.Event | None = None,
    abandon: threading.Event | None = None,
    limits: Mapping[str, int] | None = None,
    retry: RetryPolicy | None = None,
    poll_interval: float = 0.05,
    graph=None,
) -> ApplyResult:
    """Carry out ``plan``: every step in dependency order, recorded in ``store`` as it ends.

    Failures do not raise: they are in the result (``ok`` False); the caller decides
    the exit code. Raises ApplyError only for a plan that cannot be walked (a cycle).
    ``graph`` (the DesiredGraph) lets outputs be evaluated from what was created;
    without it the plan's output values are recorded.
    """
    from skyplan.apply.executor import Executor

    reporter = reporter or Reporter()
    cancel = cancel or threading.Event()
    actions: ActionGraph = build_graph(plan)
    lim = dict(limits) if limits is not None else provider_limits(providers)
    ex = Executor(plan=plan, store=store, providers=providers, reporter=reporter,
                  retry=retry or RetryPolicy(), cancel=cancel, poll_interval=poll_interval, graph=graph)

    for c in plan.changes:  # moved blocks: state's records take their new addresses first
        if c.previous_address and store.get(c.previous_address) is not None:
            store.move(c.previous_address, c.address)
    if any(c.import_id for c in plan.changes):  # import blocks: adopt into state first
        from skyplan.imports import adopt_planned

        adopt_planned(plan, store, providers, graph)
    for c in plan.changes:  # removed blocks with destroy = false: state forgets, the cloud keeps it
        if c.forget and store.get(c.address) is not None:
            store.forget(c.address, action="forget")
    ex.adopt_refreshed()
    reporter.begin(list(actions.steps))
    try:
        walked = walk(actions.deps, lambda k: ex.run(actions.steps[k]), parallelism=parallelism, limits=lim,
                      group_of=lambda k: actions.steps[k].provider, hooks=reporter, cancel=cancel, abandon=abandon)
    finally:
        reporter.end()

    # A lost lock stops the walk through ``cancel`` too; that is not the user's interrupt.
    res = ApplyResult(cancelled=cancel.is_set() and not ex.lock_lost, max_running=walked.max_running,
                      lock_lost=ex.lock_lost, state_unreachable=ex.state_unreachable)
    for key in walked.order:
        status = walked.status[key]
        op = actions.steps[key].op
        if status == DONE:
            res.done.append(key)
            res.added += op == CREATE
            res.changed += op == UPDATE
            res.destroyed += op in (DELETE, DELETE_OLD)
        elif status == FAILED:
            res.failed.append(key)
            err = walked.errors[key]
            hint = getattr(err, "hint", None)  # what to do, as every other error says it
            res.errors[key] = (str(err) or type(err).__name__) + (f"\nhint: {hint}" if hint else "")
        elif status == SKIPPED:
            res.skipped.append(key)
            res.reasons[key] = walked.reasons.get(key, "")
            if res.lock_lost and res.reasons[key] == "cancelled":
                res.reasons[key] = "not started: this apply lost the state lock"
        elif status == ABANDONED:
            res.abandoned.append(key)
            res.reasons[key] = walked.reasons.get(key, "")
    _journal_unfinished(store, actions, res)
    if not res.abandoned and not res.lock_lost:
        from skyplan.apply.outputs import record_outputs

        try:
            record_outputs(plan, store, graph)
        except Exception as e:  # noqa: BLE001 - resources are applied; say why outputs were not
            res.warnings.append(f"outputs were not recorded: {type(e).__name__}: {e}")
    return res


__all__ = ["ApplyResult", "Step", "apply_plan", "build_graph", "provider_limits", "RetryPolicy", "Reporter"]

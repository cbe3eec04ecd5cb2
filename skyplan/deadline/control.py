"""Decide, for every deadline job of a configuration, the mode it runs in now.

``job_decisions`` gathers what ``decide`` needs per job with
``recovery.strategy = "uniform_progress"``: its progress (``progress.measure`` over
the state journal, or the job's own SKYPLAN_PROGRESS report), the time left to
its deadline (``deadline``, or ``deadline_hours`` after its first apply) and
whether spot capacity can be had for all its nodes now: spot is offered for it
and no scope where it could run is remembered as lost (``state.capacity``), or
it runs on spot right now. The result says which pricing the solver may use
(``steer``) and what repair does: ``replace`` (move to the decided mode, or
re-run where it was preempted), ``keep`` or ``hold`` (launch nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Mapping, Sequence

from skyplan.deadline.policy import Decision, Mode, Progress, decide
from skyplan.deadline.progress import Measured, measure, parse_time, read_reported


@dataclass(frozen=True)
class JobDecision:
    address: str
    decision: Decision
    previous: Mode  # what it ran on before this decision
    measured: Measured
    deadline: datetime | None
    remaining: float  # C(t), hours
    time_left: float  # R(t), hours
    action: str  # "replace" | "keep" | "hold" | "none"

    @property
    def pricing(self) -> tuple[str, ...]:
        """The pricing the solver may use for the job: the decided mode's; for a job held
        or done, the one its nodes run on (it must not be moved), or ``()`` when none run."""
        mode = self.decision.mode if self.action in ("replace", "keep") else self.previous
        return {Mode.SPOT: ("spot",), Mode.ON_DEMAND: ("on_demand",)}.get(mode, ())

    def to_json(self, now: datetime) -> dict:
        from datetime import timedelta

        hours = self.decision.hours
        return {
            "at": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "address": self.address,
            "mode": self.decision.mode.value, "previous": self.previous.value, "action": self.action,
            "reason": self.decision.reason,
            **({"until": (now + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")} if hours is not None else {}),
            "deadline": self.deadline.strftime("%Y-%m-%dT%H:%M:%SZ") if self.deadline else None,
            "remaining_hours": round(self.remaining, 4), "time_left_hours": round(self.time_left, 4),
            "slack_hours": round(self.time_left - self.remaining, 4),
            "ran_hours": round(self.measured.ran_hours, 4), "starts": self.measured.starts,
        }


def has_deadline_jobs(graph) -> bool:
    """Whether some workload of ``graph`` has a deadline (else there is nothing to decide)."""
    return any(w.deadline is not None and w.deadline.has_deadline for w in graph.workloads.values())


def spot_offered(workload, offers: Mapping[str, list], lost: Sequence[tuple]) -> bool:
    """Whether some spot offer the workload may use lies outside every lost scope."""
    from skyplan.solver.items import is_blocked

    allowed = set(workload.placement.providers)
    for key, items in offers.items():
        if allowed and key not in allowed and key.split(".")[0] not in allowed:
            continue
        for o in items:
            if o.spot is not None and not is_blocked(key, o.region, o.zone, tuple(lost), "spot"):
                return True
    return False


def job_decisions(graph, snapshot, store, providers: Mapping, offers: Mapping[str, list],
                  lost: Mapping[str, Sequence[tuple]], now: datetime | None = None,
                  journal: bool = True) -> list[JobDecision]:
    """One decision per deadline job with the uniform_progress strategy (sorted by address).
    ``snapshot``: as refresh read it now; ``lost``: address -> scopes remembered as lost;
    ``journal``: write that nodes stopped (``observe``; a plan only reads)."""
    now = now or datetime.now(timezone.utc)
    out = []
    for address, w in sorted(graph.workloads.items()):
        spec = w.deadline
        if spec is None or not spec.has_deadline or spec.strategy != "uniform_progress":
            continue
        rec = snapshot.resources.get(address)
        if journal and store is not None and rec is not None:
            observe(store, store.get(address), rec)
        rows = list(reversed(store.history(address=address))) if store is not None and rec is not None else []
        nodes = [i.to_json() for i in rec.instances] if rec is not None else None
        live = [i for i in (rec.instances if rec else ()) if i.state in ("pending", "running")]
        reported = read_reported(providers, live) if live else None
        m = measure(rows, now, spec.changeover_hours, w.duration_hours or 0.0, current=nodes, reported=reported)
        started = m.first_start or (parse_time(rec.created_at) if rec is not None and rec.created_at else now)
        due = spec.due(started)
        window = max(1e-9, (due - started).total_seconds() / 3600)
        time_left = (due - now).total_seconds() / 3600
        remaining = m.remaining(w.duration_hours or 0.0)
        on_spot = m.mode is Mode.SPOT
        spot_ok = "spot" in w.pricing and (on_spot or spot_offered(w, offers, lost.get(address, ())))
        nodes_needed = w.num_nodes
        p = Progress(remaining=remaining, time_left=time_left, changeover=spec.changeover_hours,
                     total=w.duration_hours or 0.0, window=window, mode=m.mode,
                     spot_nodes=nodes_needed if spot_ok else 0, nodes=nodes_needed)
        d = decide(p)
        if d.mode is Mode.ON_DEMAND and "on_demand" not in w.pricing:
            d = Decision(Mode.WAIT, d.reason + "; but pricing allows spot only: waiting for spot")
        restarts_left = spec.max_restarts is None or m.starts <= spec.max_restarts
        if d.mode is Mode.DONE:
            action = "none"
        elif d.mode is Mode.WAIT:
            action = "hold"
        elif d.mode is m.mode:
            action = "keep"
        elif not restarts_left and m.starts:
            d = Decision(Mode.WAIT, f"{m.starts - 1} restart(s) made, recovery.max_restarts = {spec.max_restarts}: "
                                    "left as it is")
            action = "hold"
        else:
            action = "replace"
        out.append(JobDecision(address, d, m.mode, m, due, remaining, time_left, action))
    return out


def observe(store, recorded, now_rec) -> None:
    """Journal (no serial change) that a deadline job's nodes stopped running since state
    recorded them, with their end times, so progress stops counting where they stopped."""
    if recorded is None:
        return
    before = {i.id: i.state for i in recorded.instances}
    gone = [i for i in now_rec.instances if before.get(i.id) in ("pending", "running")
            and i.state not in ("pending", "running")]
    if gone:
        detail = "not running: " + ", ".join(f"{i.id} {i.state}" for i in gone)
        last = store.history(limit=1, address=now_rec.address)
        if last and last[0]["action"] == "observe" and last[0]["detail"] == detail:
            return  # already journalled by an earlier tick
        store.journal_event(now_rec.address, "observe", "ok", detail=detail, after=now_rec)

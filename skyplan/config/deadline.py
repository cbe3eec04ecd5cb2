"""What a job says about finishing on time: ``deadline`` (an RFC 3339 instant) or
``deadline_hours`` (hours from its first apply), ``changeover_hours`` (the cost of a
restart: provisioning, setup and the work lost since the last checkpoint) and the
``recovery { strategy, max_restarts }`` block.

They become one frozen ``DeadlineSpec`` on ``Workload.deadline`` (None when none of
them is written, so such a workload builds and diffs as before). Problems go to
``report`` as (summary, attribute path, hint), shown at their file:line:col.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any, Callable

Report = Callable[..., None]

STRATEGIES = ("uniform_progress", "eager_next_region", "failover", "none")
ATTRIBUTES = ("deadline", "deadline_hours", "changeover_hours", "recovery")


@dataclass(frozen=True)
class DeadlineSpec:
    """When a job must be done and how it recovers from losing its nodes."""

    deadline: str | None = None  # RFC 3339, normalised to UTC "...Z"
    deadline_hours: float | None = None  # from the first apply
    changeover_hours: float = 0.0
    strategy: str = "eager_next_region"
    max_restarts: int | None = None

    @property
    def has_deadline(self) -> bool:
        return self.deadline is not None or self.deadline_hours is not None

    def due(self, started: datetime | None) -> datetime | None:
        """The deadline as an instant: the written one, or ``deadline_hours`` after ``started``."""
        if self.deadline is not None:
            return parse_instant(self.deadline)
        if self.deadline_hours is not None and started is not None:
            from datetime import timedelta

            return started + timedelta(hours=self.deadline_hours)
        return None

    def attributes(self) -> dict:
        """The part of ``Workload.attributes()`` this adds: only what was written."""
        out: dict = {}
        if self.deadline is not None:
            out["deadline"] = self.deadline
        if self.deadline_hours is not None:
            out["deadline_hours"] = self.deadline_hours
        if self.has_deadline or self.changeover_hours:
            out["changeover_hours"] = self.changeover_hours
        out["recovery"] = {"strategy": self.strategy, "max_restarts": self.max_restarts}
        return out

    def to_json(self) -> dict:
        return asdict(self)


def parse_instant(text: str) -> datetime:
    """An RFC 3339 instant (``2026-12-20T18:00:00Z``, ``...+01:00``) as an aware UTC datetime."""
    s = str(text).strip()
    if "T" not in s.upper():
        raise ValueError(text)
    d = datetime.fromisoformat(s[:-1] + "+00:00" if s.upper().endswith("Z") else s)
    if d.tzinfo is None:
        raise ValueError(text)
    return d.astimezone(timezone.utc)


def spec(d: dict, kind: str, duration: float | None, report: Report) -> DeadlineSpec | None:
    """The workload's ``DeadlineSpec``, or None when it writes none of these attributes."""
    if not any(d.get(k) is not None for k in ATTRIBUTES):
        return None
    deadline, hours = d.get("deadline"), d.get("deadline_hours")
    rec = d.get("recovery") or {}
    has = deadline is not None or hours is not None
    strategy = str(rec.get("strategy") or ("uniform_progress" if has else "eager_next_region"))
    where = "deadline" if deadline is not None else "deadline_hours"
    if has and kind != "job":
        report(f"{where} applies to a job; a service has no end to be late for", where,
               f'set kind = "job" with duration_hours, or drop {where}')
    elif has and duration is None:
        report(f"{where} needs duration_hours: the compute the job must get done before it", where,
               "add duration_hours = 48 (hours of work), or drop the deadline")
    if deadline is not None and hours is not None:
        report("a job has one deadline: deadline or deadline_hours, not both", "deadline_hours",
               "keep deadline (an instant) or deadline_hours (hours from the first apply)")
    at = None
    if deadline is not None:
        try:
            at = parse_instant(deadline).strftime("%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            report(f'deadline = "{deadline}" is not an RFC 3339 instant', "deadline",
                   'write a date, time and offset, e.g. deadline = "2026-12-20T18:00:00Z"')
    changeover = float(d.get("changeover_hours") or 0.0)
    if hours is not None and duration is not None and float(hours) < duration + 2 * changeover:
        report(f"deadline_hours = {hours:g} leaves no room for duration_hours = {duration:g}"
               + (f" and two changeovers of {changeover:g} h" if changeover else ""), "deadline_hours",
               f"give at least {duration + 2 * changeover:g} hours, or shorten duration_hours")
    if strategy == "uniform_progress" and not has:
        report('recovery.strategy = "uniform_progress" paces a job against its deadline, but it has none',
               "recovery.strategy", 'add deadline or deadline_hours, or use strategy = "eager_next_region"')
    max_restarts = rec.get("max_restarts")
    return DeadlineSpec(deadline=at, deadline_hours=float(hours) if hours is not None else None,
                        changeover_hours=changeover, strategy=strategy,
                        max_restarts=int(max_restarts) if max_restarts is not None else None)


def too_late(spec: DeadlineSpec, duration: float, now: datetime) -> str | None:
    """Why a job not yet started cannot make its written deadline, or None when it can."""
    if spec.deadline is None:
        return None
    due = parse_instant(spec.deadline)
    need = duration + 2 * spec.changeover_hours
    left = (due - now).total_seconds() / 3600
    if left < need:
        return (f"deadline {spec.deadline} is before now + duration_hours: {left:.2f} h left, "
                f"{need:g} h of work and changeovers needed")
    return None


def from_json(d: Any) -> DeadlineSpec | None:
    """A workload record's attributes back into a ``DeadlineSpec`` (None without any)."""
    if not isinstance(d, dict) or not any(k in d for k in ATTRIBUTES):
        return None
    rec = d.get("recovery") or {}
    return DeadlineSpec(deadline=d.get("deadline"), deadline_hours=d.get("deadline_hours"),
                        changeover_hours=float(d.get("changeover_hours") or 0.0),
                        strategy=rec.get("strategy", "eager_next_region"), max_restarts=rec.get("max_restarts"))


def check_new_jobs(graph, snapshot, now: datetime) -> None:
    """Refuse to plan a job not yet in state whose written deadline it can no longer
    make (DiagnosticsError at its ``deadline`` attribute)."""
    from skyplan.errors import Diagnostic, DiagnosticsError

    problems = []
    for address, w in sorted(graph.workloads.items()):
        if w.deadline is None or address in snapshot.resources or w.duration_hours is None:
            continue
        why = too_late(w.deadline, w.duration_hours, now)
        if why:
            problems.append(Diagnostic(f"{address}: {why}", source=graph.source_of(address, "deadline"),
                                       hint="move the deadline later, shorten duration_hours, or use "
                                            "deadline_hours (counted from the first apply)"))
    if problems:
        raise DiagnosticsError(problems)

"""What the text plan says of a deadline job: its deadline, the time left for its
work, the slack, the mode it is placed in and why (Uniform Progress's own reason).

Pure: the time is the plan's ``created_at``; a job not yet run has all its work
ahead of it; for one already running, the work left is what ``skyplan watch``
measures from the journal, so only the deadline and the time left are shown.
"""

from __future__ import annotations

from datetime import datetime

from skyplan.planner.model import Action, Plan


def _hours(x: float) -> str:
    return f"{x:.2f} h"


def deadline_lines(plan: Plan) -> list[str]:
    from skyplan.config.deadline import from_json
    from skyplan.deadline.policy import Mode, Progress, decide
    from skyplan.deadline.progress import parse_time

    out: list[str] = []
    try:
        now = parse_time(plan.created_at) if plan.created_at else None
    except ValueError:
        now = None
    for c in plan.changes:
        after: dict = dict(c.after or {})
        spec = from_json(after)
        if spec is None or not spec.has_deadline or c.action is Action.DELETE or now is None:
            continue
        duration = float(after.get("duration_hours") or 0.0)
        started: datetime | None = None
        if c.prior is not None and c.prior.created_at:
            started = parse_time(c.prior.created_at)
        elif c.prior is None:
            started = now
        due = spec.due(started)
        written = spec.deadline or f"deadline_hours = {spec.deadline_hours:g} from the first apply"
        if due is None:
            out.append(f"  {c.address}: deadline {written}")
            continue
        left = (due - now).total_seconds() / 3600
        pricing = c.placement.groups[0].chosen.pricing if c.placement and c.placement.groups else ""
        if c.prior is not None:
            out.append(f"  {c.address}: deadline {due:%Y-%m-%dT%H:%M:%SZ} ({written}), {_hours(left)} left; "
                       f"on {pricing or 'its placement'}, paced by skyplan watch")
            continue
        window = max(left, 1e-9)
        mode = Mode.SPOT if pricing == "spot" else Mode.ON_DEMAND if pricing else Mode.WAIT
        d = decide(Progress(remaining=duration, time_left=left, changeover=spec.changeover_hours, total=duration,
                            window=window, mode=Mode.WAIT, spot_nodes=1 if mode is Mode.SPOT else 0, nodes=1))
        out.append(f"  {c.address}: deadline {due:%Y-%m-%dT%H:%M:%SZ} ({written}), {_hours(left)} left for "
                   f"{_hours(duration)} of work, slack {_hours(left - duration)}; starts on "
                   f"{pricing or 'nothing'}: {d.reason}")
    return out

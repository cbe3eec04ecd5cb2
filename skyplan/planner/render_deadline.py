"""What the text plan says of a deadline job: its deadline, the time left for its
work, the slack, the mode it is placed in and why (Uniform Progress's own reason),
and for a job the policy paces its cost envelope: the $/h approved for the
placement and the on-demand $/h a deadline switch may reach for the work left,
which ``skyplan watch`` and ``drift --repair`` keep within.

Pure: the time is the plan's ``created_at``; a job not yet run has all its work
ahead of it; for one already running, the plan carries what ``skyplan watch``
would decide now (``Plan.deadlines``: the work left measured from the journal,
the slack, the mode it runs on and the policy's reason, and until when it stays
on on-demand); without a refresh only the deadline and the time left are shown.
"""

from __future__ import annotations

from datetime import datetime

from skyplan.planner.model import Action, Plan


def _hours(x: float) -> str:
    if abs(x) < 0.1:  # a job of seconds or minutes (the local provider's) reads in them
        from skyplan.deadline.policy import _h

        return _h(x)
    return f"{x:.2f} h"


def envelope_text(hourly: float, on_demand: float | None, work: float) -> str:
    """The envelope in words: the approved $/h (its fallbacks included), the on-demand
    $/h a deadline switch may reach when that is more, and what the work costs at most."""
    text = f"envelope ${hourly:.4g}/h"
    top = hourly
    if on_demand is not None and on_demand > hourly + 1e-9:
        text += f", a deadline switch to on-demand up to ${on_demand:.4g}/h for the work left"
        top = on_demand
    if on_demand is not None and work > 0:
        text += f" (at most ${top * work:.4g} for all {_hours(work)} of work)"
    return text


def _envelope(c) -> str:
    """The envelope this plan approves for the job, or the one state holds for it."""
    wp = c.placement
    if wp is not None and wp.on_demand_ceiling is not None and c.action is not Action.NOOP:
        duration = float((c.after or {}).get("duration_hours") or 0.0)
        return "; " + envelope_text(wp.approved_hourly_cost, wp.on_demand_ceiling, duration)
    env = c.prior.envelope if c.prior is not None else {}
    if "hourly" not in env:
        return ""
    text = envelope_text(float(env["hourly"]), env.get("on_demand_hourly"), float(env.get("work_hours") or 0.0))
    return "; " + text + (f", approved {env['approved_at']}" if env.get("approved_at") else "")


def _decided(d: dict, now: datetime) -> str:
    """A running job as ``skyplan watch`` sees it now: work left, slack, mode and why."""
    from skyplan.deadline.progress import parse_time

    text = (f"{_hours(d['time_left_hours'])} left for {_hours(d['remaining_hours'])} of work, "
            f"slack {_hours(d['slack_hours'])}; ")
    mode, previous, reason = d["mode"], d["previous"], d["reason"]
    if d["action"] == "none":
        return text + reason
    runs = f"runs on {previous}" if previous not in ("wait", "done") else "not running"
    if mode == previous or d["action"] in ("keep", "hold"):
        text += f"{runs}: {reason}"
    else:
        text += f"{runs}, skyplan watch moves it to {mode}: {reason}"
    if d.get("until"):
        until = parse_time(d["until"])
        shown = "%H:%M:%S" if (until - now).total_seconds() < 360 else "%H:%M"
        text += f" (until {until.strftime(shown if until.date() == now.date() else '%Y-%m-%d ' + shown)} UTC)"
    return text


def deadline_lines(plan: Plan) -> list[str]:
    from skyplan.config.deadline import from_json
    from skyplan.deadline.policy import Mode, Progress, decide
    from skyplan.deadline.progress import parse_time

    out: list[str] = []
    try:
        now = parse_time(plan.created_at) if plan.created_at else None
    except ValueError:
        now = None
    decided = {d.get("address"): d for d in plan.deadlines}
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
        if c.prior is not None and c.address in decided:
            out.append(f"  {c.address}: deadline {due:%Y-%m-%dT%H:%M:%SZ} ({written}), "
                       + _decided(decided[c.address], now) + _envelope(c))
            continue
        if c.prior is not None:
            out.append(f"  {c.address}: deadline {due:%Y-%m-%dT%H:%M:%SZ} ({written}), {_hours(left)} left; "
                       f"on {pricing or 'its placement'}, paced by skyplan watch{_envelope(c)}")
            continue
        window = max(left, 1e-9)
        mode = Mode.SPOT if pricing == "spot" else Mode.ON_DEMAND if pricing else Mode.WAIT
        d = decide(Progress(remaining=duration, time_left=left, changeover=spec.changeover_hours, total=duration,
                            window=window, mode=Mode.WAIT, spot_nodes=1 if mode is Mode.SPOT else 0, nodes=1))
        expected = ""
        if c.placement is not None and c.placement.on_demand_ceiling is not None:
            expected = f"; expected ${c.placement.expected_cost:.4g} under Uniform Progress"
        out.append(f"  {c.address}: deadline {due:%Y-%m-%dT%H:%M:%SZ} ({written}), {_hours(left)} left for "
                   f"{_hours(duration)} of work, slack {_hours(left - duration)}; starts on "
                   f"{pricing or 'nothing'}: {d.reason}{expected}{_envelope(c)}")
    return out

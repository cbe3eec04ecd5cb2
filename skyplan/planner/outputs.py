"""Output changes: the configuration's outputs against those recorded in state,
in Terraform's ``output_changes`` shape."""

from __future__ import annotations

from typing import Any

from skyplan.config.model import DesiredGraph
from skyplan.planner.attrs import strip_unknown
from skyplan.state.model import Snapshot


def output_changes(desired: DesiredGraph, prior: Snapshot, resources_change: bool, destroy: bool = False) -> dict:
    """name -> {actions, before, after, after_unknown, before_sensitive, after_sensitive}.
    An output whose value is only known after apply is a no-op when nothing it
    could read changes (no resource changes) and it is already recorded."""
    out: dict[str, Any] = {}
    for name, spec in sorted(desired.outputs.items()):
        recorded = prior.outputs.get(name)
        before = recorded.get("value") if isinstance(recorded, dict) else None
        after, unknown = strip_unknown(spec.value)
        after_unknown = bool(unknown)
        if destroy:
            actions, after, after_unknown = (["delete"] if recorded is not None else ["no-op"]), None, False
        elif recorded is None:
            actions = ["create"]
        elif after_unknown:
            actions = ["update"] if resources_change else ["no-op"]
            if not resources_change:
                after, after_unknown = before, False
        else:
            actions = ["no-op"] if after == before else ["update"]
        out[name] = {"actions": actions, "before": before, "after": after, "after_unknown": after_unknown,
                     "before_sensitive": bool(recorded.get("sensitive")) if isinstance(recorded, dict) else False,
                     "after_sensitive": spec.sensitive}
    if not destroy:
        gone = [n for n in prior.outputs if n not in desired.outputs]
    else:
        gone = [n for n in prior.outputs if n not in out]
    for name in sorted(gone):
        rec = prior.outputs[name]
        out[name] = {"actions": ["delete"], "before": rec.get("value") if isinstance(rec, dict) else rec,
                     "after": None, "after_unknown": False,
                     "before_sensitive": bool(rec.get("sensitive")) if isinstance(rec, dict) else False,
                     "after_sensitive": False}
    return out

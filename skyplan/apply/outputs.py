"""Recording outputs after apply: known values from the plan, the rest evaluated
from what state now holds (when the configuration graph is at hand)."""

from __future__ import annotations

from typing import Any, Mapping

from skyplan.planner.attrs import strip_unknown
from skyplan.planner.model import Plan


def record_outputs(plan: Plan, store, graph=None) -> None:
    """Write the outputs the plan decided on into state. Outputs the plan could not know
    are evaluated with ``skyplan.config.evaluate_outputs`` when ``graph`` is given, and
    otherwise keep their recorded value."""
    changes: Mapping[str, Any] = plan.output_changes or {}
    if not changes:
        return
    current = dict(store.snapshot().outputs)
    evaluated: Mapping[str, Any] = {}
    if graph is not None and any(v.get("after_unknown") for v in changes.values() if isinstance(v, Mapping)):
        from skyplan import config

        evaluate = getattr(config, "evaluate_outputs", None)
        if evaluate is not None:
            evaluated = evaluate(graph, store.snapshot().known_attributes()) or {}
    out: dict[str, Any] = {}
    for name, ch in changes.items():
        if not isinstance(ch, Mapping):
            continue
        actions = ch.get("actions") or []
        if actions == ["delete"]:
            continue
        sensitive = bool(ch.get("after_sensitive"))
        if ch.get("after_unknown"):
            value, unknown = strip_unknown(evaluated[name]) if name in evaluated else (None, [True])
            if not unknown:
                out[name] = {"value": value, "sensitive": sensitive}
            elif name in current:
                out[name] = current[name]
            continue
        out[name] = {"value": ch.get("after"), "sensitive": sensitive}
    store.set_outputs(out)

"""The machine-readable plan: Terraform's plan JSON where the concept is the same
(``format_version``, ``resource_changes``, ``resource_drift``, ``output_changes``,
``variables``, ``errored``, ``applyable``) plus skyplan's ``placements`` and
``cost`` and ``policy_results`` (its schema in schemas/plan.schema.json). Validated against schemas/plan.schema.json in the tests. Sensitive
values are replaced by null (their paths stay marked in ``*_sensitive``)."""

from __future__ import annotations

from typing import Any, Mapping

from skyplan import __version__
from skyplan.addrs import Address
from skyplan.planner.fleets import block_kept, waits_for
from skyplan.planner.model import Action, Change, Plan
from skyplan.planner.render_text import HOURS_PER_MONTH

FORMAT_VERSION = "1.2"


def _redact(value: Any, tree: Any) -> Any:
    """``value`` with marked paths set to null; copies only the dicts along those paths."""
    if tree is True:
        return None
    if isinstance(tree, Mapping) and isinstance(value, Mapping):
        out = dict(value)
        for k, sub in tree.items():
            if k in out:
                out[k] = _redact(out[k], sub)
        return out
    return value


def _provider_name(c: Change) -> str | None:
    if c.placement is not None and c.placement.groups:
        return c.placement.groups[0].chosen.provider
    if c.prior is not None and c.prior.placement is not None:
        return c.prior.placement.provider
    return None


def resource_change(c: Change) -> dict:
    try:
        a = Address.parse(c.address)
        module, kind, name, index = a.module_address, a.kind, a.name, a.key
    except ValueError:
        module, kind, name, index = None, c.kind, c.address, None
    entry = {
        "address": c.address, "module_address": module, "mode": "managed", "type": kind, "name": name,
        **({"previous_address": c.previous_address} if c.previous_address else {}),
        **({"importing": {"id": c.import_id}} if c.import_id else {}),
        **({"held_by": c.held_by} if c.held_by else {}),
        "index": index, "provider_name": _provider_name(c),
        "change": {
            "actions": ["forget"] if c.forget else c.action.actions,
            "before": _redact(c.before, c.before_sensitive) if c.before is not None else None,
            "after": _redact(c.after, c.after_sensitive) if c.after is not None else None,
            "after_unknown": dict(c.after_unknown) if c.action is not Action.DELETE else {},
            "before_sensitive": dict(c.before_sensitive) if c.before is not None else False,
            "after_sensitive": dict(c.after_sensitive) if c.after is not None else False,
            "replace_paths": [list(p) for p in c.replace_paths],
        },
    }
    if c.action in (Action.CREATE, Action.DELETE_THEN_CREATE, Action.CREATE_THEN_DELETE) \
            and c.after is not None and "instances" not in entry["change"]["after_unknown"]:
        entry["change"]["after_unknown"]["instances"] = True
    change = entry["change"]
    if c.tags_before is not None and change["before"] is not None:  # Terraform's tags_all: own over default_tags
        change["before"] = {**change["before"], "tags_all": dict(c.tags_before)}
    if c.tags_after is not None and change["after"] is not None:
        change["after"] = {**change["after"], "tags_all": dict(c.tags_after)}
    if c.reason:
        entry["action_reason"] = c.reason
    if c.relaunch_groups:
        entry["relaunch_groups"] = list(c.relaunch_groups)
    kept = block_kept(c)
    if kept:
        entry["capacity_block_kept"] = kept
    return entry


def placements(plan: Plan) -> list[dict]:
    """Where each workload runs before and after, per replica group; the ranked
    fallbacks are in the change's ``after.placement``."""
    out = []
    for c in plan.changes:
        if c.placement is None or c.action is Action.DELETE:
            continue
        before = None
        if c.prior is not None and c.prior.groups:
            before = [g.placement.to_json() for g in c.prior.groups]
        out.append({"address": c.address, "action": c.action.actions, "before": before,
                    "after": [g.chosen.to_json() for g in c.placement.groups],
                    "fallbacks": [len(g.fallbacks) for g in c.placement.groups],
                    "approved_hourly_cost": round(c.placement.approved_hourly_cost, 6),
                    "hourly_cost": round(c.placement.hourly_cost, 6), "kept": c.placement.kept})
        if c.placement.on_demand_ceiling is not None:  # a job Uniform Progress paces
            out[-1]["on_demand_ceiling"] = round(c.placement.on_demand_ceiling, 6)
        wait = waits_for(c)
        if wait:
            out[-1]["waits_for"] = wait
    return out


def cost(plan: Plan) -> dict:
    """The cost section: before/after, the spread of the placements over providers
    (``by_provider``) and, when the plan buys from two clouds or more, the cheapest
    single-cloud plan (``single_cloud``: each cloud's plan, ``best``, ``saving``)."""
    return {
        "currency": "USD", "hourly_before": round(plan.cost_before, 6), "hourly_after": round(plan.cost_after, 6),
        "hourly_delta": round(plan.cost_after - plan.cost_before, 6),
        "monthly_delta": round((plan.cost_after - plan.cost_before) * HOURS_PER_MONTH, 2),
        "hours_per_month": HOURS_PER_MONTH,
        "estimated_before": round(plan.estimated_before, 2), "estimated_after": round(plan.estimated_after, 2),
        "estimated_delta": round(plan.estimated_after - plan.estimated_before, 2),
        "by_provider": list(plan.solver.get("spread") or ()),
        "single_cloud": plan.solver.get("single_cloud"),
    }


def to_document(plan: Plan) -> dict:
    outputs = {}
    for name, oc in plan.output_changes.items():
        oc = dict(oc)
        if oc.get("before_sensitive"):
            oc["before"] = None
        if oc.get("after_sensitive"):
            oc["after"] = None
        outputs[name] = oc
    return {
        "format_version": FORMAT_VERSION,
        "skyplan_version": __version__,
        "timestamp": plan.created_at or None,
        "lineage": plan.lineage, "serial": plan.serial, "config_hash": plan.config_hash,
        "variables": {k: {"value": v} for k, v in sorted(plan.variables.items())},
        "resource_drift": [d.to_json() for d in plan.drift],
        "resource_changes": [resource_change(c) for c in plan.changes],
        "output_changes": outputs,
        "placements": placements(plan),
        "cost": cost(plan),
        "summary": plan.counts(),
        "catalog": dict(plan.catalog),
        "solver": dict(plan.solver),
        "options": dict(plan.options),
        "errored": plan.errored,
        "applyable": plan.applyable,
        "complete": not plan.options.get("targets") and not plan.options.get("excludes"),
        "policy_results": list(plan.policy_results),
        "deadlines": list(plan.deadlines),
    }


def error_document(error) -> dict:
    """What ``plan --json`` prints when no plan could be made (a SkyplanError):
    ``errored``, not ``applyable``, and the ``diagnostics`` (config errors with
    their file, line and column; a fleet refused for the workloads still on it
    with ``fleets_in_use``)."""
    from skyplan.errors import DiagnosticsError, FleetInUseError

    if isinstance(error, DiagnosticsError):
        diags = [d.to_json() for d in error.diagnostics]
    else:
        diags = [{"file": None, "line": None, "col": None, "severity": "error", "summary": str(error),
                  "detail": "", "hint": error.hint}]
    if isinstance(error, FleetInUseError):
        diags[0]["fleets_in_use"] = [{"fleet": f, "workloads": w} for f, w in sorted(error.in_use.items())]
    return {"format_version": FORMAT_VERSION, "skyplan_version": __version__, "errored": True,
            "applyable": False, "diagnostics": diags}


def render_json(plan: Plan, *, indent: int | None = None) -> str:
    """One compact JSON document (like ``terraform show -json``); ``indent`` for people."""
    import json

    return json.dumps(to_document(plan), indent=indent, sort_keys=False, default=str) + "\n"

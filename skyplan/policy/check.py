"""Check a plan against every policy (pure): one result per policy.

A result is plain JSON (``schemas/policy_results.schema.json``)::

    {"policy", "enforcement", "status": "pass" | "warn" | "fail", "source",
     "description", "violations": [{"address", "rule", "message", "source"}]}

``status`` is "fail" for a mandatory policy with violations, "warn" for an
advisory one. What runs after apply is what is checked: every change that is not
a delete, with its planned placement (or, unchanged, the one it keeps).
A ``condition`` that names ``change`` is evaluated once per covered object, one
that names only ``plan`` once.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from skyplan.policy.model import (
    HOURS_PER_MONTH, Policy, accelerator_passes, effective_tags, pricing_passes, provider_passes, region_passes,
)


def _accelerators(text: str | None) -> tuple[str, int]:
    if not text:
        return "", 0
    name, _, count = text.partition(":")
    return name, int(count or 1)


def running(plan, graph) -> list[dict]:
    """What runs after apply, one entry per address (the ``change`` object of a condition)."""
    from skyplan.planner.model import Action

    out = []
    resources = graph.resources()
    for c in plan.changes:
        if c.action is Action.DELETE or c.forget:
            continue
        if c.placement is not None:
            groups = [g.chosen for g in c.placement.groups]
            hourly = c.placement.hourly_cost
        elif c.prior is not None and c.prior.groups:
            groups = [g.placement for g in c.prior.groups]
            hourly = sum(p.hourly_cost for p in groups)
        else:
            continue
        res = resources.get(c.address)
        providers = sorted({p.provider for p in groups})
        cfg = graph.providers.get(providers[0]) if providers else None
        tags = effective_tags(res, cfg) if res is not None else {}
        nodes = sum(p.nodes for p in groups)
        accs = [_accelerators(p.accelerators) for p in groups]
        kinds = {p: (graph.providers[p].kind if p in graph.providers else p.split(".")[0]) for p in providers}
        out.append({
            "address": c.address, "action": c.action.actions[0] if len(c.action.actions) == 1 else "replace",
            "type": c.kind, "kind": getattr(res, "kind", c.kind),
            "provider": providers[0] if providers else "", "providers": providers,
            "provider_kinds": sorted(set(kinds.values())),
            "region": groups[0].region if groups else "", "regions": sorted({p.region for p in groups}),
            "zones": sorted({p.zone for p in groups if p.zone}),
            "instance_type": groups[0].instance_type if groups else "",
            "pricing": groups[0].pricing if groups else "", "pricing_models": sorted({p.pricing for p in groups}),
            "accelerators": sorted({a for a, _ in accs if a}),
            "gpus": sum(n * p.nodes for (_, n), p in zip(accs, groups)),
            "nodes": nodes, "replicas": len(groups),
            "hourly_cost": round(hourly, 6), "monthly_cost": round(hourly * HOURS_PER_MONTH, 2),
            "duration_hours": getattr(res, "duration_hours", None),
            "tags": tags,
        })
    return out


def plan_object(plan, objects: Sequence[dict]) -> dict:
    counts = plan.counts()
    return {
        "cost_before": round(plan.cost_before, 6), "cost_after": round(plan.cost_after, 6),
        "hourly_delta": round(plan.cost_after - plan.cost_before, 6),
        "monthly_cost_before": round(plan.cost_before * HOURS_PER_MONTH, 2),
        "monthly_cost_after": round(plan.cost_after * HOURS_PER_MONTH, 2),
        "monthly_delta": round((plan.cost_after - plan.cost_before) * HOURS_PER_MONTH, 2),
        "add": counts["add"], "change": counts["change"], "destroy": counts["destroy"],
        "changes": list(objects),
    }


def check_plan(plan, graph, policies: Sequence[Policy] | None = None) -> tuple[dict, ...]:
    """Every policy's result for ``plan`` (``policies`` defaults to the graph's).
    Raises DiagnosticsError when a condition cannot be evaluated."""
    policies = graph.policies if policies is None else policies
    if not policies:
        return ()
    objects = running(plan, graph)
    whole = plan_object(plan, objects)
    out = []
    for p in policies:
        covered = [o for o in objects if p.covers(o["address"], o["tags"])]
        violations = _violations(p, covered, whole, plan)
        status = "pass" if not violations else ("fail" if p.mandatory else "warn")
        out.append({"policy": p.name, "enforcement": p.enforcement, "status": status, "source": p.where(),
                    "description": p.description, "covered": len(covered), "violations": violations})
    return tuple(out)


def _violations(p: Policy, covered: list[dict], whole: dict, plan) -> list[dict]:
    found: list[dict] = []

    def add(address, rule, message):
        found.append({"address": address, "rule": rule, "message": message, "source": p.where(rule)})

    cap = p.hourly_cap
    if cap is not None:
        limit, rule = cap
        shown = (lambda h: f"${h * HOURS_PER_MONTH:,.2f}/month") if rule == "max_monthly_cost" else (lambda h: f"${h:,.2f}/h")
        if p.per == "workload":
            for o in covered:
                if o["hourly_cost"] > limit + 1e-9:
                    add(o["address"], rule, f"{o['address']} costs {shown(o['hourly_cost'])}, above {rule} {shown(limit)}")
        else:
            total = plan.cost_after if p.selects_all else sum(o["hourly_cost"] for o in covered)
            if total > limit + 1e-9:
                what = "the plan" if p.selects_all else f"the {len(covered)} covered object(s)"
                add(None, rule, f"{what} cost {shown(total)} after apply, above {rule} {shown(limit)}")
    for o in covered:
        a = o["address"]
        for key in o["providers"]:
            kind = key.split(".")[0]
            if not provider_passes(p, key, kind):
                rule = "denied_providers" if p.denied_providers and not provider_passes(
                    Policy(p.name, denied_providers=p.denied_providers), key, kind) else "allowed_providers"
                add(a, rule, f"{a} runs on {key}, which {rule} rules out")
        for region in o["regions"]:
            if not region_passes(p, region):
                rule = "allowed_regions" if p.allowed_regions and not region_passes(
                    Policy(p.name, allowed_regions=p.allowed_regions), region) else "denied_regions"
                add(a, rule, f"{a} runs in {region}, which {rule} rules out")
        for model in o["pricing_models"]:
            if not pricing_passes(p, model):
                add(a, "allowed_pricing" if p.allowed_pricing else "denied_pricing", f"{a} is bought {model}, which the policy rules out")
        for acc in o["accelerators"]:
            if not accelerator_passes(p, acc):
                add(a, "allowed_accelerators" if p.allowed_accelerators else "denied_accelerators",
                    f"{a} uses {acc}, which the policy rules out")
        missing = [t for t in p.require_tags if not o["tags"].get(t)]
        if missing:
            add(a, "require_tags", f"{a} lacks tag(s) {', '.join(missing)}")
        if p.max_nodes is not None and o["nodes"] > p.max_nodes:
            add(a, "max_nodes", f"{a} runs {o['nodes']} nodes, above max_nodes {p.max_nodes}")
        if p.max_gpus is not None and o["gpus"] > p.max_gpus:
            add(a, "max_gpus", f"{a} uses {o['gpus']} accelerators, above max_gpus {p.max_gpus}")
    if p.condition is not None:
        _condition(p, covered, whole, add)
    return found


def _condition(p: Policy, covered: list[dict], whole: dict, add) -> None:
    per_change = "change" in _names(p.condition)
    for obj in (covered if per_change else [None]):
        names = {"plan": whole, **({"change": obj} if obj is not None else {})}
        ok = _evaluate(p, p.condition, names, "condition")
        if ok is False:
            msg = p.error_message
            text = msg if isinstance(msg, str) else str(_evaluate(p, msg, names, "error_message"))
            add(obj["address"] if obj else None, "condition", text)


def _names(expr) -> set[str]:
    """Root names an expression reads (``change`` in ``change.gpus > 8``)."""
    from skyplan.config import ast

    out: set[str] = set()

    def walk(node):
        if isinstance(node, (tuple, list)):
            for x in node:
                walk(x)
        elif isinstance(node, ast.Name):
            out.add(node.name)
        elif hasattr(node, "__dataclass_fields__"):
            for f in node.__dataclass_fields__:
                walk(getattr(node, f))
    walk(expr)
    return out


def _evaluate(p: Policy, expr, names: Mapping[str, Any], attribute: str):
    from skyplan.config.evaluator import EvalError, evaluate
    from skyplan.config.model import UNKNOWN
    from skyplan.errors import Diagnostic, DiagnosticsError, SourceRange

    scope = p.condition_scope.child(**names)
    src = p.positions.get(attribute) or p.source
    try:
        value = evaluate(expr, scope)
    except EvalError as e:
        where = SourceRange(src.file, *e.pos) if src is not None and e.pos else src
        raise DiagnosticsError([Diagnostic(f'policy "{p.name}": {e.summary}', e.detail, where,
                                           hint=e.hint or "a condition reads plan.* and change.*")]) from None
    if value is UNKNOWN:
        return None
    if attribute == "condition" and not isinstance(value, bool):
        raise DiagnosticsError([Diagnostic(f'policy "{p.name}": condition must be true or false, got {value!r}',
                                           source=src, hint="compare values, e.g. change.gpus <= 8")])
    return value


def failures(results: Sequence[Mapping]) -> list[Mapping]:
    """The results that block apply: mandatory policies that failed."""
    return [r for r in results if r.get("status") == "fail"]


MARKS = {"pass": "✓", "warn": "!", "fail": "✗"}


def render_results(results: Sequence[Mapping]) -> list[str]:
    """Lines for the text plan: one per policy, then its violations."""
    if not results:
        return []
    failed = sum(r["status"] == "fail" for r in results)
    warned = sum(r["status"] == "warn" for r in results)
    lines = [f"Policies: {len(results) - failed - warned} passed, {warned} warned, {failed} failed"]
    for r in results:
        lines.append(f"  {MARKS[r['status']]} {r['policy']} ({r['enforcement']}): {r['status']}")
        for v in r["violations"]:
            lines.append(f"      {v['source']}: {v['message']}")
    return lines

"""Outputs after apply: re-evaluate output expressions once resource attributes
that were unknown at plan time (ids, addresses, regions) are known.

``OutputSpec.expression`` holds an ``OutputExpr``: the output's expression and
the evaluated configuration it belongs to. ``evaluate_outputs`` rebuilds the
workload/fleet values with the known attributes, re-evaluates locals (and
module outputs) in their original order, then the outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from skyplan.config.evaluator import EvalError, Namespace, Poisoned, Scope, evaluate
from skyplan.config.model import UNKNOWN, DesiredGraph
from skyplan.config.values import contains_unknown


class Evaluation:
    """A handle on the evaluated configuration kept by DesiredGraph and OutputSpec:
    shared by copies, dropped by pickling (re-evaluation then keeps planned values)."""

    __slots__ = ("loader",)

    def __init__(self, loader) -> None:
        self.loader = loader

    def __deepcopy__(self, memo):
        return self

    def __copy__(self):
        return self

    def __getstate__(self):
        return {}

    def __setstate__(self, state) -> None:
        self.loader = None

    def __repr__(self) -> str:
        return "Evaluation()"


@dataclass(frozen=True, eq=False)
class OutputExpr:
    expr: Any
    file: str
    evaluation: Evaluation = field(repr=False)

    @property
    def loader(self):
        return self.evaluation.loader


# ``endpoints``: the host:port of every ready replica of a service (state.model.ResourceRecord.endpoints)
AFTER_APPLY = ("id", "ip", "provider", "region", "zone", "instance_type", "hourly_cost", "endpoints")


def after_apply(entry: Mapping[str, Any]) -> dict:
    """The after-apply attributes of one resource from what apply/state knows: taken
    directly (``id``, ``ip``, ...) or derived from ``placement`` / ``instances`` / ``ips``."""
    out = {k: entry[k] for k in AFTER_APPLY if entry.get(k) is not None}
    placement = entry.get("placement") if isinstance(entry.get("placement"), Mapping) else {}
    instances = [i for i in entry.get("instances") or () if isinstance(i, Mapping)]
    for k in ("provider", "region", "zone", "instance_type"):
        if k not in out and placement.get(k) is not None:
            out[k] = placement[k]
    if "id" not in out and instances and instances[0].get("id") is not None:
        out["id"] = instances[0]["id"]
    if "ip" not in out:
        ips = [x for x in entry.get("ips") or () if x]
        if not ips:  # the order of providers.base.Instance.ip
            for i in instances:
                attrs = i.get("attributes") or {}
                ip = attrs.get("ip") or attrs.get("private_ip") or attrs.get("public_ip") or attrs.get("dns_name")
                if ip:
                    ips.append(ip)
        if ips:
            out["ip"] = ips[0]
    if "endpoints" not in out and instances:
        out["endpoints"] = []  # a job, or a service none of whose replicas is known to be ready
    return out


def _merge(view: dict, entry: Mapping[str, Any] | None) -> dict:
    if not entry:
        return view
    extra = {k: v for k, v in entry.items() if k not in view}
    return {**view, **extra, **after_apply(entry)}


def _fill(value, shape, known: Mapping[str, Mapping[str, Any]]):
    kind = shape[0]
    if kind == "single":
        return _merge(value, known.get(shape[1]))
    if kind == "count":
        return [_merge(v, known.get(a)) for v, a in zip(value, shape[1])]
    return {k: _merge(value[k], known.get(shape[1][k])) for k in value}


def known_scope(ld, known) -> Scope:
    """The loader's scope with resource values completed by ``known``, then, in the
    original evaluation order, locals re-evaluated and resources whose configured
    attributes were unknown (``env = { HEAD = workload.head.ip }``) evaluated again."""
    objects: dict = {"workload": {}, "fleet": {}, "module": dict(ld.objects["module"])}
    for kind in ("workload", "fleet"):
        for name, value in ld.objects[kind].items():
            shape = ld.shapes.get(f"{kind}.{name}")
            objects[kind][name] = _fill(value, shape, known) if shape else value
    local_values: dict = dict(ld.local_values)
    scope = Scope(namespaces={
        "var": Namespace("var", ld.var_values, "variable"),
        "local": Namespace("local", local_values, "local value"),
        "workload": Namespace("workload", objects["workload"], "workload"),
        "fleet": Namespace("fleet", objects["fleet"], "fleet"),
        "module": Namespace("module", objects["module"], "module"),
        "path": {"module": ld.root, "root": ld.top_root, "cwd": "."},
    }, base_dir=ld.root)
    for node in ld.eval_order:
        kind, _, name = node.partition(".")
        if kind == "local":
            try:
                local_values[name] = evaluate(ld.locals[name][0].expr, scope)
            except (EvalError, Poisoned):
                pass
        elif kind == "module" and name in ld.children:
            objects["module"][name] = _outputs_of(ld.children[name], known)
        elif kind == "module" and isinstance(objects["module"].get(name), (list, dict)):
            objects["module"][name] = _instances_outputs(ld, name, objects["module"][name], known)
        elif kind in ("workload", "fleet") and ld.shapes.get(node):
            _refresh(ld, kind, name, objects[kind], scope)
    return scope


def _configured_unknown(view: dict) -> bool:
    return any(contains_unknown(v) for k, v in view.items() if k not in AFTER_APPLY)


def _refresh(ld, kind: str, name: str, table: dict, scope: Scope) -> None:
    """Evaluate again the instances of one resource whose configured values had unknowns."""
    from skyplan.config.nodes import META, eval_body
    from skyplan.config.variables import Diags

    node = f"{kind}.{name}"
    value, block, extras = table.get(name), ld.blocks[kind].get(name), ld.extras.get(node, {})
    if block is None:
        return
    if isinstance(value, dict) and ld.shapes[node][0] == "single":
        keyed = {None: value}
    elif isinstance(value, list):
        keyed = dict(enumerate(value))
    elif isinstance(value, dict):
        keyed = dict(value)
    else:
        return
    changed = False
    saved, ld.diags = ld.diags, Diags()
    try:
        for key, view in keyed.items():
            if key not in extras or not isinstance(view, dict) or not _configured_unknown(view):
                continue
            inner = Scope({**scope.namespaces, **extras[key]}, scope.names, scope.base_dir)
            d, ok = eval_body(ld, block.body, inner, block.file, skip=META)
            if ok:
                keyed[key] = {**view, **{k: v for k, v in d.items() if k not in AFTER_APPLY}}
                changed = True
    finally:
        ld.diags = saved
    if changed:
        shape = ld.shapes[node][0]
        table[name] = keyed[None] if shape == "single" else ([keyed[i] for i in range(len(keyed))] if shape == "count" else keyed)


def _instances_outputs(ld, name: str, value, known):
    """A count/for_each module's outputs per instance, completed by ``known``."""
    from skyplan.addrs import module_step

    if isinstance(value, list):
        return [_outputs_of(ld.children[module_step(name, i)], known) if module_step(name, i) in ld.children else v
                for i, v in enumerate(value)]
    return {k: _outputs_of(ld.children[module_step(name, k)], known) if module_step(name, k) in ld.children else v
            for k, v in value.items()}


def _outputs_of(ld, known) -> dict:
    scope = known_scope(ld, known)
    out = {}
    for name, spec in ld.outputs.items():
        h = spec.expression
        try:
            out[name] = evaluate(h.expr, scope) if isinstance(h, OutputExpr) and h.loader is not None else spec.value
        except (EvalError, Poisoned):
            out[name] = UNKNOWN
    return out


def evaluate_outputs(graph: DesiredGraph, known: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Output values given the attributes known per resource address
    (``{"workload.train": {"id": "...", "ip": "...", "region": "..."}}``, or state's
    view with ``placement``/``instances``/``ips``, see ``after_apply``). Configured
    attributes keep their configured values; what is still unknown stays UNKNOWN."""
    ld = graph.evaluation.loader if isinstance(graph.evaluation, Evaluation) else None
    if ld is None:
        return {name: spec.value for name, spec in graph.outputs.items()}
    return _outputs_of(ld, known)

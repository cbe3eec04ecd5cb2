"""Checks that need more than one block: ``ignore_changes`` paths against the
attributes a workload has, and cross-references (providers, fleets, colocation)
once everything is built."""

from __future__ import annotations

from skyplan.config import ast
from skyplan.config.evaluator import did_you_mean


IGNORABLE = ("kind", "resources", "num_nodes", "replicas", "pricing", "duration_hours", "max_hourly_cost", "data_gb",
             "image", "setup", "run", "env", "ports", "placement", "provider", "capacity", "hourly_cost", "region", "nodes")


def _path_of(x) -> str | None:
    if isinstance(x, ast.Name):
        return x.name
    if isinstance(x, ast.Literal) and isinstance(x.value, str):
        return x.value
    if isinstance(x, ast.GetAttr):
        base = _path_of(x.obj)
        return f"{base}.{x.attr}" if base else None
    if isinstance(x, ast.Index) and isinstance(x.key, ast.Literal):
        base = _path_of(x.obj)
        k = x.key.value
        return (f"{base}[{k}]" if isinstance(k, int) else f'{base}["{k}"]') if base else None
    return None


def ignore_paths(ld, a: ast.Attribute, file: str) -> list | None:
    """``ignore_changes = [env, resources.cpus, env["TOKEN"]]`` -> attribute path strings."""
    if not isinstance(a.expr, ast.TupleExpr):
        ld.diags.error("ignore_changes must be a list of attribute names", file, a.pos,
                       hint="e.g. ignore_changes = [env, image]")
        return None
    out = []
    for x in a.expr.items:
        p = _path_of(x)
        head = (p or "").replace("[", ".").split(".")[0]
        if p is None or head not in IGNORABLE:
            ld.diags.error(f"ignore_changes names an unknown attribute{' ' + repr(p) if p else ''}", file, x.pos,
                           hint=did_you_mean(head, IGNORABLE) or f"attributes: {', '.join(IGNORABLE)}")
            return None
        out.append(p)
    return out


def check_references(ld) -> None:
    """Cross-checks once everything is built: provider keys, fleets, colocation. A
    workload placed on a fleet by name depends on it, as if it referenced it."""
    keys = set(ld.providers) or {"local"}
    _fleet_dependencies(ld)
    for res in list(ld.workloads.values()) + list(ld.fleets.values()):
        src = res.source
        where = (src.file, (src.line, src.column)) if src else (None, None)
        for p in res.placement.providers:
            if p not in keys and not any(k.split(".")[0] == p for k in keys):
                ld.diags.error(f"{res.address}: placement.providers names undeclared provider \"{p}\"", *where,
                               hint=did_you_mean(p, keys) or f"declared providers: {', '.join(sorted(keys))}")
        if res.placement.fleet and res.placement.fleet not in ld.fleets:
            ld.diags.error(f"{res.address}: placement.fleet names undeclared fleet \"{res.placement.fleet}\"", *where,
                           hint=did_you_mean(res.placement.fleet, ld.fleets) or "declare the fleet or fix the name")
        if res.placement.colocate_with and res.placement.colocate_with not in ld.workloads:
            ld.diags.error(f"{res.address}: colocate_with names undeclared workload \"{res.placement.colocate_with}\"", *where,
                           hint=did_you_mean(res.placement.colocate_with, ld.workloads) or "declare the workload or fix the name")
        prov = getattr(res, "provider", None)
        if prov is not None and prov not in keys:
            ld.diags.error(f"{res.address}: provider \"{prov}\" is not declared", *where,
                           hint=did_you_mean(prov, keys) or f"declared providers: {', '.join(sorted(keys))}")


def _fleet_dependencies(ld) -> None:
    from dataclasses import replace
    from graphlib import CycleError, TopologicalSorter

    for addr, w in list(ld.workloads.items()):
        fleet = ld.fleets.get(w.placement.fleet or "")
        if fleet is not None and fleet.address not in w.depends_on:
            ld.workloads[addr] = replace(w, depends_on=tuple(sorted(w.depends_on + (fleet.address,), key=str)))
    graph = {a: [str(d) for d in r.depends_on] for a, r in {**ld.fleets, **ld.workloads}.items()}
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as e:
        cycle = list(e.args[1])
        src = {**ld.fleets, **ld.workloads}[cycle[0]].source
        ld.diags.error("Cycle in the configuration: " + " -> ".join(cycle), src.file if src else None,
                       (src.line, src.column) if src else None,
                       hint="a fleet cannot depend on a workload that is placed on it")


def redefined_attributes(body: ast.Body, file: str, diags) -> set:
    """Report every attribute set a second time in one block body (nested blocks too),
    as Terraform's "Attribute redefined", naming where it was first set. Returns the
    ids of the repeated attributes so later checks do not report them again."""
    repeated: set = set()
    first: dict[str, ast.Attribute] = {}
    for a in body.attributes:
        prev = first.setdefault(a.name, a)
        if prev is not a:
            repeated.add(id(a))
            diags.error("Attribute redefined", file, a.pos,
                        detail=f'The argument "{a.name}" was already set at {file}:{prev.pos[0]}:{prev.pos[1]}. '
                               "Each argument may be set only once.",
                        hint=f'keep one "{a.name} = ..." in this block')
    for b in body.blocks:
        repeated |= redefined_attributes(b.body, file, diags)
    return repeated

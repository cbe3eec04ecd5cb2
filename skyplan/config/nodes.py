"""Evaluate the nodes of the configuration graph in dependency order: locals,
workloads and fleets (with count/for_each expansion), outputs, providers and
the ``skyplan`` settings block (module calls: ``module_nodes``).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from skyplan.addrs import Address
from skyplan.config import ast, build, schema
from skyplan.config.evaluator import POISON, EvalError, Poisoned, did_you_mean, evaluate
from skyplan.config.limits import hint as limit_hint
from skyplan.config.limits import within_instances, within_sizes
from skyplan.config.positions import Positions
from skyplan.config.outputs import AFTER_APPLY
from skyplan.config.model import PROVIDER_KINDS, UNKNOWN, OutputSpec, Settings
from skyplan.config.refs import as_ref, references
from skyplan.config.values import SetValue, contains_unknown, to_number, type_name
from skyplan.errors import SourceRange

META = ("count", "for_each", "depends_on")
SINGLE_BLOCKS = schema.SINGLE_BLOCKS  # blocks written at most once


def eval_expr(ld, expr, scope, file: str):
    """Evaluate; on a mistake report it and raise Poisoned."""
    try:
        return evaluate(expr, scope)
    except EvalError as e:
        ld.diags.error(e.summary, file, e.pos, hint=e.hint, detail=e.detail)
        raise Poisoned() from None


def eval_body(ld, body: ast.Body, scope, file: str, skip=(), keep_null: bool = False) -> tuple[dict, bool]:
    """Evaluate a block body to a dict (nested blocks: a dict for single blocks such as
    resources, a list for repeated ones). An attribute that is null counts as unset,
    as in Terraform, unless ``keep_null`` (module inputs)."""
    out: dict = {}
    ok = True
    for a in body.attributes:
        if a.name in skip:
            continue
        if a.name == "ignore_changes":
            from skyplan.config.checks import ignore_paths

            paths = ignore_paths(ld, a, file)
            if paths is None:
                ok = False
            else:
                out[a.name] = paths
            continue
        try:
            value = eval_expr(ld, a.expr, scope, file)
            if value is not None or keep_null:
                out[a.name] = value
        except Poisoned:
            ok = False
    for b in body.blocks:
        if b.type == "dynamic":
            got = dynamic(ld, b, scope, file)
            if got is None:
                ok = False
            else:
                out.setdefault(b.labels[0], []).extend(got)
            continue
        sub, sub_ok = eval_body(ld, b.body, scope, file)
        ok &= sub_ok
        if b.type in SINGLE_BLOCKS:
            if b.type in out:
                ld.diags.error(f"Duplicate {b.type} block", file, b.pos, hint=f"merge the two {b.type} blocks into one")
                ok = False
            out[b.type] = sub
        else:
            out.setdefault(b.type, []).append(sub)
    return out, ok


def dynamic(ld, b: ast.Block, scope, file: str) -> list | None:
    """``dynamic "quota" { for_each = ...; iterator = q; content { ... } }`` -> one
    evaluated body per element (``quota.key``/``quota.value``, or the iterator's name)."""
    from skyplan.config.evaluator import iterate

    content = b.body.blocks_of("content")
    each = b.body.attr("for_each")
    if len(b.labels) != 1 or len(content) != 1 or each is None:
        ld.diags.error("A dynamic block needs one label, for_each and one content block", file, b.pos,
                       hint='dynamic "quota" { for_each = var.quotas  content { max = quota.value } }')
        return None
    it = b.body.attr("iterator")
    name = it.expr.name if it is not None and isinstance(it.expr, ast.Name) else b.labels[0]
    try:
        coll = eval_expr(ld, each.expr, scope, file)
        if coll is UNKNOWN:
            ld.diags.error("The for_each of a dynamic block depends on a value known only after apply", file, each.pos,
                           hint="the blocks to generate must be known when planning")
            return None
        pairs = iterate(coll, each.pos)
    except EvalError as e:
        ld.diags.error(e.summary, file, e.pos, hint=e.hint)
        return None
    except Poisoned:
        return None
    out = []
    for k, v in pairs:
        sub, ok = eval_body(ld, content[0].body, scope.child(**{name: {"key": k, "value": v}}), file)
        if not ok:
            return None
        out.append(sub)
    return out


def positions(body: ast.Body, prefix: str = "", out: dict | None = None) -> dict:
    out = {} if out is None else out
    for a in body.attributes:
        out.setdefault(prefix + a.name, a.pos)
    for b in body.blocks:
        out.setdefault(prefix + b.type, b.pos)
        positions(b.body, prefix + b.type + ".", out)
    return out


def reporter(ld, block: ast.Block, flag: list):
    def report(summary: str, path: str = "", hint: str = "") -> None:
        pos = positions(block.body)
        p = path
        while p and p not in pos:
            p = p.rpartition(".")[0]
        ld.diags.error(summary, block.file, pos.get(p, block.pos), hint=hint)
        flag[0] = False
    return report


def local(ld, name: str) -> None:
    attr, file = ld.locals[name]
    node = f"local.{name}"
    ld.node_resources[node] = _resources_of(ld, references(attr.expr))
    ld.node_sensitive[node] = _sensitive(ld, references(attr.expr))
    ld.local_order.append(name)
    try:
        ld.local_values[name] = eval_expr(ld, attr.expr, ld.scope(), file)
    except Poisoned:
        ld.local_values[name] = POISON


def _resources_of(ld, refs) -> set:
    out: set = set()
    for r in refs:
        node = r.node
        if r.kind in ("workload", "fleet") and r.key is not None and node in ld.instances:
            out.update(a for a in ld.instances[node] if a.key == r.key)
        elif r.kind == "module" and r.key is not None and r.key in ld.module_instances.get(node, {}):
            out.update(ld.module_instances[node][r.key])
        else:
            out.update(ld.node_resources.get(node, ()))
    return out


def _sensitive(ld, refs) -> bool:
    return any((r.kind == "var" and r.name in ld.sensitive_vars) or ld.node_sensitive.get(r.node, False) for r in refs)


def _expansion(ld, block: ast.Block, kind: str):
    """[(key, extra scope names)] or None when the expansion itself failed."""
    count, each = block.body.attr("count"), block.body.attr("for_each")
    if count and each:
        ld.diags.error("count and for_each cannot both be set", block.file, each.pos, hint="keep one of them")
        return None
    if count:
        try:
            v = eval_expr(ld, count.expr, ld.scope(), block.file)
        except Poisoned:
            return None
        if v is UNKNOWN:
            ld.diags.error("count depends on a value known only after apply", block.file, count.pos,
                           hint="count must be known when planning: use a variable or a constant")
            return None
        try:
            n = to_number(v)
        except Exception:  # noqa: BLE001 - ConversionError
            n = None
        if not isinstance(n, int) or n < 0:
            ld.diags.error(f"count must be a whole number >= 0, got {v!r}", block.file, count.pos,
                           hint="e.g. count = 3 or count = length(var.regions)")
            return None
        cap = ld.usage.limits.instances_per_block
        if n > cap:
            ld.diags.error(f"count = {n} is above the limit of {cap} instances per block", block.file, count.pos,
                           hint=limit_hint("instances_per_block"))
            return None
        return [(i, {"count": {"index": i}}) for i in range(n)]
    if each:
        try:
            v = eval_expr(ld, each.expr, ld.scope(), block.file)
        except Poisoned:
            return None
        if v is UNKNOWN or (isinstance(v, SetValue) and contains_unknown(v)):
            ld.diags.error("for_each depends on a value known only after apply", block.file, each.pos,
                           hint="for_each keys must be known when planning")
            return None
        cap = ld.usage.limits.instances_per_block
        if isinstance(v, (dict, SetValue)) and len(v) > cap:
            ld.diags.error(f"for_each has {len(v)} elements, above the limit of {cap} instances per block",
                           block.file, each.pos, hint=limit_hint("instances_per_block"))
            return None
        if isinstance(v, dict):
            return [(k, {"each": {"key": k, "value": v[k]}}) for k in sorted(v)]
        if isinstance(v, SetValue) and all(isinstance(x, str) for x in v):
            return [(k, {"each": {"key": k, "value": k}}) for k in v]
        if isinstance(v, SetValue):
            others = sorted({type_name(x) for x in v if not isinstance(x, str)})
            got, hint = f"set holding {' and '.join(others)} values", "convert the elements: toset([for x in ... : tostring(x)])"
        else:
            got = type_name(v)
            hint = "wrap the list in toset(...)" if isinstance(v, list) else "use a map or a set of strings"
        ld.diags.error(f"for_each needs a map or a set of strings, got {got}", block.file, each.pos, hint=hint)
        return None
    return [(None, {})]


def resource(ld, kind: str, name: str) -> None:
    """Expand a workload/fleet block (count/for_each), evaluate and build each instance,
    and publish its value for references (an object, a list for count, a map for for_each)."""
    block = ld.blocks[kind][name]
    node = f"{kind}.{name}"
    expansion = _expansion(ld, block, kind) if id(block) in ld.schema_ok else None
    if expansion is not None and not within_instances(ld, block, kind, name, len(expansion)):
        expansion = None
    addrs = [Address(kind, name, k, ld.module_path) for k, _ in (expansion or [])]
    ld.instances[node] = addrs
    ld.node_resources[node] = set(addrs)
    if expansion is None:
        ld.objects[kind][name] = POISON
        return
    deps = _resources_of(ld, _direct_dep_refs(ld, block)) | ld.extra_deps
    sens = _sensitive_paths(ld, block.body)
    ld.extras[node] = {key: extra for key, extra in expansion}
    expanded = bool(expansion) and expansion[0][0] is not None
    values: dict = {}
    for (key, extra), addr in zip(expansion, addrs):
        ld.diags.context = str(addr) if expanded else None
        view = _instance(ld, block, addr, extra, deps, sens)
        if view is not None:
            values[key] = view
    ld.diags.context = None
    if len(values) != len(expansion):
        ld.objects[kind][name] = POISON
    elif block.body.attr("count"):
        ld.objects[kind][name] = [values[k] for k, _ in expansion]
        ld.shapes[node] = ("count", [str(a) for a in addrs])
    elif block.body.attr("for_each"):
        ld.objects[kind][name] = values
        ld.shapes[node] = ("each", {k: str(a) for (k, _), a in zip(expansion, addrs)})
    else:
        ld.objects[kind][name] = values[None]
        ld.shapes[node] = ("single", str(addrs[0]))


def _instance(ld, block: ast.Block, addr: Address, extra: dict, deps: set, sens: tuple) -> dict | None:
    """Evaluate and build one instance; its value for references, or None if it failed."""
    kind = addr.kind
    d, ok = eval_body(ld, block.body, ld.scope(**extra), block.file, skip=META)
    if not ok or not schema.check_value(block, d, ld.diags):
        return None
    if not within_sizes(ld, block, kind, d):
        return None
    flag = [True]
    report = reporter(ld, block, flag)
    src = SourceRange(block.file, *block.pos)
    own = tuple(sorted((a for a in deps if a != addr), key=str))
    try:
        if kind == "workload":
            obj = build.workload(addr, d, report, depends_on=own, source=src, sensitive_paths=sens)
        else:
            obj = build.fleet(addr, d, report, depends_on=own, source=src)
    except build.Invalid:
        return None
    if not flag[0]:
        return None
    obj = _mapped(ld, obj)
    (ld.workloads if kind == "workload" else ld.fleets)[str(addr)] = obj
    ld.positions[str(addr)] = Positions(block)
    view = {**obj.attributes(), **d, "name": addr.name, "address": str(addr)}
    for k in AFTER_APPLY:
        if not (kind == "fleet" and d.get(k) is not None):
            view[k] = UNKNOWN
    return view


def _direct_dep_refs(ld, block: ast.Block) -> list:
    refs = list(ld.references_of(block))
    dep = block.body.attr("depends_on")
    if dep is not None and isinstance(dep.expr, ast.TupleExpr):
        refs.extend(r for r in (as_ref(x) for x in dep.expr.items) if r is not None)
    return refs


def _key_path(prefix: str, key) -> str:
    """``env.TOKEN``, or ``env["MY.TOKEN"]`` for a key that is not a plain name."""
    key = str(key)
    return f"{prefix}.{key}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key) else f"{prefix}[{json.dumps(key)}]"


def _sensitive_paths(ld, body: ast.Body, prefix: str = "") -> tuple:
    if not ld.sensitive_vars and not any(ld.node_sensitive.values()):
        return ()  # nothing sensitive is declared or derived yet: no reference can be
    out = []
    for a in body.attributes:
        if a.name in META or not _sensitive(ld, references(a.expr)):
            continue
        items = a.expr.items if isinstance(a.expr, ast.ObjectExpr) else ()
        if items and all(isinstance(k, ast.Literal) for k, _ in items):
            # an object literal: only the keys whose values are sensitive
            out.extend(_key_path(f"{prefix}{a.name}", k.value) for k, v in items if _sensitive(ld, references(v)))
        else:
            out.append(prefix + a.name)
    for b in body.blocks:
        out.extend(_sensitive_paths(ld, b.body, prefix + b.type + "."))
    return tuple(out)


def _mapped(ld, obj):
    """A built workload/fleet with its provider names read through the module's map."""
    from dataclasses import replace

    if not ld.provider_map:
        return obj
    m = ld.provider_map
    if hasattr(obj, "placement") and obj.placement is not None:
        names = obj.placement.providers or tuple(dict.fromkeys(m.values()))
        obj = replace(obj, placement=replace(obj.placement, providers=tuple(m.get(p, p) for p in names)))
    if getattr(obj, "provider", None) in m:
        obj = replace(obj, provider=m[obj.provider])
    return obj


def output(ld, name: str) -> None:
    block = ld.blocks["output"][name]
    if id(block) not in ld.schema_ok:
        return
    value_attr = block.body.attr("value")
    d, ok = eval_body(ld, ast.Body(attributes=tuple(a for a in block.body.attributes if a.name != "value")),
                      ld.scope(), block.file, keep_null=True)
    try:
        value = eval_expr(ld, value_attr.expr, ld.scope(), block.file)
    except Poisoned:
        return
    sensitive = bool(d.get("sensitive", False))
    if not sensitive and _sensitive(ld, references(value_attr.expr)):
        ld.diags.error(f"Output \"{name}\" refers to sensitive values", block.file, value_attr.pos,
                       hint="add sensitive = true to the output block")
        return
    from skyplan.config.outputs import OutputExpr

    ld.outputs[name] = OutputSpec(name=name, value=value, sensitive=sensitive, description=str(d.get("description") or ""),
                                  expression=OutputExpr(value_attr.expr, block.file, ld.handle))


def provider(ld, block: ast.Block) -> None:
    kind = block.labels[0]
    if kind not in PROVIDER_KINDS:
        ld.diags.error(f"Unknown provider \"{kind}\"", block.file, block.label_pos[0] if block.label_pos else block.pos,
                       hint=did_you_mean(kind, PROVIDER_KINDS) or f"providers are: {', '.join(PROVIDER_KINDS)}")
        return
    if id(block) not in ld.schema_ok:
        return
    d, ok = eval_body(ld, block.body, ld.scope(), block.file)
    if not ok or not schema.check_value(block, d, ld.diags):
        return
    flag = [True]
    try:
        cfg = build.provider(kind, d, reporter(ld, block, flag), SourceRange(block.file, *block.pos))
    except build.Invalid:
        return
    if not flag[0]:
        return
    if cfg.key in ld.providers:
        prev = ld.providers[cfg.key].source
        ld.diags.error(f"Duplicate provider \"{cfg.key}\"", block.file, block.pos,
                       hint=f"first declared at {prev}; give the second one an alias = \"NAME\"")
        return
    ld.providers[cfg.key] = cfg
    ld.positions[f"provider.{cfg.key}"] = Positions(block)


def settings(ld, block: ast.Block) -> None:
    if len(ld.settings_blocks) > 1 and block is not ld.settings_blocks[0]:
        ld.diags.error("Duplicate skyplan block", block.file, block.pos, hint="keep one skyplan { ... } block")
        return
    if id(block) not in ld.schema_ok:
        return
    d, ok = eval_body(ld, block.body, ld.scope(), block.file)
    if not ok or not schema.check_value(block, d, ld.diags):
        return
    pos = positions(block.body)
    ld.positions["skyplan"] = Positions(block)
    from skyplan.config.version import satisfies

    rv = d.get("required_version")
    if rv is not None:
        problem = satisfies(str(rv))
        if problem:
            hint = ('write constraints like ">= 0.1, < 1.0" or "~> 0.1" (operators = != > >= < <= ~>)'
                    if problem.startswith("Invalid") else "upgrade skyplan or relax required_version")
            ld.diags.error(problem, block.file, pos.get("required_version", block.pos), hint=hint)
    state = d.get("state") or {}
    url = state.get("url") if isinstance(state, dict) else None
    if isinstance(url, str) and not url.startswith(("postgres://", "postgresql://")):
        from skyplan.state.location import redact_url

        ld.diags.error(f"state url must be a PostgreSQL URL (postgresql://USER@HOST:PORT/DB), got {redact_url(url)!r}",
                       block.file, pos.get("state", block.pos),
                       hint='the url is for backend = "postgres"; a SQLite state file is set with path = "..."')
    resolve = lambda p: None if p is None else os.path.normpath(os.path.join(ld.root, os.path.expanduser(str(p))))  # noqa: E731
    catalog = resolve(d.get("catalog"))
    if catalog is not None and not os.path.isfile(catalog):
        ld.diags.error(f"Catalog file not found: {d.get('catalog')}", block.file, pos.get("catalog", block.pos),
                       hint="paths are relative to the configuration folder (see skyplan catalog --help)")
    ld.settings = Settings(required_version=rv, catalog=catalog,
                           max_hourly_cost=float(d["max_hourly_cost"]) if d.get("max_hourly_cost") is not None else None,
                           state_backend=str(state.get("backend") or "sqlite"), state_path=resolve(state.get("path")),
                           state_url=str(state["url"]) if state.get("url") else None,
                           state_name=str(state["name"]) if state.get("name") else None,
                           policy_dirs=policy_dirs(ld, d.get("policy_dirs"), block, pos.get("policy_dirs", block.pos)))


def policy_dirs(ld, value, block: ast.Block, pos) -> tuple[str, ...]:
    """``policy_dirs`` resolved against the configuration folder; each must exist."""
    out = []
    for entry in (value if isinstance(value, list) else [value] if value is not None else []):
        path = os.path.normpath(os.path.join(ld.root, os.path.expanduser(str(entry))))
        if not os.path.isdir(path):
            ld.diags.error(f"Policy folder not found: {entry}", block.file, pos,
                           hint="paths are relative to the configuration folder")
            continue
        out.append(path)
    return tuple(out)


_ = Any

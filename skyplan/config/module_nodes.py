"""Module calls in the configuration graph: a ``module`` block expanded per
``count``/``for_each`` instance into a child Loader, its addresses under
``module.NAME[KEY]``, its inputs checked against the module's variables, its
provider map applied, and its outputs published for ``module.NAME.OUTPUT``."""

from __future__ import annotations

from skyplan.config import ast
from skyplan.config.evaluator import POISON
from skyplan.config.nodes import META, _direct_dep_refs, _expansion, _resources_of, _sensitive, eval_body
from skyplan.config.refs import references


def module(ld, name: str) -> None:
    """Expand a module block (count/for_each): one child Loader per instance, its
    addresses under ``module.NAME[KEY]``; publish its outputs for references (an
    object, a list for count, a map for for_each)."""
    from skyplan.addrs import module_step
    from skyplan.config.loader import MAX_MODULE_DEPTH
    from skyplan.config.sources import SourceProblem, locate

    block = ld.blocks["module"][name]
    node = f"module.{name}"
    ld.objects["module"][name] = POISON
    ld.node_resources[node] = set()
    if id(block) not in ld.schema_ok:
        return
    src_attr = block.body.attr("source")
    if not isinstance(src_attr.expr, ast.Literal) or not isinstance(src_attr.expr.value, str):
        ld.diags.error("A module source must be a literal string", block.file, src_attr.pos,
                       hint='e.g. source = "./modules/llm-finetune"')
        return
    source = src_attr.expr.value
    try:
        path, _entry = locate(source, ld.root, ld.top_root)
    except SourceProblem as e:
        ld.diags.error(e.summary, block.file, src_attr.pos, hint=e.hint)
        return
    if len(ld.module_path) + 1 > MAX_MODULE_DEPTH:
        ld.diags.error("Modules are nested too deeply (a module calling itself?)", block.file, block.pos,
                       hint=f"modules may nest {MAX_MODULE_DEPTH} deep; check that this source does not lead back to itself")
        return
    if block.body.attr("version") is not None:
        a = block.body.attr("version")
        ld.diags.error("version applies only to registry module sources", block.file, a.pos,
                       hint="pin a git source with ?ref=TAG in its source; a local folder has no version")
        return
    provider_map = _provider_map(ld, block)
    if provider_map is None:
        return
    expansion = _expansion(ld, block, "module")
    if expansion is None:
        return
    deps = _resources_of(ld, _direct_dep_refs(ld, block)) | ld.extra_deps
    sensitive_inputs = {a.name for a in block.body.attributes if _sensitive(ld, references(a.expr))}
    input_pos = {a.name: a.pos for a in block.body.attributes}
    expanded = bool(expansion) and expansion[0][0] is not None
    values: dict = {}
    keyed: dict = {}
    errors_before = ld.diags.errors
    for key, extra in expansion:
        step = module_step(name, key)
        ld.diags.context = f"module.{step}" if expanded else None
        inputs, ok = eval_body(ld, block.body, ld.scope(**extra), block.file, skip=META + ("source", "providers"),
                               keep_null=True)
        ld.diags.context = None
        if not ok:
            continue
        child = _run_child(ld, path, step, inputs, (block.file, block.pos, input_pos), deps, sensitive_inputs,
                           provider_map)
        keyed[key] = set().union(*child.node_resources.values()) if child.node_resources else set()
        values[key] = {k: o.value for k, o in child.outputs.items()}
        ld.node_sensitive[node] = ld.node_sensitive.get(node, False) or any(o.sensitive for o in child.outputs.values())
    ld.node_resources[node] = set().union(*keyed.values()) if keyed else set()
    ld.module_instances[node] = keyed
    if ld.diags.errors != errors_before or len(values) != len(expansion):
        return
    if block.body.attr("count"):
        ld.objects["module"][name] = [values[k] for k, _ in expansion]
    elif block.body.attr("for_each"):
        ld.objects["module"][name] = values
    else:
        ld.objects["module"][name] = values[None]


def _provider_map(ld, block: ast.Block) -> dict | None:
    """``providers = { aws = aws.west }``: inside the module, provider ``aws`` is the
    caller's ``aws.west`` (composed with the caller's own map); None on a mistake."""
    a = block.body.attr("providers")
    if a is None:
        return dict(ld.provider_map)
    example = "providers = { aws = aws.west }"
    if not isinstance(a.expr, ast.ObjectExpr):
        ld.diags.error("providers of a module block must be a map of provider names", block.file, a.pos,
                       hint=f"e.g. {example}; pass a list of allowed providers as an input with another name")
        return None
    out = dict(ld.provider_map)
    for k, v in a.expr.items:
        key = k.value if isinstance(k, ast.Literal) else (k.name if isinstance(k, ast.Name) else _dotted(k))
        target = v.value if isinstance(v, ast.Literal) and isinstance(v.value, str) else _dotted(v)
        if not isinstance(key, str) or not target:
            ld.diags.error("Each entry of providers must read NAME = PROVIDER", block.file, getattr(v, "pos", a.pos),
                           hint=f"e.g. {example}")
            return None
        out[key] = ld.provider_map.get(target, target)
    return out


def _dotted(e) -> str | None:
    """``aws.west`` written as a reference -> "aws.west"."""
    if isinstance(e, ast.Name):
        return e.name
    if isinstance(e, ast.GetAttr):
        head = _dotted(e.obj)
        return f"{head}.{e.attr}" if head else None
    return None


def _run_child(ld, path: str, step: str, inputs: dict, call_site, deps: set, sensitive_inputs: set,
               provider_map: dict):
    from skyplan.config.loader import Loader

    child = Loader(path, ld.diags, module_path=ld.module_path + (step,), inputs=inputs, top_root=ld.top_root,
                   hasher=ld.hasher, call_site=call_site)
    child.provider_map = provider_map
    child.extra_deps = deps
    child.usage = ld.usage
    child.sensitive_inputs = sensitive_inputs
    child.run()
    ld.children[step] = child
    ld.workloads.update(child.workloads)
    ld.fleets.update(child.fleets)
    ld.positions.update(child.positions)
    ld.moves.extend(child.moves)
    ld.removed.extend(child.removed)
    return child

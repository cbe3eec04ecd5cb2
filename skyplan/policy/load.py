"""Policy blocks to ``Policy`` values: from a loaded configuration, and from shared folders.

Every attribute is evaluated when the configuration loads (variables and locals
in scope), except ``condition`` and an ``error_message`` that is an expression:
they speak of the plan (``plan.*``, ``change.*``) and are evaluated by check.py.
"""

from __future__ import annotations

import os
from typing import Sequence

from skyplan.config import ast
from skyplan.errors import SourceRange
from skyplan.policy.model import Policy

LATER = ("condition", "error_message")
LISTS = ("addresses", "allowed_providers", "denied_providers", "allowed_regions", "denied_regions",
         "allowed_pricing", "denied_pricing", "allowed_accelerators", "denied_accelerators", "require_tags")


def read_blocks(ld) -> tuple[Policy, ...]:
    """The policies of a config Loader that has evaluated its folder (reports to its diags)."""
    from skyplan.config import schema
    from skyplan.config.nodes import eval_body, reporter

    out = []
    for name, block in sorted(ld.blocks.get("policy", {}).items()):
        if id(block) not in ld.schema_ok:
            continue
        d, ok = eval_body(ld, block.body, ld.scope(), block.file, skip=LATER)
        if not ok or not schema.check_value(block, d, ld.diags):
            continue
        flag = [True]
        report = reporter(ld, block, flag)
        policy = _policy(name, block, d, report, ld)
        if flag[0] and policy is not None:
            out.append(policy)
    return tuple(out)


def _policy(name: str, block: ast.Block, d: dict, report, ld) -> Policy | None:
    from skyplan.catalog.accelerators import canonical
    from skyplan.config import build

    lists = {k: tuple(str(x) for x in build._list(d.get(k))) for k in LISTS}
    for key in ("allowed_pricing", "denied_pricing"):
        lists[key] = build.pricing(list(lists[key]), key, report, ()) if lists[key] else ()
    for key in ("allowed_accelerators", "denied_accelerators"):
        names = []
        for a in lists[key]:
            canon = canonical(a)
            if canon is None:
                report(f"Unknown accelerator \"{a}\" in {key}", key, "use a name such as H100, A100-80GB, L4 or T4")
                continue
            names.append(canon)
        lists[key] = tuple(names)
    positions = {a.name: SourceRange(block.file, *a.pos) for a in block.body.attributes}
    cond = block.body.attr("condition")
    message = block.body.attr("error_message")
    if cond is not None and message is None:
        report("A policy with a condition needs an error_message", "condition",
               'say what is wrong and what to do, e.g. error_message = "GPU jobs need a duration_hours"')
        return None
    rules = [k for k in ("max_hourly_cost", "max_monthly_cost", "require_tags", "max_nodes", "max_gpus") if d.get(k) is not None]
    rules += [k for k in LISTS[1:] if lists[k]]
    if cond is None and not rules:
        report(f"Policy \"{name}\" states no rule", "",
               "add max_monthly_cost, allowed_regions, require_tags, a condition, ...")
        return None
    text = None
    if message is not None:
        text = message.expr.value if isinstance(message.expr, ast.Literal) else message.expr
    return Policy(
        name=name, enforcement=str(d.get("enforcement") or "mandatory"), description=str(d.get("description") or ""),
        addresses=lists["addresses"], match_tags=build.tags(d.get("match_tags"), "match_tags", report),
        per=str(d.get("per") or "plan"),
        max_hourly_cost=float(d["max_hourly_cost"]) if d.get("max_hourly_cost") is not None else None,
        max_monthly_cost=float(d["max_monthly_cost"]) if d.get("max_monthly_cost") is not None else None,
        **{k: lists[k] for k in LISTS if k != "addresses"},
        max_nodes=int(d["max_nodes"]) if d.get("max_nodes") is not None else None,
        max_gpus=int(d["max_gpus"]) if d.get("max_gpus") is not None else None,
        condition=cond.expr if cond is not None else None, condition_scope=ld.scope() if cond is not None else None,
        error_message=text, source=SourceRange(block.file, *block.pos), positions=positions,
    )


def load_dirs(dirs: Sequence[str], diags) -> tuple[Policy, ...]:
    """The policies of shared folders (each holding ``*.sky.hcl`` files of policy
    blocks, and the variables and locals they use). Problems go to ``diags``."""
    from skyplan.config.loader import Loader

    out: list[Policy] = []
    for folder in dirs:
        ld = Loader(os.path.abspath(folder), diags)
        ld.run(None, (), {})
        others = [b for kind in ("workload", "fleet", "module", "output") for b in ld.blocks[kind].values()]
        others += ld.providers_blocks + ld.settings_blocks
        for b in others:
            diags.error(f"A policy folder holds policy blocks only, found a {b.type} block", b.file, b.pos,
                        hint="keep workloads, providers and settings in the configuration itself")
        out.extend(read_blocks(ld))
    return tuple(out)

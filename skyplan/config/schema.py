"""Check blocks against the JSON Schemas in ``schemas/<block>.json`` (draft 2020-12).

A block is checked twice: before evaluation its JSON view (literals as values,
expressions as ``"${...}"`` strings, the form editors see) catches unknown
attributes and blocks (with "did you mean") and literal type errors; after
evaluation the evaluated values are checked against the same schema.
"""

from __future__ import annotations

import difflib
import functools
import json
from pathlib import Path
from typing import Any

from skyplan.config import ast
from skyplan.config.model import UNKNOWN

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
SINGLE_BLOCKS = ("resources", "placement", "lifecycle", "state", "limits", "readiness", "update", "spot", "recovery")
_UNKNOWN_MARK = "${(known after apply)}"
NULL_IS_UNSET = ("workload", "fleet", "provider", "skyplan")  # blocks where attr = null means "not set"


@functools.lru_cache(maxsize=None)
def _schema(block_type: str) -> dict:
    with open(SCHEMA_DIR / f"{block_type}.json", encoding="utf-8") as f:
        return json.load(f)


@functools.lru_cache(maxsize=None)
def validator(block_type: str):
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_schema(block_type))


@functools.lru_cache(maxsize=None)
def _fast(block_type: str):
    from skyplan.config.fastcheck import compile_schema

    return compile_schema(_schema(block_type))


def json_view(body: ast.Body, pos: dict, prefix: tuple = (), block_type: str = "") -> dict:
    out: dict = {}
    for a in body.attributes:
        pos[prefix + (a.name,)] = a.pos
        if isinstance(a.expr, ast.Literal) and a.expr.value is None and block_type in NULL_IS_UNSET:
            continue  # null means unset
        out[a.name] = _expr_view(a.expr, a.text)
    for b in body.blocks:
        if b.type == "dynamic" and len(b.labels) == 1:
            content = b.body.blocks_of("content")
            if content:
                b = ast.Block(b.pos, b.labels[0], (), content[0].body, b.file)
        pos.setdefault(prefix + (b.type,), b.pos)
        if b.type in SINGLE_BLOCKS:
            out[b.type] = json_view(b.body, pos, prefix + (b.type,), block_type)
        else:
            i = len(out.setdefault(b.type, [])) if isinstance(out.get(b.type), list) else 0
            if not isinstance(out.get(b.type), list):
                out[b.type] = []
            pos[prefix + (b.type, i)] = b.pos
            out[b.type].append(json_view(b.body, pos, prefix + (b.type, i), block_type))
    return out


def _expr_view(e, text: str = "") -> Any:
    if isinstance(e, ast.Literal):
        return e.value
    if isinstance(e, ast.TupleExpr):
        return [_expr_view(x) for x in e.items]
    if isinstance(e, ast.ObjectExpr) and all(isinstance(k, ast.Literal) and isinstance(k.value, str) for k, _ in e.items):
        return {k.value: _expr_view(v) for k, v in e.items}
    if isinstance(e, ast.Unary) and e.op == "-" and isinstance(e.operand, ast.Literal) and isinstance(e.operand.value, (int, float)):
        return -e.operand.value
    return "${" + (text or type(e).__name__) + "}"


def _value_view(v: Any) -> Any:
    if v is UNKNOWN:
        return _UNKNOWN_MARK
    if isinstance(v, list):
        return [_value_view(x) for x in v]
    if isinstance(v, dict):
        return {k: _value_view(x) for k, x in v.items()}
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def check_block(block: ast.Block, diags) -> bool:
    pos: dict = {}
    inst = json_view(block.body, pos, (), block.type)
    return _report(block, inst, pos, diags)


def _computed(body: ast.Body) -> dict:
    """Which parts of a body are expressions (literals were checked before evaluation):
    name -> True, or a nested mask for blocks."""
    mask: dict = {}
    for a in body.attributes:
        if isinstance(_expr_view(a.expr, "x"), str) and not isinstance(a.expr, ast.Literal) or _has_expr(_expr_view(a.expr, "x")):
            mask[a.name] = True
    for b in body.blocks:
        if b.type == "dynamic" and b.labels:
            mask[b.labels[0]] = True
            continue
        sub = _computed(b.body)
        if sub:
            if b.type in SINGLE_BLOCKS:
                mask[b.type] = sub
            else:
                mask[b.type] = True
    return mask


def _has_expr(v) -> bool:
    if isinstance(v, str):
        return v.startswith("${")
    if isinstance(v, list):
        return any(_has_expr(x) for x in v)
    if isinstance(v, dict):
        return any(_has_expr(x) for x in v.values())
    return False


_MASKS: dict = {}


def _prune(value: dict, mask: dict) -> dict:
    out = {}
    for k, m in mask.items():
        if k in value:
            v = value[k]
            out[k] = _prune(v, m) if isinstance(m, dict) and isinstance(v, dict) else v
    return out


def check_value(block: ast.Block, value: dict, diags) -> bool:
    """Check evaluated values; only the parts that were expressions need it."""
    mask = _MASKS.get(id(block))
    if mask is None or mask[0] is not block:
        mask = _MASKS[id(block)] = (block, _computed(block.body))
    inst = _value_view(_prune(value, mask[1]))
    fast = _fast(block.type)
    if fast is not None and fast(inst):
        return True
    pos: dict = {}
    json_view(block.body, pos)
    return _report(block, inst, pos, diags, evaluated=True)


def _report(block: ast.Block, inst: dict, pos: dict, diags, evaluated: bool = False) -> bool:
    fast = _fast(block.type)
    if fast is not None and fast(inst):
        return True
    v = validator(block.type)
    if v.is_valid(inst):
        return True
    errors = _flatten(sorted(v.iter_errors(inst), key=lambda e: list(map(str, e.absolute_path))))
    for err in errors:
        path = tuple(err.absolute_path)
        where = _nearest(pos, path) or block.pos
        what = f"{block.type} block" if not path else f"\"{_dotted(path)}\""
        if err.validator == "additionalProperties":
            allowed = list((err.schema.get("properties") or {}).keys())
            for extra in sorted(set(err.instance) - set(allowed)):
                kind = "block" if isinstance(err.instance.get(extra), (dict, list)) and (path + (extra,)) in pos and _is_block(block, path + (extra,)) else "attribute"
                hint = _did_you_mean(extra, allowed) or f"{'allowed' if allowed else 'nothing is allowed here'}: {', '.join(allowed)}"
                diags.error(f"Unsupported {kind} \"{extra}\" in {_context(block, path)}", block.file,
                            pos.get(path + (extra,), where), hint=hint)
        elif err.validator == "required":
            for name in [r for r in err.validator_value if isinstance(err.instance, dict) and r not in err.instance]:
                diags.error(f"Missing required attribute \"{name}\" in {_context(block, path)}", block.file, where,
                            hint=f"add {name} = ...")
        else:
            expected = _expected(err)
            got = _shown(err.instance)
            diags.error(f"Invalid value for {what} in {_context(block, ())}: {got}", block.file, where,
                        hint=f"expected {expected}" if expected else err.message)
    return False


_JSON_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def _flatten(errors) -> list:
    """Replace an anyOf error by the errors of the one branch the value was meant for
    (the branch of the value's JSON type), so nested mistakes are named precisely."""
    out = []
    for err in errors:
        if err.validator != "anyOf" or not err.context:
            out.append(err)
            continue
        branches: dict = {}
        for sub in err.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        meant = []
        for i, subs in branches.items():
            branch = err.schema["anyOf"][i]
            if branch.get("$ref") == "#/$defs/expression":
                continue
            if any(s.validator == "type" and not s.relative_path for s in subs):
                continue
            if any(s.validator in ("enum", "pattern") and not s.relative_path for s in subs):
                continue
            meant.append(subs)
        if len(meant) == 1:
            out.extend(_flatten(meant[0]))
        else:
            out.append(err)
    return out


def _is_block(block: ast.Block, path: tuple) -> bool:
    body = block.body
    for step in path[:-1]:
        if isinstance(step, int):
            continue
        sub = [b for b in body.blocks if b.type == step]
        if not sub:
            return False
        body = sub[0].body
    return any(b.type == path[-1] for b in body.blocks)


def _context(block: ast.Block, path: tuple) -> str:
    label = f" \"{block.labels[0]}\"" if block.labels else ""
    inner = [str(p) for p in path if not isinstance(p, int)]
    return (f"{inner[-1]} block of " if inner else "") + f"{block.type}{label}"


def _dotted(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (("." if out else "") + str(p))
    return out


def _nearest(pos: dict, path: tuple):
    p = tuple(path)
    while p:
        if p in pos:
            return pos[p]
        p = p[:-1]
    return None


def _did_you_mean(name: str, choices) -> str:
    hits = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f'did you mean "{hits[0]}"?' if hits else ""


def _shown(value) -> str:
    """A value for a message: workload/fleet objects by their address, the rest as short JSON."""
    if value == _UNKNOWN_MARK:
        return "a value known only after apply"

    def address(v):
        return v.get("address") if isinstance(v, dict) and isinstance(v.get("address"), str) and "name" in v else None

    if address(value):
        return address(value)
    if isinstance(value, list) and value and all(address(v) for v in value):
        return f"a list of {len(value)} instances ({', '.join(address(v) for v in value[:3])}{', ...' if len(value) > 3 else ''})"
    return json.dumps(value)[:60]


def _expected(err) -> str:
    s = err.schema
    if "description" in s and err.validator == "anyOf":
        desc = s["description"]
    else:
        desc = ""
    if err.validator == "anyOf":
        kinds = []
        for sub in s["anyOf"]:
            if sub.get("$ref") == "#/$defs/expression":
                continue
            kinds.append(_describe(sub))
        text = " or ".join(k for k in kinds if k)
        return f"{text} ({desc})" if desc and text else (text or desc)
    if err.validator == "enum":
        return "one of " + ", ".join(json.dumps(x) for x in err.validator_value)
    bound = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}.get(err.validator)
    if bound:
        noun = "a whole number" if s.get("type") == "integer" else "a number"
        return f"{noun} {bound} {json.dumps(err.validator_value)}"
    return _describe(s)


def _describe(s: dict) -> str:
    if "enum" in s:
        return "one of " + ", ".join(json.dumps(x) for x in s["enum"])
    t = s.get("type")
    if "$ref" in s:
        return "a block"
    if t == "integer":
        return "a whole number" + (f" >= {s['minimum']}" if "minimum" in s else "")
    if t == "number":
        return "a number" + (f" >= {s['minimum']}" if "minimum" in s else "")
    if t == "string":
        return "a string" + (" like \"8+\"" if "pattern" in s else "")
    if t == "array":
        return "a list"
    if t == "object":
        return "an object"
    if t == "boolean":
        return "true or false"
    if isinstance(t, list):
        return " or ".join(t)
    return ""

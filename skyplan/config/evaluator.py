"""Evaluate expressions of the syntax tree against a Scope.

Unknown values (``UNKNOWN``) propagate: an operation on an unknown operand is
unknown. Mistakes raise ``EvalError`` with the position of the offending node;
a reference to a value that already failed raises ``Poisoned`` so one mistake
is reported once, not again by everything that depends on it.
"""

from __future__ import annotations

import difflib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from skyplan.config import ast
from skyplan.config.values import (
    UNKNOWN, ConversionError, SetValue, contains_unknown, equal, norm_number, to_bool, to_number,
    to_string, type_name,
)


_INDEX_HINT = "lists are indexed by whole numbers from 0 to length(list) - 1"
_KEY_HINT = "keys are strings; tostring(...) converts a number"
_OPERAND_HINT = "arithmetic and comparisons need numbers, && || ! need bools; tonumber()/tobool() convert strings"
_BOOL_HINT = "a condition must be true or false"


def _usage(fn) -> str:
    doc = (fn.__doc__ or "").strip()
    return f"usage: {doc.splitlines()[0]}" if doc else ""


_DECLARE = {
    "var": 'declare it: variable "NAME" { type = ... }',
    "local": "define it in a locals { ... } block",
    "workload": 'declare it: workload "NAME" { ... }',
    "fleet": 'declare it: fleet "NAME" { ... }',
    "module": 'declare it: module "NAME" { source = "./modules/..." }',
}


class EvalError(Exception):
    def __init__(self, summary: str, pos, hint: str = "", detail: str = ""):
        super().__init__(summary)
        self.summary, self.pos, self.hint, self.detail = summary, pos, hint, detail


class Poisoned(Exception):
    """A referenced value failed earlier (already reported)."""


class _Poison:
    def __repr__(self) -> str:
        return "<error>"


POISON = _Poison()


def did_you_mean(name: str, choices) -> str:
    hits = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f'did you mean "{hits[0]}"?' if hits else ""


@dataclass
class Namespace:
    """``var``, ``local``, ``workload``, ``fleet``, ``module``: a named table of values."""

    kind: str
    values: Mapping[str, Any]
    noun: str = ""
    declared: Any = None  # every declared name (for suggestions), when more than the values so far


@dataclass
class Scope:
    namespaces: dict = field(default_factory=dict)  # root name -> Namespace or value
    names: dict = field(default_factory=dict)  # for-expression symbols
    base_dir: str = "."
    functions: Mapping[str, Any] | None = None

    def child(self, **names) -> "Scope":
        return Scope(self.namespaces, {**self.names, **names}, self.base_dir, self.functions)


def evaluate(expr, scope: Scope) -> Any:
    return _DISPATCH[type(expr)](expr, scope)


def constant(expr) -> Any:
    """Evaluate an expression that may not reference anything (defaults, var files)."""
    return evaluate(expr, Scope())


def _finite(v, pos):
    if isinstance(v, float) and not math.isfinite(v):
        raise EvalError("Number out of range", pos, hint="numbers must be finite")
    return v


def _literal(e: ast.Literal, s: Scope):
    v = e.value
    return _finite(norm_number(v), e.pos) if isinstance(v, float) else v


def _name(e: ast.Name, s: Scope):
    if e.name in s.names:
        return s.names[e.name]
    if e.name in s.namespaces:
        v = s.namespaces[e.name]
        if v is POISON:
            raise Poisoned()
        return v
    hints = {
        "count": "count.index is only available in a block that sets count",
        "each": "each.key and each.value are only available in a block that sets for_each",
    }
    if e.name in hints:
        raise EvalError(f"Reference to \"{e.name}\" in a block without {e.name if e.name == 'count' else 'for_each'}",
                        e.pos, hint=hints[e.name])
    if e.name in ("string", "number", "bool", "list", "map", "set", "object", "tuple", "any"):
        raise EvalError(f"Type name \"{e.name}\" used as a value", e.pos, hint="type constraints belong in a variable's type")
    roots = list(s.names) + [k for k in s.namespaces]
    raise EvalError(f"Unknown name \"{e.name}\"", e.pos,
                    hint=did_you_mean(e.name, roots) or "references start with var., local., workload., fleet. or module.; quote literal strings")


def get_attr(obj, attr: str, pos):
    if obj is UNKNOWN:
        return UNKNOWN
    if isinstance(obj, Namespace):
        if attr not in obj.values:
            noun = obj.noun or obj.kind
            raise EvalError(f"Reference to undeclared {noun} \"{obj.kind}.{attr}\"", pos,
                            hint=did_you_mean(attr, obj.declared if obj.declared is not None else obj.values)
                            or _DECLARE.get(obj.kind, f"declare it with a {noun} block"))
        v = obj.values[attr]
        if v is POISON:
            raise Poisoned()
        return v
    if isinstance(obj, dict):
        if attr not in obj:
            raise EvalError(f"Unsupported attribute \"{attr}\"", pos,
                            hint=did_you_mean(attr, obj) or (f"available: {', '.join(sorted(obj)[:12])}" if obj else "the object is empty"))
        v = obj[attr]
        if v is POISON:
            raise Poisoned()
        return v
    if obj is None:
        raise EvalError(f"Attempt to get attribute \"{attr}\" from a null value", pos, hint="the value is null here: guard it with a conditional, try(...) or coalesce(...)")
    if isinstance(obj, list):
        raise EvalError(f"Cannot get attribute \"{attr}\" of a list", pos,
                        hint=f"this resource has several instances: index it ([0], [\"key\"]) or use [*].{attr}")
    raise EvalError(f"Cannot get attribute \"{attr}\" of a {type_name(obj)}", pos, hint="only objects and maps have attributes")


def _getattr(e: ast.GetAttr, s: Scope):
    return get_attr(evaluate(e.obj, s), e.attr, e.pos)


def index(obj, key, pos):
    if obj is UNKNOWN or key is UNKNOWN:
        return UNKNOWN
    if isinstance(obj, Namespace):
        return get_attr(obj, to_string(key), pos)
    if isinstance(obj, list):
        try:
            i = to_number(key)
        except ConversionError:
            raise EvalError(f"A list index must be a number, not {type_name(key)}", pos, hint=_INDEX_HINT) from None
        if not isinstance(i, int):
            raise EvalError(f"A list index must be a whole number, got {i}", pos, hint=_INDEX_HINT)
        if i < 0 or i >= len(obj):
            raise EvalError(f"Index {i} out of range for a list of {len(obj)} element(s)", pos, hint=_INDEX_HINT)
        v = obj[i]
    elif isinstance(obj, dict):
        try:
            k = to_string(key)
        except ConversionError:
            raise EvalError(f"A map key must be a string, not {type_name(key)}", pos, hint=_KEY_HINT) from None
        if k not in obj and _is_resource(obj):
            shown = json.dumps(key) if isinstance(key, str) else k
            raise EvalError(f"Unexpected index [{shown}]: {obj['address']} has no count or for_each", pos,
                            hint=f"refer to its single instance without an index: {obj['address']}.ATTR")
        if k not in obj:
            raise EvalError(f"The map has no element for key {json.dumps(k)}", pos,
                            hint=did_you_mean(k, obj) or (f"keys: {', '.join(sorted(obj)[:12])}" if obj else "the map is empty"))
        v = obj[k]
    elif obj is None:
        raise EvalError("Attempt to index a null value", pos, hint="the value is null here: guard it with a conditional, try(...) or coalesce(...)")
    else:
        raise EvalError(f"Cannot index a {type_name(obj)}", pos, hint="only lists, maps and objects can be indexed")
    if v is POISON:
        raise Poisoned()
    return v


def _is_resource(obj: dict) -> bool:
    """A workload/fleet instance object (as references see it), not a user's map."""
    return isinstance(obj.get("address"), str) and "name" in obj and "id" in obj and "ip" in obj


def _index(e: ast.Index, s: Scope):
    return index(evaluate(e.obj, s), evaluate(e.key, s), e.pos)


def _splat(e: ast.Splat, s: Scope):
    obj = evaluate(e.obj, s)
    if obj is UNKNOWN:
        return UNKNOWN
    if obj is None:
        return []
    items = obj if isinstance(obj, list) else [obj]
    out = []
    for it in items:
        v = it
        for kind, arg in e.steps:
            v = get_attr(v, arg, e.pos) if kind == "attr" else index(v, evaluate(arg, s), e.pos)
        out.append(v)
    return out


def _call(e: ast.Call, s: Scope):
    from skyplan.config.functions import ALL_NAMES, FUNCTIONS, LAZY

    name = e.name
    if name in LAZY:
        return LAZY[name](e, s)
    fn = (s.functions or FUNCTIONS).get(name)
    if fn is None:
        raise EvalError(f"Call to unknown function \"{name}\"", e.pos,
                        hint=did_you_mean(name, ALL_NAMES) or "see the list of functions in the language reference")
    args = [evaluate(a, s) for a in e.args]
    if e.expand_last:
        if not args or not isinstance(args[-1], list):
            if args and args[-1] is UNKNOWN:
                return UNKNOWN
            raise EvalError("The argument before ... must be a list", e.pos, hint="f(list...) passes the elements of a list as arguments")
        args = args[:-1] + list(args[-1])
    if not getattr(fn, "handles_unknown", False) and any(contains_unknown(a) for a in args):
        return UNKNOWN
    try:
        return fn(*args)
    except EvalError:
        raise
    except ConversionError as err:
        raise EvalError(f"Invalid argument to {name}(): {err}", e.pos, hint=_usage(fn)) from None
    except TypeError as err:
        msg = str(err)
        if "argument" in msg:
            raise EvalError(f"Wrong number of arguments to {name}()", e.pos, hint=_usage(fn)) from None
        raise EvalError(f"Invalid argument to {name}(): {msg}", e.pos, hint=_usage(fn)) from None
    except (ValueError, KeyError, IndexError, ZeroDivisionError, OverflowError) as err:
        raise EvalError(f"Invalid argument to {name}(): {err}", e.pos, hint=_usage(fn)) from None


def _unary(e: ast.Unary, s: Scope):
    v = evaluate(e.operand, s)
    if v is UNKNOWN:
        return UNKNOWN
    try:
        if e.op == "-":
            return norm_number(-to_number(v))
        return not to_bool(v)
    except ConversionError as err:
        raise EvalError(f"Invalid operand for \"{e.op}\": {err}", e.pos, hint=_OPERAND_HINT) from None


def _binary(e: ast.Binary, s: Scope):
    return _finite(_binary_value(e, s), e.pos)


def _binary_value(e: ast.Binary, s: Scope):
    a = evaluate(e.left, s)
    b = evaluate(e.right, s)
    op = e.op
    if op in ("==", "!="):
        if a is UNKNOWN or b is UNKNOWN:
            return UNKNOWN
        r = equal(a, b)
        return r if op == "==" else not r
    if op in ("&&", "||") and (a is UNKNOWN) != (b is UNKNOWN):
        # a known false (&&) or true (||) decides the result whatever the unknown side turns out to be
        try:
            known = to_bool(b if a is UNKNOWN else a)
        except ConversionError as err:
            raise EvalError(f"Invalid operand for \"{op}\": {err}", e.pos, hint=_OPERAND_HINT) from None
        return known if known == (op == "||") else UNKNOWN
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    try:
        if op in ("&&", "||"):
            x, y = to_bool(a), to_bool(b)
            return (x and y) if op == "&&" else (x or y)
        x, y = to_number(a), to_number(b)
    except ConversionError as err:
        raise EvalError(f"Invalid operand for \"{op}\": {err}", e.pos, hint=_OPERAND_HINT) from None
    if op == "+":
        return norm_number(x + y)
    if op == "-":
        return norm_number(x - y)
    if op == "*":
        return norm_number(x * y)
    if op in ("/", "%"):
        if y == 0:
            raise EvalError("Division by zero" if op == "/" else "Modulo by zero", e.pos, hint="the right-hand side is 0 here")
        if op == "/":
            return norm_number(x / y)
        return norm_number(math.fmod(x, y))
    if op == "<":
        return x < y
    if op == ">":
        return x > y
    if op == "<=":
        return x <= y
    if op == ">=":
        return x >= y
    raise EvalError(f"Unsupported operator {op}", e.pos)  # pragma: no cover


def _conditional(e: ast.Conditional, s: Scope):
    c = evaluate(e.cond, s)
    if c is UNKNOWN:
        return UNKNOWN
    try:
        c = to_bool(c)
    except ConversionError as err:
        raise EvalError(f"Invalid condition: {err}", e.cond.pos, hint=_BOOL_HINT) from None
    return evaluate(e.then if c else e.other, s)


def _tuple(e: ast.TupleExpr, s: Scope):
    return [evaluate(x, s) for x in e.items]


def _object(e: ast.ObjectExpr, s: Scope):
    out = {}
    for k, v in e.items:
        key = evaluate(k, s)
        if key is UNKNOWN:
            return UNKNOWN
        try:
            key = to_string(key)
        except ConversionError:
            raise EvalError(f"An object key must be a string, not {type_name(key)}", k.pos, hint=_KEY_HINT) from None
        out[key] = evaluate(v, s)
    return out


def iterate(coll, pos):
    """(key, value) pairs of a collection, maps in key order."""
    if isinstance(coll, dict):
        return [(k, coll[k]) for k in sorted(coll)]
    if isinstance(coll, list):
        if isinstance(coll, SetValue):
            return [(v, v) for v in coll]
        return list(enumerate(coll))
    raise EvalError(f"Cannot iterate over a {type_name(coll)}", pos,
                    hint="a for expression needs a list, set, map or object")


def _for(e: ast.ForExpr, s: Scope):
    coll = evaluate(e.collection, s)
    if coll is UNKNOWN:
        return UNKNOWN
    pairs = iterate(coll, e.collection.pos)
    out_list: list = []
    out_map: dict = {}
    for k, v in pairs:
        names = {e.value_var: v}
        if e.key_var:
            names[e.key_var] = k
        inner = s.child(**names)
        if e.cond is not None:
            c = evaluate(e.cond, inner)
            if c is UNKNOWN:
                return UNKNOWN
            try:
                if not to_bool(c):
                    continue
            except ConversionError as err:
                raise EvalError(f"Invalid for-expression condition: {err}", e.cond.pos, hint=_BOOL_HINT) from None
        if e.key is None:
            out_list.append(evaluate(e.value, inner))
            continue
        key = evaluate(e.key, inner)
        if key is UNKNOWN:
            return UNKNOWN
        try:
            key = to_string(key)
        except ConversionError:
            raise EvalError(f"A for-expression key must be a string, not {type_name(key)}", e.key.pos, hint=_KEY_HINT) from None
        val = evaluate(e.value, inner)
        if e.group:
            out_map.setdefault(key, []).append(val)
        elif key in out_map:
            raise EvalError(f"Duplicate key {json.dumps(key)} in for expression", e.key.pos,
                            hint="add ... after the value expression to group values by key")
        else:
            out_map[key] = val
    return out_list if e.key is None else out_map


def _paren(e: ast.Paren, s: Scope):
    return evaluate(e.expr, s)


from skyplan.config.render import _template  # noqa: E402  (needs the names above)

_DISPATCH = {
    ast.Literal: _literal, ast.Name: _name, ast.GetAttr: _getattr, ast.Index: _index, ast.Splat: _splat,
    ast.Call: _call, ast.Unary: _unary, ast.Binary: _binary, ast.Conditional: _conditional,
    ast.TupleExpr: _tuple, ast.ObjectExpr: _object, ast.ForExpr: _for, ast.Template: _template,
    ast.Paren: _paren,
}

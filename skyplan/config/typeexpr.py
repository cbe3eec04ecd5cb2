"""Variable type constraints: ``string``, ``number``, ``bool``, ``list(T)``,
``set(T)``, ``map(T)``, ``object({a = T, b = optional(T, default)})``,
``tuple([T, ...])`` and ``any``; parsing them from the syntax tree and
converting values to them (as Terraform does: "5" fits number, 5 fits string).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from skyplan.config import ast
from skyplan.config.values import (
    UNKNOWN, ConversionError, SetValue, make_set, to_bool, to_number, to_string, type_name,
)

PRIMITIVES = ("string", "number", "bool", "any")
COLLECTIONS = ("list", "set", "map")


@dataclass(frozen=True)
class Type:
    kind: str  # string number bool any list set map object tuple
    elem: "Type | None" = None
    attrs: tuple = ()  # object: ((name, Type, optional, default), ...)
    items: tuple = ()  # tuple: (Type, ...)

    def __str__(self) -> str:
        if self.kind in PRIMITIVES:
            return self.kind
        if self.kind in COLLECTIONS:
            return f"{self.kind}({self.elem})"
        if self.kind == "tuple":
            return "tuple([" + ", ".join(str(t) for t in self.items) + "])"
        inner = ", ".join(f"{n} = optional({t})" if opt else f"{n} = {t}" for n, t, opt, _ in self.attrs)
        return "object({" + inner + "})"


ANY = Type("any")


class TypeSyntaxError(Exception):
    def __init__(self, message: str, pos):
        super().__init__(message)
        self.pos = pos


def parse_type(expr: ast.Expr) -> Type:
    if isinstance(expr, ast.Paren):
        return parse_type(expr.expr)
    if isinstance(expr, ast.Name) and expr.name in PRIMITIVES:
        return Type(expr.name)
    if isinstance(expr, ast.Literal) and expr.value in PRIMITIVES:
        return Type(expr.value)  # legacy quoted type "string"
    if isinstance(expr, ast.Call):
        if expr.name in COLLECTIONS and len(expr.args) == 1:
            return Type(expr.name, elem=parse_type(expr.args[0]))
        if expr.name == "tuple" and len(expr.args) == 1 and isinstance(expr.args[0], ast.TupleExpr):
            return Type("tuple", items=tuple(parse_type(x) for x in expr.args[0].items))
        if expr.name == "object" and len(expr.args) == 1 and isinstance(expr.args[0], ast.ObjectExpr):
            attrs = []
            for k, v in expr.args[0].items:
                if not isinstance(k, ast.Literal) or not isinstance(k.value, str):
                    raise TypeSyntaxError("object attribute names must be plain names", k.pos)
                opt, default = False, None
                if isinstance(v, ast.Call) and v.name == "optional" and 1 <= len(v.args) <= 2:
                    opt = True
                    if len(v.args) == 2:
                        from skyplan.config.evaluator import constant

                        default = constant(v.args[1])
                    v = v.args[0]
                attrs.append((k.value, parse_type(v), opt, default))
            return Type("object", attrs=tuple(attrs))
    raise TypeSyntaxError(
        "Invalid type constraint", expr.pos)


def convert(value: Any, t: Type, path: str = "") -> Any:
    """Convert ``value`` to type ``t`` or raise ConversionError naming the path."""
    if value is UNKNOWN or t.kind == "any":
        return value
    if value is None:
        return None
    where = f" at {path}" if path else ""
    try:
        if t.kind == "string":
            return to_string(value)
        if t.kind == "number":
            return to_number(value)
        if t.kind == "bool":
            return to_bool(value)
    except ConversionError as e:
        raise ConversionError(f"{e}{where}") from None
    if t.kind in ("list", "set"):
        if not isinstance(value, list):
            raise ConversionError(f"a {t.kind} is required{where}, got {type_name(value)}")
        items = [convert(x, t.elem, f"{path}[{i}]") for i, x in enumerate(value)]
        return make_set(items) if t.kind == "set" else list(items)
    if t.kind == "map":
        if not isinstance(value, dict):
            raise ConversionError(f"a map is required{where}, got {type_name(value)}")
        return {k: convert(v, t.elem, f"{path}.{k}" if path else k) for k, v in value.items()}
    if t.kind == "tuple":
        if not isinstance(value, list) or len(value) != len(t.items):
            raise ConversionError(f"a tuple of {len(t.items)} elements is required{where}")
        return [convert(x, it, f"{path}[{i}]") for i, (x, it) in enumerate(zip(value, t.items))]
    if t.kind == "object":
        if not isinstance(value, dict):
            raise ConversionError(f"an object is required{where}, got {type_name(value)}")
        names = {n for n, *_ in t.attrs}
        extra = sorted(set(value) - names)
        if extra:
            raise ConversionError(f"unexpected attribute {extra[0]!r}{where}; allowed: {', '.join(sorted(names))}")
        out = {}
        for n, at, opt, default in t.attrs:
            sub = f"{path}.{n}" if path else n
            if n in value and value[n] is not None:
                out[n] = convert(value[n], at, sub)
            elif opt:
                out[n] = convert(default, at, sub) if default is not None else None
            elif n in value:
                out[n] = None
            else:
                raise ConversionError(f"attribute {n!r} is required{where}")
        return out
    raise ConversionError(f"unsupported type {t}")  # pragma: no cover


__all__ = ["Type", "ANY", "parse_type", "convert", "TypeSyntaxError", "SetValue"]

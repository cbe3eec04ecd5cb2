"""References between configuration objects, found in the syntax tree.

``workload.a.ip`` in an expression is a reference to ``workload.a``;
``workload.shard[2]`` to one instance of it. These references (and explicit
``depends_on``) are the edges of the dependency graph.
"""

from __future__ import annotations

from dataclasses import dataclass

from skyplan.config import ast

ROOTS = ("var", "local", "workload", "fleet", "module")


@dataclass(frozen=True)
class Ref:
    kind: str  # var | local | workload | fleet | module
    name: str
    key: object = None  # a literal instance key (int/str), when written as a constant
    pos: tuple = (0, 0)

    @property
    def node(self) -> str:
        return f"{self.kind}.{self.name}"


def references(expr, bound: frozenset = frozenset()) -> list[Ref]:
    out: list[Ref] = []
    _refs(expr, bound, out)
    return out


def as_ref(expr) -> Ref | None:
    """``workload.a`` / ``workload.a[0]`` / ``fleet.p["us"]`` / ``module.m`` as a Ref, else None."""
    key = None
    if isinstance(expr, ast.Index) and isinstance(expr.key, ast.Literal):
        key = expr.key.value
        expr = expr.obj
    if isinstance(expr, ast.GetAttr) and isinstance(expr.obj, ast.Name) and expr.obj.name in ROOTS:
        return Ref(expr.obj.name, expr.attr, key, expr.pos)
    return None


def _refs(e, bound: frozenset, out: list) -> None:
    if e is None or type(e) is ast.Literal or isinstance(e, str):  # a literal (most values) refers to nothing
        return
    if isinstance(e, ast.Index):
        r = as_ref(e)
        if r and e.obj.obj.name not in bound:
            out.append(r)
            return
        _refs(e.obj, bound, out)
        _refs(e.key, bound, out)
        return
    if isinstance(e, ast.GetAttr):
        if isinstance(e.obj, ast.Name) and e.obj.name in ROOTS and e.obj.name not in bound:
            out.append(Ref(e.obj.name, e.attr, None, e.pos))
            return
        _refs(e.obj, bound, out)
        return
    if isinstance(e, ast.ForExpr):
        _refs(e.collection, bound, out)
        inner = bound | {n for n in (e.key_var, e.value_var) if n}
        for x in (e.key, e.value, e.cond):
            _refs(x, inner, out)
        return
    if isinstance(e, ast.TemplateFor):
        _refs(e.collection, bound, out)
        inner = bound | {n for n in (e.key_var, e.value_var) if n}
        for x in e.body:
            _refs(x, inner, out)
        return
    if isinstance(e, ast.Splat):
        _refs(e.obj, bound, out)
        for kind, arg in e.steps:
            if kind == "index":
                _refs(arg, bound, out)
        return
    if isinstance(e, ast.Name):
        return
    for child in _children(e):
        _refs(child, bound, out)


def _children(e):
    if isinstance(e, ast.Call):
        return e.args
    if isinstance(e, ast.Unary):
        return (e.operand,)
    if isinstance(e, ast.Binary):
        return (e.left, e.right)
    if isinstance(e, ast.Conditional):
        return (e.cond, e.then, e.other)
    if isinstance(e, ast.TupleExpr):
        return e.items
    if isinstance(e, ast.ObjectExpr):
        return tuple(x for kv in e.items for x in kv)
    if isinstance(e, ast.Template):
        return e.parts
    if isinstance(e, ast.TemplateIf):
        return (e.cond,) + tuple(e.then) + tuple(e.other)
    if isinstance(e, ast.Paren):
        return (e.expr,)
    return ()


def body_references(body: ast.Body, skip: tuple = ("depends_on",), skip_blocks: tuple = ("lifecycle",)) -> list[Ref]:
    """All references in a block body (nested blocks included)."""
    out: list[Ref] = []
    for a in body.attributes:
        if a.name not in skip:
            _refs(a.expr, frozenset(), out)
    for b in body.blocks:
        if b.type not in skip_blocks:
            out.extend(body_references(b.body, (), skip_blocks))
    return out

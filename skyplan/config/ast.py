"""The syntax tree of the skyplan language: bodies, blocks, attributes and expressions.

Built from python-hcl2's lark parse tree by ``syntax.py``. Every node keeps the
``(line, col)`` where it starts so the evaluator can point at it. Nodes are plain
immutable values; evaluation lives in ``evaluator.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

Pos = tuple  # (line, col), 1-based


class SyntaxProblem(Exception):
    """A syntax error at (line, col) with a readable summary (raised by
    ``syntax.parse_text``; defined here so that catching it imports no parser)."""

    def __init__(self, summary: str, line: int, col: int, detail: str = "", hint: str = ""):
        super().__init__(summary)
        self.summary, self.line, self.col, self.detail, self.hint = summary, line, col, detail, hint


@dataclass(frozen=True)
class Node:
    pos: Pos


# --- expressions -------------------------------------------------------------

@dataclass(frozen=True)
class Literal(Node):
    value: Any


@dataclass(frozen=True)
class Name(Node):
    """A bare identifier: ``var``, ``count``, ``each``, a for-expression symbol."""

    name: str


@dataclass(frozen=True)
class GetAttr(Node):
    obj: "Expr"
    attr: str


@dataclass(frozen=True)
class Index(Node):
    obj: "Expr"
    key: "Expr"


@dataclass(frozen=True)
class Splat(Node):
    """``obj[*].a.b`` (full) or ``obj.*.a`` (attribute): apply ``steps`` to each element.
    ``steps`` is a tuple of ("attr", name) / ("index", Expr)."""

    obj: "Expr"
    steps: tuple
    full: bool = True


@dataclass(frozen=True)
class Call(Node):
    name: str
    args: tuple
    expand_last: bool = False


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "-" | "!"
    operand: "Expr"


@dataclass(frozen=True)
class Binary(Node):
    op: str
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True)
class Conditional(Node):
    cond: "Expr"
    then: "Expr"
    other: "Expr"


@dataclass(frozen=True)
class TupleExpr(Node):
    items: tuple


@dataclass(frozen=True)
class ObjectExpr(Node):
    """``items`` is a tuple of (key, value); a key is an Expr (a bare name becomes a Literal)."""

    items: tuple


@dataclass(frozen=True)
class ForExpr(Node):
    key_var: str | None
    value_var: str
    collection: "Expr"
    value: "Expr"
    key: "Expr | None" = None  # set for object-producing for expressions
    cond: "Expr | None" = None
    group: bool = False  # ``...`` after the value


@dataclass(frozen=True)
class Template(Node):
    """A string with interpolations/directives; ``parts`` are str or template nodes."""

    parts: tuple


@dataclass(frozen=True)
class TemplateIf(Node):
    cond: "Expr"
    then: tuple
    other: tuple = ()


@dataclass(frozen=True)
class TemplateFor(Node):
    key_var: str | None
    value_var: str
    collection: "Expr"
    body: tuple


@dataclass(frozen=True)
class Paren(Node):
    """A parenthesised expression (kept so ``(a)`` as an object key is evaluated)."""

    expr: "Expr"


Expr = Union[Literal, Name, GetAttr, Index, Splat, Call, Unary, Binary, Conditional,
             TupleExpr, ObjectExpr, ForExpr, Template, Paren]


# --- structure ----------------------------------------------------------------

@dataclass(frozen=True)
class Attribute(Node):
    name: str
    expr: Expr
    text: str = ""  # the expression's source text


@dataclass(frozen=True)
class Block(Node):
    type: str
    labels: tuple
    body: "Body"
    file: str = ""
    label_pos: tuple = ()


@dataclass(frozen=True)
class Body:
    attributes: tuple = ()  # of Attribute, in source order
    blocks: tuple = ()  # of Block, in source order
    end: Pos = (0, 0)

    def attr(self, name: str) -> Attribute | None:
        for a in self.attributes:
            if a.name == name:
                return a
        return None

    def blocks_of(self, type_: str) -> list:
        return [b for b in self.blocks if b.type == type_]


@dataclass(frozen=True)
class File:
    path: str
    body: Body
    text: str = field(default="", repr=False)


def walk(expr) -> "list":
    """Every expression node under ``expr`` (pre-order), including template parts."""
    out: list = []
    stack = [expr]
    while stack:
        n = stack.pop()
        if n is None or isinstance(n, str):
            continue
        out.append(n)
        if isinstance(n, (GetAttr,)):
            stack.append(n.obj)
        elif isinstance(n, Index):
            stack.extend((n.obj, n.key))
        elif isinstance(n, Splat):
            stack.append(n.obj)
            stack.extend(s[1] for s in n.steps if s[0] == "index")
        elif isinstance(n, Call):
            stack.extend(n.args)
        elif isinstance(n, Unary):
            stack.append(n.operand)
        elif isinstance(n, Binary):
            stack.extend((n.left, n.right))
        elif isinstance(n, Conditional):
            stack.extend((n.cond, n.then, n.other))
        elif isinstance(n, TupleExpr):
            stack.extend(n.items)
        elif isinstance(n, ObjectExpr):
            for k, v in n.items:
                stack.extend((k, v))
        elif isinstance(n, ForExpr):
            stack.extend((n.collection, n.value, n.key, n.cond))
        elif isinstance(n, Template):
            stack.extend(n.parts)
        elif isinstance(n, TemplateIf):
            stack.append(n.cond)
            stack.extend(n.then)
            stack.extend(n.other)
        elif isinstance(n, TemplateFor):
            stack.append(n.collection)
            stack.extend(n.body)
        elif isinstance(n, Paren):
            stack.append(n.expr)
    return out

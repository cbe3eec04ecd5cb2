"""Render string templates: interpolations, ``%{if}`` and ``%{for}`` directives.

A template with an unknown part is unknown as a whole.
"""

from __future__ import annotations

from skyplan.config import ast
from skyplan.config.evaluator import EvalError, Scope, evaluate, iterate
from skyplan.config.values import UNKNOWN, ConversionError, contains_unknown, to_bool, to_string, type_name

_BOOL_HINT = "a condition must be true or false"


def template_string(v, pos) -> str:
    if v is None:
        raise EvalError("Cannot include a null value in a string template", pos, hint='use coalesce(value, "") for an optional value')
    try:
        return to_string(v)
    except ConversionError:
        raise EvalError(f"Cannot include a {type_name(v)} in a string template", pos,
                        hint="use jsonencode(...) or join(...) to turn it into a string") from None


def _render(parts, s: Scope, out: list) -> bool:
    """Append rendered parts to out; returns False if something was unknown."""
    known = True
    for p in parts:
        if isinstance(p, str):
            out.append(p)
        elif isinstance(p, ast.TemplateIf):
            c = evaluate(p.cond, s)
            if c is UNKNOWN:
                known = False
                continue
            try:
                c = to_bool(c)
            except ConversionError as err:
                raise EvalError(f"Invalid template condition: {err}", p.pos, hint=_BOOL_HINT) from None
            known &= _render(p.then if c else p.other, s, out)
        elif isinstance(p, ast.TemplateFor):
            coll = evaluate(p.collection, s)
            if coll is UNKNOWN:
                known = False
                continue
            for k, v in iterate(coll, p.pos):
                names = {p.value_var: v}
                if p.key_var:
                    names[p.key_var] = k
                known &= _render(p.body, s.child(**names), out)
        else:
            v = evaluate(p, s)
            if contains_unknown(v):
                known = False
                continue
            out.append(template_string(v, getattr(p, "pos", None)))
    return known


def _template(e: ast.Template, s: Scope):
    out: list = []
    return "".join(out) if _render(e.parts, s, out) else UNKNOWN

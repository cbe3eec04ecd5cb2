"""Evaluate one expression against a loaded configuration (``skyplan console``),
and show values the way HCL writes them."""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

from skyplan.config.model import UNKNOWN
from skyplan.errors import Diagnostic, DiagnosticsError, SourceRange


SENSITIVE = "(sensitive value)"


def console_eval(dir, expr: str, *, vars: Mapping[str, str] | None = None, var_files: Sequence[str] = (),
                 env: Mapping[str, str] | None = None) -> Any:
    """The value of ``expr`` in the configuration's scope (var., local., workload., ...).
    Raises DiagnosticsError if the configuration or the expression is wrong."""
    return Session(dir, vars=vars, var_files=var_files, env=env).evaluate(expr)[0]


class Session:
    """A configuration loaded once, against which expressions are evaluated."""

    def __init__(self, dir, *, vars: Mapping[str, str] | None = None, var_files: Sequence[str] = (),
                 env: Mapping[str, str] | None = None):
        from skyplan.config.loader import Loader
        from skyplan.config.variables import Diags

        diags = Diags()
        self.loader = Loader(str(dir), diags)
        try:
            self.loader.run(vars, var_files, env)
        except RecursionError:
            diags.error("Configuration nested too deeply to evaluate", None)
        if diags.has_errors:
            raise DiagnosticsError(diags.items)

    def evaluate(self, expr: str) -> tuple[Any, bool]:
        """(value, sensitive): sensitive when the expression reads a sensitive variable,
        directly or through locals, so the console can hide it. Raises DiagnosticsError."""
        from skyplan.config.evaluator import EvalError, Poisoned, evaluate
        from skyplan.config.nodes import _sensitive
        from skyplan.config.refs import references
        from skyplan.config.syntax import SyntaxProblem, parse_expression
        from skyplan.config.templates import TemplateProblem

        where = "<expression>"
        try:
            tree = parse_expression(expr)
            return evaluate(tree, self.loader.scope()), _sensitive(self.loader, references(tree))
        except SyntaxProblem as e:
            raise DiagnosticsError([Diagnostic(e.summary, e.detail, SourceRange(where, e.line, e.col), hint=e.hint)]) from None
        except TemplateProblem as e:
            raise DiagnosticsError([Diagnostic(e.summary, "", SourceRange(where, *e.pos), hint=e.hint)]) from None
        except EvalError as e:
            raise DiagnosticsError([Diagnostic(e.summary, e.detail, SourceRange(where, *e.pos), hint=e.hint)]) from None
        except RecursionError:
            raise DiagnosticsError([Diagnostic("Expression nested too deeply")]) from None
        except Poisoned:  # pragma: no cover - no errors were reported, so nothing is poisoned
            raise DiagnosticsError([Diagnostic("The expression refers to a value that failed to evaluate")]) from None


def format_value(v: Any, indent: int = 0) -> str:
    """HCL-like text: strings quoted, lists in brackets, objects in braces, unknowns as
    ``(known after apply)``."""
    pad = "  " * indent
    if v is UNKNOWN:
        return "(known after apply)"
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        from skyplan.config.values import format_number

        return format_number(v)
    if isinstance(v, str):
        if "\n" in v.rstrip("\n") and v.endswith("\n"):
            body = "".join(f"{pad}  {line}\n" if line else "\n" for line in v[:-1].split("\n"))
            return f"<<-EOT\n{body}{pad}EOT"
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        from skyplan.config.values import SetValue

        if not v:
            return "toset([])" if isinstance(v, SetValue) else "[]"
        items = "".join(f"{pad}  {format_value(x, indent + 1)},\n" for x in v)
        text = f"[\n{items}{pad}]"
        return f"toset({text})" if isinstance(v, SetValue) else text
    if isinstance(v, dict):
        if not v:
            return "{}"
        width = max(len(_key(k)) for k in v)
        items = "".join(f"{pad}  {_key(k).ljust(width)} = {format_value(x, indent + 1)}\n" for k, x in v.items())
        return f"{{\n{items}{pad}}}"
    return str(v)


def _key(k: str) -> str:
    return k if k.isidentifier() else json.dumps(k)

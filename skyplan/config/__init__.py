"""Configuration: load every *.sky.hcl file of a folder with python-hcl2, validate
each block against schemas/*.json, evaluate expressions (variables, locals,
references, functions, count/for_each) and build the DesiredGraph
(config/model.py) with addresses and dependency edges. Errors are Diagnostics
with file:line:col, collected and raised together as DiagnosticsError. Never
calls providers or touches state.

How it is built: ``parsecache`` (lark parser, grammar and tree caches) ->
``syntax``/``templates`` (lark's tree to ``ast`` nodes with positions) ->
``schema``/``fastcheck`` (JSON Schema checks) -> ``variables``/``typeexpr``
(values, types, precedence) -> ``loader`` (files, blocks, the reference graph
from ``refs``, cycles, evaluation order) -> ``nodes`` (each block evaluated with
``evaluator``/``render``/``functions``/``values``; count/for_each; module calls in
``module_nodes``) -> ``build``
(model values) -> ``checks`` (cross-references). After apply, ``outputs`` and
``resolve`` re-evaluate with known attributes; ``console`` evaluates one
expression and formats values; ``dot`` draws the graph.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from skyplan.config.model import UNKNOWN, DesiredGraph


def load(dir, *, vars: Mapping[str, str] | None = None, var_files: Sequence[str] = (),
         env: Mapping[str, str] | None = None) -> DesiredGraph:
    """Load and evaluate a configuration folder. Raises DiagnosticsError with every problem."""
    from skyplan.config.loader import load as _load

    return _load(dir, vars=vars, var_files=var_files, env=env)


def validate(dir, *, vars: Mapping[str, str] | None = None, var_files: Sequence[str] = (),
             env: Mapping[str, str] | None = None) -> list:
    """Every diagnostic (errors and warnings) of a configuration; no error = valid."""
    from skyplan.config.loader import load_graph

    return load_graph(dir, vars=vars, var_files=var_files, env=env)[1]


def evaluate_outputs(graph: DesiredGraph, known: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    from skyplan.config.outputs import evaluate_outputs as _eval

    return _eval(graph, known)


def resolve_after_apply(graph: DesiredGraph, address: str, known: Mapping[str, Mapping[str, Any]]):
    """One workload/fleet re-evaluated with the attributes now known of what it references
    (e.g. ``env = { MASTER = workload.head.ip }`` once workload.head exists)."""
    from skyplan.config.resolve import resolve_after_apply as _r

    return _r(graph, address, known)


def console_eval(dir, expr: str, *, vars: Mapping[str, str] | None = None, var_files: Sequence[str] = (),
                 env: Mapping[str, str] | None = None) -> Any:
    from skyplan.config.console import console_eval as _ce

    return _ce(dir, expr, vars=vars, var_files=var_files, env=env)


def format_value(value: Any, indent: int = 0) -> str:
    from skyplan.config.console import format_value as _fv

    return _fv(value, indent)


__all__ = ["load", "validate", "evaluate_outputs", "resolve_after_apply", "console_eval", "format_value", "UNKNOWN", "DesiredGraph"]

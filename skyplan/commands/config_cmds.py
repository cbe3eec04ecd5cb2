"""CLI commands of the configuration language: ``validate``, ``graph``, ``console``."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from skyplan.commands.common import DIR_ARG, JSON_OPT, VAR_FILE_OPT, VAR_OPT, list_opt, parse_vars, show_diagnostics


def validate_cmd(
    dir: Path = DIR_ARG,
    json_out: bool = JSON_OPT,
    var: Optional[List[str]] = VAR_OPT,
    var_file: Optional[List[str]] = VAR_FILE_OPT,
) -> int:
    """Check the configuration: syntax, schemas, types, references, cycles.

    Exit code 0 when valid, 1 when not; every problem is listed with file:line:col.
    """
    from skyplan.config import validate
    from skyplan.progress import phase

    with phase("load", "Loading configuration"):
        diags = validate(dir, vars=parse_vars(var), var_files=list_opt(var_file))
    valid = not any(d.severity == "error" for d in diags)
    if json_out:
        show_diagnostics(diags, as_json=True)
    else:
        if diags:
            show_diagnostics(diags)
        if valid:
            from skyplan.commands.common import console

            console().print("[green]Success![/] The configuration is valid.")
    return 0 if valid else 1


def graph_cmd(
    dir: Path = DIR_ARG,
    var: Optional[List[str]] = VAR_OPT,
    var_file: Optional[List[str]] = VAR_FILE_OPT,
) -> int:
    """Print the dependency graph of workloads and fleets as Graphviz DOT.

    Render it with: skyplan graph | dot -Tsvg > graph.svg
    """
    from skyplan.config import load
    from skyplan.config.dot import to_dot

    graph = load(dir, vars=parse_vars(var), var_files=list_opt(var_file))
    typer.echo(to_dot(graph), nl=False)
    return 0


def console_cmd(
    dir: Path = DIR_ARG,
    expr: Optional[List[str]] = typer.Option(None, "-e", "--expr", help="Expression to evaluate (repeatable), e.g. -e 'local.regions'. Without -e, expressions are read from standard input, one per line."),
    json_out: bool = JSON_OPT,
    var: Optional[List[str]] = VAR_OPT,
    var_file: Optional[List[str]] = VAR_FILE_OPT,
) -> int:
    """Evaluate expressions against the configuration (like terraform console).

    Values known only after apply print as (known after apply); values read from
    sensitive variables as (sensitive value). With -e, the first bad expression
    fails the command (exit 1); reading standard input, errors are shown and the
    session goes on.
    """
    import sys

    from skyplan.config.console import Session
    from skyplan.errors import DiagnosticsError

    session = Session(dir, vars=parse_vars(var), var_files=list_opt(var_file))
    if expr:
        for e in expr:
            _show(*session.evaluate(e), json_out=json_out)
        return 0
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            typer.echo("> ", nl=False)
        line = sys.stdin.readline()
        if not line:
            break
        text = line.strip()
        if not text:
            continue
        if text in ("exit", "quit"):
            break
        try:
            _show(*session.evaluate(text), json_out=json_out)
        except DiagnosticsError as err:
            show_diagnostics(err.diagnostics)
    return 0


def _show(value, sensitive: bool, *, json_out: bool) -> None:
    import json

    from skyplan.config import UNKNOWN, format_value
    from skyplan.config.console import SENSITIVE

    if sensitive:
        typer.echo(json.dumps(None) if json_out else SENSITIVE)
    elif json_out:
        typer.echo(json.dumps(value, default=lambda v: None if v is UNKNOWN else str(v)))
    else:
        typer.echo(format_value(value))


def register(app: typer.Typer) -> None:
    """Add this group's commands to the app."""
    app.command("validate")(validate_cmd)
    app.command("graph")(graph_cmd)
    app.command("console")(console_cmd)

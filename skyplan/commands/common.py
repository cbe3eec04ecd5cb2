"""Shared pieces of the CLI: the config folder argument, variable flags, consoles,
diagnostics output and the exit helper."""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import List, NoReturn, Optional, Sequence

import typer

from skyplan.errors import Diagnostic

# Reusable parameter declarations (typer reads defaults from these).
DIR_ARG = typer.Argument(Path("."), help="Configuration folder (default: the current folder).", show_default=False)
VAR_OPT = typer.Option(None, "--var", help="Set a variable: NAME=VALUE (repeatable). Also -var.")
VAR_FILE_OPT = typer.Option(None, "--var-file", help="Load variables from a .skyvars.hcl or .json file (repeatable). Also -var-file.")
JSON_OPT = typer.Option(False, "--json", help="Machine-readable JSON output.")
LOCK_OPT = typer.Option(True, "--lock/--no-lock",
                        help="Hold the state lock (-lock=false skips it: only when nothing else can run on this state).")


@contextmanager
def state_lock(store, operation: str, *, lock: bool = True, timeout: float = 0.0):
    """The state lock for the block, or nothing with ``-lock=false``."""
    if not lock:
        yield None
        return
    with store.lock(operation, timeout=timeout) as info:
        yield info


def no_color() -> bool:
    return bool(os.environ.get("NO_COLOR")) or os.environ.get("SKYPLAN_NO_COLOR") == "1"


def console(stderr: bool = False):
    """A rich Console that is plain when piped or when NO_COLOR/--no-color is set."""
    from rich.console import Console

    return Console(stderr=stderr, no_color=no_color(), highlight=False, soft_wrap=True,
                   force_terminal=None if not no_color() else False)


def parse_vars(pairs: Optional[Sequence[str]]) -> dict[str, str]:
    """``["a=1", "b=x=y"]`` -> {"a": "1", "b": "x=y"}; a pair without ``=`` is a usage error."""
    out: dict[str, str] = {}
    for p in pairs or ():
        if "=" not in p:
            fail(f"-var {p!r} must be NAME=VALUE", hint='e.g. -var region=us-east-1 or -var \'gpus=["H100"]\'')
        k, v = p.split("=", 1)
        out[k.strip()] = v
    return out


def show_diagnostics(diags: Sequence[Diagnostic], *, as_json: bool = False) -> None:
    if as_json:
        print(json.dumps({"valid": not any(d.severity == "error" for d in diags),
                          "diagnostics": [d.to_json() for d in diags]}, indent=2))
        return
    err = console(stderr=True)
    for d in diags:
        colour = "red" if d.severity == "error" else "yellow"
        where = f"{d.source}: " if d.source else ""
        err.print(f"[bold {colour}]{d.severity.capitalize()}:[/] {where}{_esc(d.summary)}")
        if d.detail:
            err.print(f"  {_esc(d.detail)}")
        if d.hint:
            err.print(f"  [dim]hint:[/] {_esc(d.hint)}")
    n = sum(1 for d in diags if d.severity == "error")
    if n:
        err.print(f"[red]{n} error(s).[/]")


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def fail(message: str, *, hint: str = "", code: int = 1) -> NoReturn:
    err = console(stderr=True)
    err.print(f"[bold red]Error:[/] {_esc(message)}")
    if hint:
        err.print(f"  [dim]hint:[/] {_esc(hint)}")
    raise typer.Exit(code)


def list_opt(values: Optional[List[str]]) -> list[str]:
    return list(values or [])


def emit_json(data) -> None:
    """Indented for a terminal; compact when piped, as machines read it (json's C
    encoder writes only compact JSON: indenting is its pure-Python path, ten times
    slower, which on a 10,000-workload table is most of the run)."""
    from skyplan.gcpause import paused

    with paused():
        if _is_terminal(sys.stdout):
            json.dump(data, sys.stdout, indent=2, default=str)
        else:
            sys.stdout.write(compact_json(data))
    sys.stdout.write("\n")


SPLIT_ITEMS = 2000  # a last list this long is encoded in two processes (skyplan.forked)
_CHUNK = 250


def compact_json(data) -> str:
    """``json.dumps(data, default=str)``. When the document's last value is a long
    list (a 10,000-workload optimize or plan: tens of MB), its items are encoded in
    runs shared with a forked child, and the text is joined as json joins it."""
    last = next(reversed(data), None) if isinstance(data, dict) else None
    items = data[last] if last is not None else None
    if not isinstance(items, list) or len(items) < SPLIT_ITEMS:
        return json.dumps(data, default=str)
    from skyplan.forked import map_split

    head = json.dumps({**data, last: []}, default=str)  # ends with the empty list and the brace
    runs = [items[i:i + _CHUNK] for i in range(0, len(items), _CHUNK)]
    parts = map_split(lambda run: json.dumps(run, default=str)[1:-1], runs, _same, _same, least=2)
    return head[:-3] + "[" + ", ".join(parts) + "]}"


def _same(x):
    return x


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False

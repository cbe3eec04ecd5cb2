"""The ``skyplan`` command: a thin typer app. Commands live in skyplan/commands/.

``main`` also accepts Terraform's single-dash spellings (``-out FILE``,
``-var k=v``, ``-refresh=false``) and turns every SkyplanError into a message and
exit code 1, so no traceback reaches a user.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Optional, Sequence

import typer

from skyplan import __version__

app = typer.Typer(
    name="skyplan",
    help="Declare AI workloads once; plan where they run at the lowest cost; apply across clouds.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"skyplan {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    no_color: bool = typer.Option(False, "--no-color", help="Plain output without colour (also NO_COLOR)."),
    version: Optional[bool] = typer.Option(None, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    if no_color:
        os.environ["NO_COLOR"] = "1"


def _register() -> None:
    from skyplan.commands import (
        apply_cmds, catalog_cmds, config_cmds, drift_cmds, module_cmds, plan_cmds, solver_cmds, start_cmds,
        state_cmds, watch_cmds,
    )

    for module in (config_cmds, module_cmds, plan_cmds, apply_cmds, start_cmds, drift_cmds, watch_cmds,
                   solver_cmds, catalog_cmds, state_cmds):
        module.register(app)


_register()

_SINGLE_DASH = re.compile(r"^-([a-z][a-z0-9-]+)(=.*)?$")
_BOOL_VALUE = re.compile(r"^--([a-z][a-z0-9-]*)=(true|false)$", re.IGNORECASE)
# Options of the root command that may be typed anywhere, as Terraform allows.
GLOBAL_FLAGS = ("--no-color",)


def _rewrite(argv: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """(rewritten argv, rewritten spelling -> what the user typed)."""
    out: list[str] = []
    front: list[str] = []
    typed: dict[str, str] = {}
    passthrough = False
    prev = ""
    for arg in argv:
        if passthrough or prev in ("-e", "--expr"):
            out.append(arg)
        elif arg == "--":
            passthrough = True
            out.append(arg)
        else:
            original = arg
            m = _SINGLE_DASH.match(arg)
            if m:
                arg = "-" + arg
            b = _BOOL_VALUE.match(arg)
            if b:
                arg = f"--{b.group(1)}" if b.group(2).lower() == "true" else f"--no-{b.group(1)}"
            if arg != original:
                typed.setdefault(arg, original)
            (front if arg in GLOBAL_FLAGS else out).append(arg)
        prev = arg
    return list(dict.fromkeys(front)) + out, typed


def terraform_args(argv: Sequence[str]) -> list[str]:
    """Rewrite Terraform spellings: ``-out F`` -> ``--out F``; ``--refresh=false`` ->
    ``--no-refresh``; global flags (``-no-color``) typed after the sub-command move in
    front of it. Arguments after ``--`` and values of ``-e`` are left alone."""
    return _rewrite(argv)[0]


def _as_typed(e: Exception, typed: dict[str, str]) -> None:
    """Name an unknown option as the user typed it (``-lock=false``), not as rewritten."""
    name = getattr(e, "option_name", None)
    if name and name in typed:
        e.option_name = typed[name]  # type: ignore[attr-defined]
        message = getattr(e, "message", "")
        if isinstance(message, str) and name in message:
            e.message = message.replace(name, typed[name], 1)  # type: ignore[attr-defined]


def main(argv: Optional[Sequence[str]] = None) -> None:
    try:
        _main(argv)
    finally:
        if argv is None:
            # The process ends here. Tearing down what a large run built (a 10,000-workload
            # solve: millions of objects) took seconds of freeing and of one last cycle
            # collection; frozen, they are left to the operating system to reclaim.
            import gc

            gc.freeze()


def _main(argv: Optional[Sequence[str]]) -> None:
    from skyplan.errors import DiagnosticsError, SkyplanError

    from skyplan import progress

    args, typed = _rewrite(sys.argv[1:] if argv is None else argv)
    progress.configure()  # long phases report on stderr (a status line, or JSON lines when piped)
    try:
        code = app(args=args, prog_name="skyplan", standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except DiagnosticsError as e:
        from skyplan.commands.common import show_diagnostics

        show_diagnostics(e.diagnostics)
        sys.exit(1)
    except SkyplanError as e:
        from skyplan.commands.common import console, _esc

        err = console(stderr=True)
        err.print(f"[bold red]Error:[/] {_esc(str(e))}")
        if e.hint:
            err.print(f"  [dim]hint:[/] {_esc(e.hint)}")
        sys.exit(1)
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        sys.exit(130)
    except Exception as e:  # click usage errors and genuine faults
        import click

        # typer vendors its own copy of click: its usage errors are not click's classes.
        if isinstance(e, (click.exceptions.Abort, typer.Abort)):
            print("Aborted.", file=sys.stderr)
            sys.exit(1)
        if isinstance(e, (click.ClickException, typer.TyperException)) and hasattr(e, "show"):
            _as_typed(e, typed)
            e.show()
            code = getattr(e, "exit_code", 1)
            sys.exit(1 if code == 2 else code)
        if os.environ.get("SKYPLAN_DEBUG"):
            raise
        print(f"Error: internal error: {type(e).__name__}: {e}", file=sys.stderr)
        print("  hint: this is a bug in skyplan; rerun with SKYPLAN_DEBUG=1 for details and report it.", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

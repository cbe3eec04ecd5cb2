"""CLI commands: plan, show, output. Flags in, workflow/planner calls, exit code out."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from skyplan.commands.common import JSON_OPT, VAR_FILE_OPT, VAR_OPT, emit_json, fail, list_opt, no_color

FORMATS = ("text", "json", "markdown")


def _color_wanted(flag_no_color: bool) -> bool:
    if flag_no_color or no_color():
        return False
    return sys.stdout.isatty()


def plan_options(*, target=None, exclude=None, replace=None, destroy=False, refresh=True, refresh_only=False, reoptimize=False,
                 migrate_threshold=None, var=None, var_file=None, parallelism=10, catalog=None, lock=True,
                 lock_timeout="0s", out=None, policy_dir=None):
    """PlanOptions from CLI flag values (shared with apply, destroy and drift)."""
    from skyplan.commands.common import parse_vars
    from skyplan.planner.options import PlanOptions, parse_duration

    try:
        timeout = parse_duration(lock_timeout)
    except ValueError as e:
        fail(f"-lock-timeout: {e}")
    if parallelism < 1:
        fail(f"-parallelism must be at least 1 (got {parallelism})")
    if migrate_threshold is not None and not 0 <= migrate_threshold < 1:
        fail(f"--migrate-threshold must be a fraction in [0, 1) (got {migrate_threshold})",
             hint="e.g. --migrate-threshold 0.2 moves a workload only when that saves at least 20%")
    if destroy and (replace or refresh_only):
        fail(f"{'-replace' if replace else '-refresh-only'} cannot be used with -destroy",
             hint="a destroy plan deletes everything it selects; drop one of the two flags")
    if refresh_only and (replace or reoptimize):
        fail(f"{'-replace' if replace else '--reoptimize'} cannot be used with -refresh-only",
             hint="a refresh-only plan changes no infrastructure; drop one of the two flags")
    from skyplan.addrs import Address

    from skyplan.planner.targets import module_path

    for flag, values in (("-target", target), ("-exclude", exclude), ("-replace", replace)):
        for v in values or ():
            if flag != "-replace" and module_path(v) is not None:
                continue
            try:
                Address.parse(v)
            except ValueError as e:
                fail(f"{flag}: {e}")
    return PlanOptions(
        targets=tuple(list_opt(target)), excludes=tuple(list_opt(exclude)), replace=tuple(list_opt(replace)), destroy=destroy, refresh=refresh,
        refresh_only=refresh_only, reoptimize=reoptimize, migrate_threshold=migrate_threshold,
        parallelism=parallelism, catalog=str(catalog) if catalog else None, lock=lock, lock_timeout=timeout,
        vars=parse_vars(var), var_files=tuple(str(f) for f in list_opt(var_file)), out=str(out) if out else None,
        policy_dirs=tuple(str(Path(d).resolve()) for d in list_opt(policy_dir)),
    )


DIRS_ARG = typer.Argument(None, help="Configuration folder (default: the current folder); with --format markdown, "
                                     "several folders make one comment with a section each.", show_default=False)


def plan_cmd(
    dirs: Optional[List[Path]] = DIRS_ARG,
    out: Optional[Path] = typer.Option(None, "--out", help="Save the plan to FILE for `skyplan apply FILE`. Also -out."),
    json_out: bool = JSON_OPT,
    fmt: str = typer.Option("text", "--format", help="Output format: text, json or markdown (a pull-request comment)."),
    detailed_exitcode: bool = typer.Option(False, "--detailed-exitcode",
                                           help="Exit 0 when there are no changes, 2 when there are, 1 on error."),
    target: Optional[List[str]] = typer.Option(None, "--target", help="Plan only ADDRESS and what it depends on (repeatable)."),
    exclude: Optional[List[str]] = typer.Option(None, "--exclude", help="Plan everything except ADDRESS and what depends on it (repeatable)."),
    replace: Optional[List[str]] = typer.Option(None, "--replace", help="Force replacement of ADDRESS (repeatable)."),
    destroy: bool = typer.Option(False, "--destroy", help="Plan to destroy everything in state."),
    refresh: bool = typer.Option(True, "--refresh/--no-refresh", help="Ask the providers what exists first (-refresh=false skips it)."),
    refresh_only: bool = typer.Option(False, "--refresh-only", help="Only show what changed outside of skyplan."),
    reoptimize: bool = typer.Option(False, "--reoptimize", help="Move running workloads when a cheaper placement exists."),
    migrate_threshold: Optional[float] = typer.Option(None, "--migrate-threshold",
                                                      help="With --reoptimize: the fraction of cost a move must save (default 0.2)."),
    var: Optional[List[str]] = VAR_OPT,
    var_file: Optional[List[Path]] = VAR_FILE_OPT,
    parallelism: int = typer.Option(10, "--parallelism", help="Concurrent provider operations during apply (recorded in the plan)."),
    catalog: Optional[Path] = typer.Option(None, "--catalog", help="Use this catalog CSV instead of the configured one."),
    lock: bool = typer.Option(True, "--lock/--no-lock", help="Hold the state lock while planning (-lock=false skips it)."),
    lock_timeout: str = typer.Option("0s", "--lock-timeout", help="How long to wait for the state lock, e.g. 5s or 1m."),
    plain: bool = typer.Option(False, "--no-color", help="Plain output without colour."),
    policy_dir: Optional[List[Path]] = typer.Option(None, "--policy-dir",
                                                    help="Also check the policy blocks of this folder (repeatable)."),
) -> int:
    """Show what apply would change, where each workload would run and what it costs."""
    from skyplan import workflow
    from skyplan.planner.planfile import save_plan

    fmt = "json" if json_out else fmt
    if fmt not in FORMATS:
        fail(f"--format {fmt!r} is not one of: {', '.join(FORMATS)}")
    dirs = list(dirs or [Path(".")])
    if len(dirs) > 1 and fmt != "markdown":
        fail(f"plan takes one folder with --format {fmt} (got {len(dirs)})",
             hint="use --format markdown to plan several folders into one comment, or run plan once per folder")
    if len(dirs) > 1 and out is not None:
        fail(f"-out saves one plan; it cannot be used with {len(dirs)} folders", hint="run plan -out FILE once per folder")
    options = plan_options(target=target, exclude=exclude, replace=replace, destroy=destroy, refresh=refresh,
                           refresh_only=refresh_only, reoptimize=reoptimize, migrate_threshold=migrate_threshold,
                           var=var, var_file=var_file, parallelism=parallelism, catalog=catalog, lock=lock,
                           lock_timeout=lock_timeout, out=out, policy_dir=policy_dir)
    if len(dirs) > 1:
        return _plan_projects(dirs, options, detailed_exitcode)
    dir = dirs[0]
    result = _plan_or_report(dir, options, fmt)
    try:
        plan = result.plan
        if out is not None:
            save_plan(plan, out)
        _print_plan(plan, fmt, _color_wanted(plain), project=_project_name(dir))
        if out is not None and fmt == "text":
            print(f"\nSaved the plan to: {out}\n\nTo perform exactly these actions, run:\n    skyplan apply {out}")
    finally:
        if result.store is not None:
            result.store.close()
    from skyplan.policy.check import failures

    if failures(plan.policy_results):  # a mandatory policy fails: an error, with -detailed-exitcode too
        print("Error: a mandatory policy fails (see Policies above); apply would refuse this plan", file=sys.stderr)
        return 1
    changed = plan.has_changes or (options.refresh_only and bool(plan.drift))
    return 2 if detailed_exitcode and changed else 0


def _plan_or_report(dir: Path, options, fmt: str):
    """``workflow.make_plan``; when it fails under --format json or markdown, the
    error is also written where the plan would be (a JSON error document, or a
    comment that says the project failed), so a machine or a pull request sees it."""
    from skyplan import workflow
    from skyplan.errors import SkyplanError

    try:
        return workflow.make_plan(dir, options)
    except SkyplanError as e:
        if fmt == "json":
            from skyplan.commands.common import emit_json
            from skyplan.planner.render_json import error_document

            emit_json(error_document(e))
        elif fmt == "markdown":
            from skyplan.planner.render_comment import Project, render_failed

            sys.stdout.write(render_failed(Project(_project_name(dir), error=_error_text(e))))
            sys.stdout.flush()
        raise


def _project_name(dir: Path) -> str:
    return dir.resolve().name if str(dir) in (".", "") else str(dir)


def _error_text(e) -> str:
    """What the CLI would print for ``e`` (a SkyplanError), as plain text."""
    from skyplan.errors import DiagnosticsError

    if isinstance(e, DiagnosticsError):
        return "\n".join(str(d) for d in e.diagnostics)
    return f"Error: {e}" + (f"\n  hint: {e.hint}" if e.hint else "")


def _plan_projects(dirs: List[Path], options, detailed_exitcode: bool) -> int:
    """Plan each folder into one comment; a folder that fails is shown with its error.
    Exit 1 when any failed (or fails a mandatory policy), else 2 with
    -detailed-exitcode when any has changes."""
    from skyplan import workflow
    from skyplan.errors import SkyplanError
    from skyplan.planner.render_comment import Project, render_comment
    from skyplan.policy.check import failures

    projects = []
    for d in dirs:
        try:
            result = workflow.make_plan(d, options)
        except SkyplanError as e:
            projects.append(Project(_project_name(d), error=_error_text(e)))
            continue
        if result.store is not None:
            result.store.close()
        projects.append(Project(_project_name(d), plan=result.plan))
    sys.stdout.write(render_comment(projects))
    sys.stdout.flush()
    failed = [p.name for p in projects if p.failed]
    refused = [p.name for p in projects if not p.failed and failures(p.plan.policy_results)]
    if failed:
        print(f"Error: {len(failed)} of {len(projects)} projects failed: {', '.join(failed)}", file=sys.stderr)
    if refused:
        print(f"Error: a mandatory policy fails in {', '.join(refused)} (see Policies in its section); "
              "apply would refuse those plans", file=sys.stderr)
    if failed or refused:
        return 1
    return 2 if detailed_exitcode and any(p.plan.has_changes for p in projects) else 0


def _print_plan(plan, fmt: str, color: bool, project: str | None = None) -> None:
    if fmt == "json":
        from skyplan.planner.render_json import render_json

        sys.stdout.write(render_json(plan))
    elif fmt == "markdown":
        from skyplan.planner.render_markdown import render_markdown

        sys.stdout.write(render_markdown(plan, project=project))
    elif color:
        from rich.text import Text

        from skyplan.commands.common import console
        from skyplan.planner.render_text import STYLES, render_lines

        out = console()
        for mark, text in render_lines(plan):
            out.print(Text(text, style=STYLES.get(mark, "")))
    else:
        from skyplan.planner.render_text import render_text

        sys.stdout.write(render_text(plan))
    sys.stdout.flush()


def show_cmd(
    path: Path = typer.Argument(Path("."), help="A saved plan file, or a configuration folder (shows its state).",
                                show_default=False),
    json_out: bool = JSON_OPT,
    plain: bool = typer.Option(False, "--no-color", help="Plain output without colour."),
) -> int:
    """Show a saved plan, or the current state of a configuration folder."""
    from skyplan.planner.planfile import is_plan_file, load_plan

    if path.is_file():
        if not is_plan_file(path):
            fail(f"{path} is not a skyplan plan file", hint="give a file saved with `skyplan plan -out FILE`, "
                                                              "or a configuration folder to show its state")
        _print_plan(load_plan(path), "json" if json_out else "text", _color_wanted(plain))
        return 0
    if not path.exists():
        fail(f"{path} does not exist", hint="give a plan file or a configuration folder")
    from skyplan.commands.state_view import load_snapshot, render_state_json, render_state_text

    snap, sensitive = load_snapshot(path)
    if json_out:
        emit_json(render_state_json(snap, sensitive))
    else:
        sys.stdout.write(render_state_text(snap, sensitive))
    return 0


def output_cmd(
    name: Optional[str] = typer.Argument(None, help="The output to print (default: all of them)."),
    dir: Path = typer.Argument(Path("."), help="Configuration folder (default: the current folder).",
                               show_default=False),
    json_out: bool = JSON_OPT,
    raw: bool = typer.Option(False, "--raw", help="Print a string output's value without quotes."),
) -> int:
    """Print the outputs recorded in state by the last apply. A sensitive output is shown
    as <sensitive>; only asking for it by name with --raw or --json prints its value
    (to hand it to a script), as `state pull` does for everything."""
    from skyplan.commands.state_view import format_value, load_snapshot

    if name is not None and dir == Path(".") and not name.isidentifier() and Path(name).is_dir():
        name, dir = None, Path(name)  # `skyplan output ./infra`: output names are identifiers
    snap, _ = load_snapshot(dir)
    outputs = dict(snap.outputs)
    if name is not None:
        if name not in outputs:
            known = ", ".join(sorted(outputs)) or "none recorded"
            fail(f'Output "{name}" not found', hint=f"outputs in state: {known}; run `skyplan apply` to record new ones")
        value = outputs[name].get("value")
        if json_out:
            emit_json(value)
        elif raw:
            if isinstance(value, (dict, list)):
                fail(f'Output "{name}" is not a string, number or bool; --raw cannot print it',
                     hint="use --json for structured values")
            print(value if not isinstance(value, bool) else str(value).lower())
        else:
            print("<sensitive>" if outputs[name].get("sensitive") else format_value(value))
        return 0
    if json_out:
        emit_json({k: {"sensitive": bool(v.get("sensitive")), "value": None if v.get("sensitive") else v.get("value")}
                   for k, v in sorted(outputs.items())})
        return 0
    if not outputs:
        print("No outputs found. Outputs are recorded by `skyplan apply`.", file=sys.stderr)
        return 0
    for k, v in sorted(outputs.items()):
        shown = "<sensitive>" if v.get("sensitive") else format_value(v.get("value"))
        print(f"{k} = {shown}")
    return 0


def register(app: typer.Typer) -> None:
    """Add plan, show and output to the app."""
    app.command("plan", help="Show what apply would change, where each workload would run and what it costs.")(plan_cmd)
    app.command("show", help="Show a saved plan, or the current state of a configuration folder.")(show_cmd)
    app.command("output", help="Print the outputs recorded in state by the last apply.")(output_cmd)

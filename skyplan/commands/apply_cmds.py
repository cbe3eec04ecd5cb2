"""CLI commands: apply, destroy, logs, status. Flags in, exit code out.

``apply`` plans under the state lock, shows the plan, asks for ``yes`` and carries
it out (or applies a saved plan file exactly, refusing a stale one); ``destroy``
does the same for a plan that deletes everything. Ctrl-C once stops starting
new actions, twice abandons the running ones; either way the lock is released
and the exit code is 130. ``logs`` and ``status`` live in ``run_view``.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import List, Optional

import typer

from skyplan.commands.common import JSON_OPT, LOCK_OPT, VAR_FILE_OPT, VAR_OPT, _esc, console, fail, state_lock

EXIT_INTERRUPTED = 130


class Interrupts:
    """SIGINT/SIGTERM handling for the duration of an apply: the first sets ``cancel``,
    the second ``abandon``. Restores the previous handlers on exit."""

    def __init__(self, quiet: bool = False):
        self.cancel = threading.Event()
        self.abandon = threading.Event()
        self.quiet = quiet
        self._previous = None

    def _handle(self, signum, frame) -> None:
        if not self.cancel.is_set():
            self.cancel.set()
            if not self.quiet:
                print("\nInterrupt received: no new actions will start; waiting for running ones to finish "
                      "(press Ctrl-C again to abandon them).", file=sys.stderr, flush=True)
        else:
            self.abandon.set()
            if not self.quiet:
                print("\nTwo interrupts received: abandoning running actions.", file=sys.stderr, flush=True)

    def __enter__(self) -> "Interrupts":
        if threading.current_thread() is threading.main_thread():
            # SIGTERM (a CI job being cancelled) is handled like Ctrl-C.
            self._previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)}
        return self

    def __exit__(self, *exc) -> None:
        for sig, previous in (self._previous or {}).items():
            signal.signal(sig, previous)


def confirm(question: str, *, auto_approve: bool, what: str) -> None:
    """Ask for ``yes`` on stdin; anything else cancels (exit 1). No answer available
    (stdin closed or empty) fails with a hint to pass --auto-approve."""
    if auto_approve:
        return
    out = console()
    out.print(f"\n[bold]{question}[/]\n  Only 'yes' will be accepted to approve.\n")
    if sys.stdin is None or sys.stdin.closed:
        fail(f"{what} needs approval, and there is no input to read it from",
             hint="run it in a terminal, or pass --auto-approve")
    sys.stdout.write("  Enter a value: ")
    sys.stdout.flush()
    try:
        answer = sys.stdin.readline()
    except (OSError, ValueError):
        answer = ""
    if answer == "":
        print()
        fail(f"{what} needs approval, and stdin gave no answer",
             hint="run it in a terminal and type yes, or pass --auto-approve")
    if answer.strip() != "yes":
        print(f"\n{what.capitalize()} cancelled.")
        raise typer.Exit(1)


def provider_keys_for(plan) -> list[str]:
    """Every provider key a plan may touch: chosen placements, fallbacks and priors."""
    keys: set[str] = set()
    for c in plan.changes:
        if c.placement is not None:
            for g in c.placement.groups:
                keys.add(g.chosen.provider)
                keys.update(f.provider for f in g.fallbacks)
        if c.prior is not None:
            keys.update(g.placement.provider for g in c.prior.groups)
            keys.update(i.provider for i in c.prior.instances if i.provider)
        if c.kind == "network":  # a provider's network piece names its provider
            keys.add(str((c.after or c.before or {}).get("provider") or ""))
    keys.discard("")
    return sorted(keys)


def providers_for(plan, graph, providers=None) -> dict:
    """Every provider the plan's changes touch, built before anything is asked or
    changed, so a provider that cannot be used fails the command up front."""
    from skyplan import workflow

    built = dict(providers or {})
    missing = [k for k in provider_keys_for(plan) if k not in built]
    if missing:
        built.update(workflow.build_providers(graph, only=missing))
    return built


def run_plan(plan, store, graph, *, parallelism: int, as_json: bool, providers=None) -> int:
    """Back up state, apply ``plan`` with progress and Ctrl-C handling; print the outcome.
    Returns the exit code (0, 1 or 130). The caller holds the state lock."""
    from skyplan.apply import apply_plan, provider_limits
    from skyplan.apply.progress import make_reporter

    built = providers_for(plan, graph, providers)
    store.backup()
    reporter = make_reporter(as_json=as_json)
    limits = provider_limits(built, graph.providers)
    from skyplan.progress import phase

    with Interrupts(quiet=as_json) as intr, phase("apply", "Applying", live=False):
        result = apply_plan(plan, store, built, parallelism=parallelism, reporter=reporter,
                            cancel=intr.cancel, abandon=intr.abandon, limits=limits, graph=graph)
    if as_json:
        import json

        sys.stdout.write(json.dumps({"event": "summary", **result.to_json(), "message": result.summary(),
                                     "unrecorded": list(getattr(store, "unrecorded", ()))}) + "\n")
    else:
        err = console(stderr=True)
        for key in result.failed:
            err.print(f"\n[bold red]Error:[/] {_esc(key)} failed:")
            for line in result.errors[key].splitlines():
                err.print(f"  {line}", markup=False)
        if result.lock_lost:
            err.print(f"\n[bold red]Error:[/] {_esc(result.lock_lost)}")
        unrecorded = getattr(store, "unrecorded", ())
        if unrecorded:
            err.print("Done but not recorded in state (the state database could not be reached); the next "
                      "refresh adopts these by their lineage tags:", markup=False)
            for line in unrecorded:
                err.print(f"  {line}", markup=False)
        for warning in result.warnings:
            err.print(f"[yellow]Warning:[/] {_esc(warning)}")
        for key in result.skipped + result.abandoned:
            err.print(f"[yellow]Skipped:[/] {_esc(key)}: {_esc(result.reasons.get(key, ''))}")
        colour = "green" if result.ok else "red"
        text = result.summary()
        if result.ok and plan.options.get("destroy"):
            text = f"Destroy complete! Resources: {result.destroyed} destroyed."
        console().print(f"\n[bold {colour}]{text}[/]")
        if result.ok and not plan.options.get("destroy"):
            print_outputs(store)
    if result.cancelled:
        return EXIT_INTERRUPTED
    return 0 if result.ok else 1


def print_outputs(store) -> None:
    """Terraform's closing ``Outputs:`` section: every output recorded in state, sensitive
    ones as ``<sensitive>`` (``skyplan output NAME`` prints those)."""
    from skyplan.commands.state_view import format_value

    outputs = store.snapshot().outputs
    if not outputs:
        return
    lines = ["", "Outputs:", ""]
    for name, o in sorted(outputs.items()):
        lines.append(f"{name} = " + ("<sensitive>" if o.get("sensitive") else format_value(o.get("value"))))
    print("\n".join(lines))


def _show_plan(plan, as_json: bool, no_color: bool) -> None:
    from skyplan.commands.plan_cmds import _color_wanted

    if as_json:
        import json

        from skyplan.planner.render_json import render_json

        sys.stdout.write(json.dumps({"event": "plan", "plan": json.loads(render_json(plan))}) + "\n")
        return
    from skyplan.planner.render_text import render_text

    sys.stdout.write(render_text(plan, color=_color_wanted(no_color)))
    sys.stdout.flush()


def _apply_saved(path: Path, *, parallelism: Optional[int], as_json: bool, no_color: bool,
                 lock_timeout: float, lock: bool = True, policy_dirs: tuple[str, ...] = ()) -> int:
    from skyplan import workflow
    from skyplan.commands.run_view import graph_for_plan
    from skyplan.planner.planfile import check_plan_against_state, load_plan

    plan = load_plan(path)
    graph = graph_for_plan(plan)
    store = workflow.open_state(graph)
    try:
        with state_lock(store, "apply", lock=lock, timeout=lock_timeout):
            check_plan_against_state(plan, store)
            _show_plan(plan, as_json, no_color)
            if not plan.options.get("destroy"):  # checked again: the policies may have changed since
                from skyplan.policy.check import check_plan
                from skyplan.policy.gate import policies_for, refuse_failed

                dirs = tuple(dict.fromkeys(tuple(plan.options.get("policy_dirs", ())) + policy_dirs))
                refuse_failed(check_plan(plan, graph, policies_for(graph, dirs)))
            if not plan.has_changes:
                print("\nNo changes. Nothing to apply.")
                if not as_json:
                    print_outputs(store)
                return 0
            par = parallelism if parallelism is not None else int(plan.options.get("parallelism", 10) or 10)
            return run_plan(plan, store, graph, parallelism=par, as_json=as_json)
    finally:
        store.close()


def _plan_and_apply(dir: Path, options, *, auto_approve: bool, as_json: bool, no_color: bool, destroy: bool) -> int:
    from skyplan import workflow

    what = "destroy" if destroy else "apply"
    if as_json and not auto_approve:
        fail(f"{what} --json needs --auto-approve (there is no one to answer the prompt)")
    graph = workflow.load_config(dir, options.vars, options.var_files)
    store = workflow.open_state(graph)
    try:
        with state_lock(store, what, lock=options.lock, timeout=options.lock_timeout):
            if options.refresh_only:
                return _accept_refresh(graph, store, options, auto_approve=auto_approve, as_json=as_json,
                                       no_color=no_color)
            result = workflow.make_plan(dir, options, store=store, graph=graph, operation=what)
            plan = result.plan
            _show_plan(plan, as_json, no_color)
            if plan.errored:
                fail("the plan has errors; nothing was applied")
            from skyplan.policy.gate import refuse_failed

            refuse_failed(plan.policy_results)
            if not plan.has_changes:
                _persist_refresh(plan, store)
                if not as_json and not destroy:
                    print_outputs(store)
                return 0
            providers = providers_for(plan, graph, result.providers)
            question = ("Do you really want to destroy all resources?" if destroy
                        else "Do you want to perform these actions?")
            confirm(question, auto_approve=auto_approve, what=what)
            return run_plan(plan, store, graph, parallelism=options.parallelism, as_json=as_json,
                            providers=providers)
    finally:
        store.close()


def _persist_refresh(plan, store) -> None:
    """With nothing to change, still record what refresh learned (finished jobs, nodes of an
    interrupted apply), as apply does before it walks."""
    from skyplan.apply.executor import Executor
    from skyplan.apply.progress import Reporter

    Executor(plan=plan, store=store, providers={}, reporter=Reporter()).adopt_refreshed()


def _accept_refresh(graph, store, options, *, auto_approve: bool, as_json: bool, no_color: bool) -> int:
    """``apply --refresh-only``: record what the providers report; change nothing in the cloud."""
    from skyplan import workflow
    from skyplan.drift import accept_refreshed

    snapshot = store.snapshot()
    refreshed = workflow.refresh(graph, snapshot, workflow.build_providers(graph))
    if not refreshed.drift:
        print("No changes. State matches what the providers report.")
        return 0
    if not as_json:
        for item in refreshed.drift:
            console().print(f"  ~ {item.address}: {item.category}" + (f" ({', '.join(item.paths)})" if item.paths else ""),
                            markup=False)
    confirm("Would you like to update the state to reflect these detected changes?", auto_approve=auto_approve,
            what="apply")
    n = accept_refreshed(store, refreshed)
    print(f"\nApply complete! State updated: {n} record(s) refreshed; no resources changed.")
    return 0


def apply_cmd(
    path: Path = typer.Argument(Path("."), help="Configuration folder, or a plan file saved with `plan -out`.",
                                show_default=False),
    auto_approve: bool = typer.Option(False, "--auto-approve", help="Apply without asking for 'yes'."),
    parallelism: Optional[int] = typer.Option(None, "--parallelism", help="Provider operations at once (default 10). Also -parallelism."),
    json_out: bool = JSON_OPT,
    var: Optional[List[str]] = VAR_OPT,
    var_file: Optional[List[Path]] = VAR_FILE_OPT,
    target: Optional[List[str]] = typer.Option(None, "--target", help="Apply only ADDRESS and what it depends on (repeatable)."),
    exclude: Optional[List[str]] = typer.Option(None, "--exclude", help="Apply everything except ADDRESS and what depends on it (repeatable)."),
    replace: Optional[List[str]] = typer.Option(None, "--replace", help="Force replacement of ADDRESS (repeatable)."),
    catalog: Optional[Path] = typer.Option(None, "--catalog", help="Use this catalog CSV instead of the configured one."),
    lock: bool = LOCK_OPT,
    lock_timeout: str = typer.Option("0s", "--lock-timeout", help="How long to wait for the state lock, e.g. 5s."),
    refresh: bool = typer.Option(True, "--refresh/--no-refresh", help="Ask the providers what exists first (-refresh=false skips it)."),
    refresh_only: bool = typer.Option(False, "--refresh-only", help="Record what the providers report in state; change nothing."),
    reoptimize: bool = typer.Option(False, "--reoptimize", help="Move running workloads when a cheaper placement exists."),
    destroy: bool = typer.Option(False, "--destroy", help="Destroy everything this configuration manages (as `skyplan destroy`)."),
    no_color: bool = typer.Option(False, "--no-color", help="Plain output without colour."),
    policy_dir: Optional[List[Path]] = typer.Option(
        None, "--policy-dir", help="Also apply the policy blocks of this folder (repeatable); with a saved plan, "
                                   "the plan must pass them too."),
) -> int:
    """Carry out a plan: create, update and delete workloads in dependency order.

    ``-policy-dir DIR`` with a folder plans within those policies as ``plan -policy-dir``
    does. With a saved plan file the plan is never re-solved: it is checked against the
    policy folders it was made with and also against each ``-policy-dir`` given, and
    refused when a mandatory policy of either fails (a policy added at apply can make
    apply stricter, never change what it does)."""
    from skyplan.commands.plan_cmds import plan_options
    from skyplan.planner.options import parse_duration
    from skyplan.planner.planfile import is_plan_file

    if path.is_file():
        if not is_plan_file(path):
            fail(f"{path} is not a skyplan plan file", hint="give a configuration folder or a file from `skyplan plan -out FILE`")
        if var or var_file or target or exclude or replace or refresh_only or destroy:
            fail("a saved plan is applied exactly: -var, -var-file, -target, -exclude, -replace, -destroy and "
                 "--refresh-only cannot change it",
                 hint="make a new plan with those flags: skyplan plan -out FILE")
        try:
            timeout = parse_duration(lock_timeout)
        except ValueError as e:
            fail(f"-lock-timeout: {e}")
        if parallelism is not None and parallelism < 1:
            fail(f"-parallelism must be at least 1 (got {parallelism})")
        return _apply_saved(path, parallelism=parallelism, as_json=json_out, no_color=no_color, lock_timeout=timeout,
                            lock=lock, policy_dirs=tuple(str(Path(d).resolve()) for d in policy_dir or ()))
    if not path.exists():
        fail(f"{path} does not exist", hint="give a configuration folder or a saved plan file")
    options = plan_options(target=target, exclude=exclude, replace=replace, destroy=destroy, refresh=refresh,
                           refresh_only=refresh_only, reoptimize=reoptimize, var=var, var_file=var_file,
                           parallelism=10 if parallelism is None else parallelism,
                           catalog=catalog, lock=lock, lock_timeout=lock_timeout, policy_dir=policy_dir)
    return _plan_and_apply(path, options, auto_approve=auto_approve, as_json=json_out, no_color=no_color,
                           destroy=destroy)


def destroy_cmd(
    dir: Path = typer.Argument(Path("."), help="Configuration folder (default: the current folder).", show_default=False),
    auto_approve: bool = typer.Option(False, "--auto-approve", help="Destroy without asking for 'yes'."),
    target: Optional[List[str]] = typer.Option(None, "--target", help="Destroy only ADDRESS and what depends on it (repeatable)."),
    exclude: Optional[List[str]] = typer.Option(None, "--exclude", help="Destroy everything except ADDRESS and what it depends on (repeatable)."),
    parallelism: int = typer.Option(10, "--parallelism", help="Provider operations at once. Also -parallelism."),
    json_out: bool = JSON_OPT,
    var: Optional[List[str]] = VAR_OPT,
    var_file: Optional[List[Path]] = VAR_FILE_OPT,
    lock: bool = LOCK_OPT,
    lock_timeout: str = typer.Option("0s", "--lock-timeout", help="How long to wait for the state lock, e.g. 5s."),
    refresh: bool = typer.Option(True, "--refresh/--no-refresh", help="Ask the providers what exists first."),
    no_color: bool = typer.Option(False, "--no-color", help="Plain output without colour."),
) -> int:
    """Delete everything this configuration manages (prevent_destroy is honoured)."""
    from skyplan.commands.plan_cmds import plan_options

    if not dir.exists():
        fail(f"{dir} does not exist", hint="give the configuration folder whose resources to destroy")
    options = plan_options(target=target, exclude=exclude, destroy=True, refresh=refresh, var=var, var_file=var_file,
                           parallelism=parallelism, lock=lock, lock_timeout=lock_timeout)
    return _plan_and_apply(dir, options, auto_approve=auto_approve, as_json=json_out, no_color=no_color,
                           destroy=True)


def register(app: typer.Typer) -> None:
    """Add apply, destroy, logs and status to the app."""
    from skyplan.commands.run_view import logs_cmd, status_cmd

    app.command("apply", help="Carry out a plan: create, update and delete workloads in dependency order.")(apply_cmd)
    app.command("destroy", help="Delete everything this configuration manages (prevent_destroy is honoured).")(destroy_cmd)
    app.command("logs", help="Print a workload's output (local and other providers that keep logs).")(logs_cmd)
    app.command("status", help="Every workload in state: placement, live state, uptime and cost so far.")(status_cmd)

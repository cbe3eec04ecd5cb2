"""CLI commands: drift. ``skyplan drift`` refreshes against every provider in use
and reports what changed outside of skyplan; ``--repair`` plans and applies what
restores the declared state. Exit codes: 0 in sync (or repaired), 2 drift
found (or left unrepaired), 1 error."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from skyplan.commands.common import (DIR_ARG, LOCK_OPT, VAR_FILE_OPT, VAR_OPT, console, fail, list_opt, parse_vars,
                                     state_lock)

EXIT_IN_SYNC, EXIT_ERROR, EXIT_DRIFT, EXIT_INTERRUPTED = 0, 1, 2, 130
FORMATS = ("text", "json", "markdown")


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _emit(data: dict, fmt: str) -> None:
    from skyplan.commands.common import emit_json
    from skyplan.drift import render_markdown, render_text

    if fmt == "json":
        emit_json(data)
    elif fmt == "markdown":
        typer.echo(render_markdown(data), nl=False)
    else:
        console().print(render_text(data, markup=True), end="")


def drift(
    dir: Path = DIR_ARG,
    json_out: bool = typer.Option(False, "--json", help="The drift report as JSON (schemas/drift.schema.json)."),
    fmt: str = typer.Option("text", "--format", help="Report format: text, json or markdown."),
    repair: bool = typer.Option(False, "--repair", help="Plan and apply what restores the declared state."),
    auto_approve: bool = typer.Option(False, "--auto-approve", help="Repair without asking for confirmation."),
    lock: bool = LOCK_OPT,
    lock_timeout: str = typer.Option("60s", "--lock-timeout", help="How long to wait for the state lock (e.g. 30s, 2m). Also -lock-timeout."),
    parallelism: int = typer.Option(10, "--parallelism", help="Repair actions run at once. Also -parallelism."),
    var: Optional[List[str]] = VAR_OPT,
    var_file: Optional[List[str]] = VAR_FILE_OPT,
    catalog: Optional[str] = typer.Option(None, "--catalog", help="Catalog file for re-placing what repair recreates."),
) -> None:
    """Find infrastructure that changed outside of skyplan: changed, missing and unmanaged objects.

    Exit 0 when in sync, 2 when drift is found, 1 on error (a provider that cannot be
    reached is an error: nothing is reported missing because of it). With --repair the
    exit code says whether the declared state holds afterwards.
    """
    from skyplan import workflow
    from skyplan.drift import IgnoreRules, readiness, refresh, report_json
    from skyplan.progress import phase
    from skyplan.planner.options import parse_duration

    fmt = "json" if json_out else fmt.lower()
    if fmt not in FORMATS:
        fail(f"--format {fmt!r} is not one of {', '.join(FORMATS)}", hint="e.g. --format markdown")
    try:
        timeout = parse_duration(lock_timeout)
    except ValueError as e:
        fail(f"-lock-timeout: {e}")
    if parallelism < 1:
        fail("-parallelism must be at least 1")
    variables = parse_vars(var)

    graph = workflow.load_config(dir, variables, list_opt(var_file))
    ignore = IgnoreRules.load(graph.root)
    if not workflow.state_path(graph).exists():
        fail(f"no state at {workflow.state_path(graph)}: nothing has been applied from this configuration yet",
             hint="run skyplan apply first (`state { path = ... }` in the skyplan block says where state is kept)")
    store = workflow.open_state(graph, create=False)
    try:
        with state_lock(store, "drift --repair" if repair else "drift", lock=lock, timeout=timeout):
            prior = store.snapshot()
            providers = workflow.build_providers(graph)
            memory = readiness.recall(store)
            with phase("refresh", "Refreshing state"):
                refreshed = refresh(prior, providers, ignore=ignore, memory=memory)
            readiness.remember(store, refreshed.snapshot, memory)
            if not repair or refreshed.in_sync:
                _emit(report_json(refreshed, timestamp=_now(),
                                  repair={"attempted": False, "summary": "nothing to repair"} if repair else None), fmt)
                raise typer.Exit(EXIT_IN_SYNC if refreshed.in_sync else EXIT_DRIFT)
            if fmt == "text":  # the findings first, then the plan that repairs them
                _emit(report_json(refreshed, timestamp=_now()), fmt)
            code, repair_info, after = _repair(graph, store, prior, refreshed, providers, fmt=fmt,
                                               auto_approve=auto_approve, timeout=timeout, parallelism=parallelism,
                                               variables=variables, var_files=list_opt(var_file), catalog=catalog,
                                               ignore=ignore)
            if fmt == "text":
                console().print(f"\nRepair: {repair_info['summary']}", markup=False, highlight=False)
            else:
                _emit(report_json(refreshed, timestamp=_now(), repair=repair_info), fmt)
            raise typer.Exit(code)
    finally:
        store.close()


def _repair(graph, store, prior, refreshed, providers, **kw):
    """``_repair_steps``, its report carrying the deadline jobs' decisions when there are any."""
    decided: list = []
    code, info, after = _repair_steps(graph, store, prior, refreshed, providers, decided=decided, **kw)
    if decided:
        info = {**info, "decisions": decided}
    return code, info, after


def _repair_steps(graph, store, prior, refreshed, providers, *, fmt, auto_approve, timeout, parallelism, variables,
                  var_files, catalog, ignore, decided):
    """Plan, confirm and apply the repair; returns (exit code, repair summary, drift after)."""
    import sys
    from dataclasses import replace as dc_replace
    from datetime import datetime, timezone

    from skyplan.apply import apply_plan, provider_limits
    from skyplan.apply.progress import PlainReporter, Reporter
    from skyplan.commands.apply_cmds import Interrupts
    from skyplan.drift import readiness, refresh
    from skyplan.drift.repair import accept_fixes, restore_in_place
    from skyplan.watch import deadline_decisions, plan_repair
    from skyplan.planner.options import PlanOptions
    from skyplan.planner.render_text import render_text as render_plan

    err = console(stderr=True)
    options = PlanOptions(lock=False, lock_timeout=timeout, parallelism=parallelism, vars=variables,
                          var_files=tuple(var_files), catalog=catalog)
    decisions = deadline_decisions(graph, store, refreshed, providers, options)
    rp = plan_repair(graph, store, prior, refreshed, options, providers=providers, decisions=decisions)
    out = err if fmt != "text" else console()
    decided.extend(d.to_json(datetime.now(timezone.utc)) for d in decisions)
    for d in decided:
        out.print(f"  {d['address']}: {d['mode']} ({d['action']}): {d['reason']}; slack {d['slack_hours']:.2f} h",
                  markup=False, highlight=False)
    if rp.plan is not None and rp.plan.has_changes:
        shown = dc_replace(rp.plan, drift=()) if fmt == "text" else rp.plan  # drift was just reported
        out.print(render_plan(shown, color=False), markup=False, highlight=False)
    for r in rp.restores:
        out.print(f"  ~ {r.address} ({r.instance.id}) will be restored in place: "
                  f"{', '.join(sorted(r.changes))}", markup=False, highlight=False)
    adopting = {d.address: list((d.after or {}).get("instances") or ()) for d in refreshed.drift
                if d.category == "changed" and "instances" in d.paths and (d.after or {}).get("instances")}
    for address, ids in sorted(adopting.items()):
        out.print(f"  ~ {address}: will adopt node(s) {', '.join(ids)} (they complete its planned group)",
                  markup=False, highlight=False)
    for address in rp.accept:
        out.print(f"  ~ {address}: state will record the nodes the provider reports", markup=False,
                  highlight=False)
    if rp.plan is not None and rp.plan.errored:
        fail("the repair plan has errors; nothing was changed", hint="run `skyplan plan` to see them")
    if rp.empty:
        left = ", ".join(f"{d.address} ({d.category})" for d in refreshed.drift)
        return EXIT_DRIFT, {"attempted": False, "summary": f"drift found that repair cannot change: {left}; "
                                                           "see `skyplan plan` for what the configuration wants"}, None
    if not auto_approve:
        if not sys.stdin.isatty():
            fail("refusing to repair without confirmation in a non-interactive run",
                 hint="review the plan above, then run again with --auto-approve")
        answer = typer.prompt("Do you want to repair the drift? Only 'yes' will be accepted", default="",
                              show_default=False, err=True)
        if answer.strip() != "yes":
            err.print("Repair cancelled.")
            return EXIT_DRIFT, {"attempted": False, "summary": "repair declined"}, None

    all_providers = {**providers, **rp.providers}
    store.backup()  # as apply does before it changes anything
    reporter = PlainReporter(sys.stderr) if fmt == "text" else Reporter()
    counts = {"added": 0, "changed": 0, "destroyed": 0, "restored": 0, "recorded": 0}
    errors: list[str] = []
    with Interrupts() as intr:  # SIGINT/SIGTERM: start nothing new, let running actions end
        if rp.plan is not None and rp.plan.has_changes:
            result = apply_plan(rp.plan, store, all_providers, parallelism=parallelism, reporter=reporter,
                                graph=graph, limits=provider_limits(all_providers, graph.providers),
                                cancel=intr.cancel, abandon=intr.abandon)
            counts.update(added=result.added, changed=result.changed, destroyed=result.destroyed)
            errors += [f"{k}: {v}" for k, v in result.errors.items()]
            errors += [f"{k}: skipped ({v})" for k, v in result.reasons.items()]
        if not intr.cancel.is_set():
            failed_restores = restore_in_place(store, rp.restores, all_providers)
            counts["restored"] = len(rp.restores) - len(failed_restores)
            errors += failed_restores
            counts["recorded"] = accept_fixes(store, refreshed, rp.accept) if rp.accept else 0
    if intr.cancel.is_set():
        summary = (f"interrupted: {counts['added']} added, {counts['changed']} changed, "
                   f"{counts['destroyed']} destroyed before stopping")
        if errors:
            summary += "; failed: " + "; ".join(errors)
        return EXIT_INTERRUPTED, {"attempted": True, "applied": False, "summary": summary, "counts": counts}, None

    memory = readiness.recall(store)
    after = refresh(store.snapshot(), all_providers, ignore=ignore, memory=memory)
    readiness.remember(store, after.snapshot, memory)
    summary = (f"{counts['added']} added, {counts['changed']} changed, {counts['destroyed']} destroyed, "
               f"{counts['restored']} node(s) restored in place, {counts['recorded']} record(s) brought up to date")
    if errors:
        summary += "; failed: " + "; ".join(errors)
    summary += "; in sync afterwards" if after.in_sync else \
        f"; still drifted afterwards: {', '.join(sorted({d.address for d in after.drift}))}"
    info = {"attempted": True, "applied": not errors, "summary": summary, "counts": counts,
            "after": {"in_sync": after.in_sync, **after.counts()}}
    if errors:
        return EXIT_ERROR, info, after
    return (EXIT_IN_SYNC if after.in_sync else EXIT_DRIFT), info, after


def register(app: typer.Typer) -> None:
    """Add this group's commands to the app."""
    app.command("drift")(drift)

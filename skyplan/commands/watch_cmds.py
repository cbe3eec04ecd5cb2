"""CLI command: watch. ``skyplan watch [DIR] --interval 60s`` runs the control loop
(``skyplan.watch``): every tick refreshes, decides the mode of each deadline job,
plans the repair and applies it, printing one JSON line per decision on stdout.
Exit 0 after ``--once`` or a clean stop (SIGTERM/SIGINT), 1 on an error (a
provider that cannot be reached, a repair that failed)."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import List, Optional

import typer

from skyplan.commands.common import DIR_ARG, LOCK_OPT, VAR_FILE_OPT, VAR_OPT, fail, list_opt, parse_vars


def watch(
    dir: Path = DIR_ARG,
    interval: str = typer.Option("60s", "--interval", help="Time between ticks (e.g. 30s, 5m)."),
    once: bool = typer.Option(False, "--once", help="Run one tick and exit."),
    lock: bool = LOCK_OPT,
    lock_timeout: str = typer.Option("60s", "--lock-timeout", help="How long each tick waits for the state lock."),
    parallelism: int = typer.Option(10, "--parallelism", help="Repair actions run at once."),
    capacity_memory: str = typer.Option("1h", "--capacity-memory",
                                        help="How long a zone where spot was lost is avoided (e.g. 30m, 2h)."),
    var: Optional[List[str]] = VAR_OPT,
    var_file: Optional[List[str]] = VAR_FILE_OPT,
    catalog: Optional[str] = typer.Option(None, "--catalog", help="Catalog file for re-placing what a tick moves."),
) -> None:
    """Keep deadline jobs on pace and repair drift: refresh, decide, repair, every --interval.

    Each tick holds the state lock only while it runs. Each decision is one JSON line
    on stdout (address, mode, action, reason, deadline, remaining, slack). SIGTERM or
    SIGINT stops after the running tick; exit 1 when a provider cannot be reached.
    """
    from skyplan import watch as loop
    from skyplan.planner.options import PlanOptions, parse_duration

    try:
        every, timeout, memory = parse_duration(interval), parse_duration(lock_timeout), parse_duration(capacity_memory)
    except ValueError as e:
        fail(f"{e}", hint="write a duration with its unit, e.g. --interval 60s")
    if every <= 0 or parallelism < 1:
        fail("--interval must be longer than zero and --parallelism at least 1")
    options = PlanOptions(lock=lock, lock_timeout=timeout, parallelism=parallelism, vars=parse_vars(var),
                          var_files=tuple(list_opt(var_file)), catalog=catalog, capacity_memory=memory)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}

    def emit(line: dict) -> None:
        sys.stdout.write(json.dumps(line, sort_keys=True) + "\n")
        sys.stdout.flush()

    try:
        code = loop.run(dir, options, interval=every, once=once, emit=emit, stop=stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the app."""
    app.command("watch")(watch)

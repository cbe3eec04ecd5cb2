"""CLI command: ``skyplan start ADDRESS [DIR]``, bring a stopped workload back.

A node stopped by its idle timer (``autostop``) or by someone keeps its id,
disk and tags; ``start`` asks its provider to start it again
(``Provider.update(inst, {"state": "running"})``: EC2 ``StartInstances``,
Compute Engine ``instances.start``, Azure ``virtual_machines.begin_start``, a
local node's process group run again) and records the workload as running.
It holds the state lock and changes nothing else. A node that cannot be started
(preempted, gone) is said as such, with ``apply -replace`` as the way back.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import List, Optional

import typer

from skyplan.commands.common import LOCK_OPT, VAR_FILE_OPT, VAR_OPT, fail, state_lock


def start_record(rec, now_rec, providers) -> tuple[object, list[str]]:
    """Start every stopped node of ``now_rec`` (``rec`` refreshed); (the record to
    write, one line per node started). Raises ProviderError from the provider."""
    from skyplan.state.model import RUNNING

    started: list[str] = []
    groups = []
    for group in now_rec.groups:
        insts = []
        for inst in group.instances:
            if inst.state == "stopped":
                inst = providers[inst.provider].update(inst, {"state": "running"})
                started.append(f"{inst.id} ({inst.provider}): {inst.state}")
            insts.append(inst)
        groups.append(replace(group, instances=tuple(insts)))
    states = {i.state for g in groups for i in g.instances}
    status = RUNNING if states and states <= {"running", "pending"} else now_rec.status
    return replace(now_rec, groups=tuple(groups), status=status,
                   reason="" if status == RUNNING else now_rec.reason), started


def start_cmd(
    address: str = typer.Argument(..., help="The workload address, e.g. workload.dev or module.dev.workload.box."),
    dir: Path = typer.Argument(Path("."), help="Configuration folder (default: the current folder).", show_default=False),
    var: Optional[List[str]] = VAR_OPT,
    var_file: Optional[List[Path]] = VAR_FILE_OPT,
    lock: bool = LOCK_OPT,
    lock_timeout: str = typer.Option("0s", "--lock-timeout", help="Wait this long for the state lock (e.g. 30s)."),
) -> int:
    """Start a workload's stopped nodes again: the same nodes, stopped by autostop or by hand
    (`skyplan apply -replace ADDRESS` makes new ones instead)."""
    from skyplan import workflow
    from skyplan.addrs import Address
    from skyplan.commands.run_view import _context, refreshed_records
    from skyplan.planner.options import parse_duration

    try:
        address = str(Address.parse(address))
        timeout = parse_duration(lock_timeout)
    except ValueError as e:
        fail(str(e))
    graph, store = _context(dir, var, var_file)
    try:
        with state_lock(store, "start", lock=lock, timeout=timeout):
            snap = store.snapshot()
            rec = snap.resources.get(address)
            if rec is None:
                fail(f"{address} is not in state", hint="see what state holds with: skyplan state list")
            if not rec.instances:
                fail(f"{address} has no nodes recorded (status {rec.status})", hint="apply it: skyplan apply")
            keys = {g.placement.provider for g in rec.groups}
            providers = workflow.build_providers(graph, only=keys)
            refreshed, errors = refreshed_records(replace(snap, resources={address: rec}), providers)
            if errors:
                fail(f"cannot read {address}'s nodes: " + "; ".join(f"{k}: {v}" for k, v in sorted(errors.items())))
            now_rec = refreshed[address]
            states = sorted({i.state for i in now_rec.instances})
            if len(now_rec.instances) < len(rec.instances) or set(states) - {"running", "pending", "stopped"}:
                what = ", ".join(states) or "gone"
                fail(f"{address} cannot be started: its nodes are {what}",
                     hint=f"re-create it: skyplan apply -replace {address}")
            if "stopped" not in states:
                print(f"{address} is already running; nothing to start.")
                return 0
            new_rec, started = start_record(rec, now_rec, providers)
            store.record(new_rec, action="start", before=rec)
    finally:
        store.close()
    for line in started:
        print(f"{address}: started {line}")
    print(f"{address} is {new_rec.status}.")
    return 0


def register(app: typer.Typer) -> None:
    """Add start to the app."""
    app.command("start", help="Start a workload's stopped nodes again: the same nodes, stopped by autostop or by "
                              "hand (`skyplan apply -replace ADDRESS` makes new ones instead).")(start_cmd)

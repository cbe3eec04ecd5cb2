"""CLI commands on state: ``state list/show/mv/rm/pull/push/history``, and the
top-level ``force-unlock`` and ``import``, and ``state migrate`` to another backend. Each takes the config folder (DIR,
default: here) or ``--state PATH``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from skyplan.commands.common import (DIR_ARG, JSON_OPT, LOCK_OPT, VAR_FILE_OPT, VAR_OPT, console, emit_json, parse_vars,
                                     state_lock)
from skyplan.errors import DiagnosticsError, StateError

STATE_OPT = typer.Option(None, "--state", help="State to use instead of the config folder's: a state file, or "
                         "postgresql://USER@HOST:PORT/DB (the state's name is the config's state { name }, "
                         "else SKYPLAN_STATE_NAME, else \"default\").")
LOCK_TIMEOUT_OPT = typer.Option("0s", "--lock-timeout", help="How long to wait for the state lock (e.g. 30s). Also -lock-timeout.")

state_app = typer.Typer(help="Inspect and edit state: what skyplan has created, where, at what price.",
                        no_args_is_help=True, rich_markup_mode=None)


def state_path(dir: Path, state: Optional[str]):
    """``--state`` if given (a file path or a PostgreSQL URL); else the config's
    ``skyplan { state { ... } }``; else ``DIR/.skyplan/state.db``."""
    from skyplan.state import default_state_path
    from skyplan.state.location import is_postgres_url, parse_location

    dir = Path(dir)
    if state is not None and not is_postgres_url(state):
        return parse_location(state)
    if not dir.is_dir():
        raise StateError(f"{dir} is not a folder", hint="pass the configuration folder, or --state PATH")
    graph = _settings_graph(dir)
    if state is not None:  # a database URL: the state's name still comes from the configuration
        return parse_location(state, graph.settings.state_name if graph is not None else None)
    return default_state_path(dir) if graph is None else default_state_path(dir, graph.settings)


def _settings_graph(dir: Path):
    """The folder's configuration, for its state settings; None without one (or when it
    does not load but a default state file is there, e.g. a required variable not given)."""
    from skyplan.state import default_state_path
    from skyplan.workflow import load_config

    if not any(dir.glob("*.sky.hcl")):
        return None
    try:
        return load_config(dir)
    except DiagnosticsError:
        if default_state_path(dir).exists():
            return None
        raise


def _open(dir: Path, state: Optional[str], *, create: bool = False):
    from skyplan.state.location import open_store

    return open_store(state_path(dir, state), create=create)


def _timeout(text: str) -> float:
    from skyplan.planner.options import parse_duration

    try:
        return parse_duration(text)
    except ValueError as e:
        raise StateError(str(e)) from None


REFRESH_OPT = typer.Option(True, "--refresh/--no-refresh",
                           help="Ask the providers what runs now, as status does (-refresh=false: state as last recorded).")


def _config_graph(dir: Path, state: Optional[str]):
    """The configuration whose providers can say what runs now: the folder's, else a
    bare one rooted there (providers state names are built with their defaults).
    None for an explicit --state beside a folder without configuration."""
    from skyplan.config.model import DesiredGraph
    from skyplan.workflow import load_config

    dir = Path(dir)
    has_config = dir.is_dir() and any(dir.glob("*.sky.hcl"))
    if state is not None and not has_config:
        return None
    if has_config:
        try:
            return load_config(dir)
        except DiagnosticsError:
            pass
    return DesiredGraph(root=str(dir.resolve()))


def _live(dir: Path, state: Optional[str], snap, refresh: bool) -> tuple[dict[str, str], str]:
    """(address -> status now, a note saying what the statuses are)."""
    from skyplan.commands.run_view import live_statuses
    from skyplan.state.views import last_recorded

    when = last_recorded(snap)
    if not refresh:
        return {}, f"Statuses as last recorded in state ({when})."
    graph = _config_graph(dir, state)
    if graph is None:
        return {}, (f"Statuses as last recorded in state ({when}); give the configuration folder "
                    "to see what runs now.")
    live, error = live_statuses(graph, snap)
    if error:
        return live, f"Some statuses are as last recorded in state ({when}): {error}"
    return live, "Statuses as the providers report them now."


@state_app.command("list")
def list_cmd(dir: Path = DIR_ARG, state: Optional[str] = STATE_OPT, as_json: bool = JSON_OPT,
             refresh: bool = REFRESH_OPT) -> None:
    """List the resources in state: address, status, where, pricing, $/h."""
    from skyplan.state.views import list_rows, render_list, spend

    path = state_path(dir, state)
    if not path.exists():
        if as_json:
            emit_json({"lineage": None, "serial": 0, "resources": [], "total_hourly_cost": 0.0})
        else:
            console().print(f"No state at {path}: nothing has been applied yet.")
        return
    with _open(dir, state) as store:
        snap = store.snapshot()
    live, note = _live(dir, state, snap, refresh)
    rows = list_rows(snap, live)
    if as_json:
        emit_json({"lineage": snap.lineage, "serial": snap.serial, "resources": rows,
                   "total_hourly_cost": spend(rows), "statuses": note})
    else:
        render_list(console(), rows, snap)
        if rows:
            console().print(note, markup=False, highlight=False)


@state_app.command("show")
def show_cmd(address: str = typer.Argument(..., help="Resource address, e.g. workload.train."),
             dir: Path = DIR_ARG, state: Optional[str] = STATE_OPT, as_json: bool = JSON_OPT,
             refresh: bool = REFRESH_OPT) -> None:
    """Show one resource in state: placement, nodes, provider ids, attributes."""
    from dataclasses import replace

    from skyplan.state.model import ResourceRecord, Snapshot
    from skyplan.state.redact import redact_record
    from skyplan.state.views import render_show

    with _open(dir, state) as store:
        rec = store.get(_address(address))
        if rec is None:
            raise StateError(f"no resource {address} in state {store.path}",
                             hint="see what state holds with: skyplan state list")
        paths = store.sensitive_paths(rec.address)
        lineage = store.lineage
    live, note = _live(dir, state, Snapshot(lineage=lineage, serial=0, resources={rec.address: rec}), refresh)
    data = redact_record(rec.to_json(), paths)
    now = live.get(rec.address)
    if now is not None and now != rec.status:
        data = {**data, "status": now, "recorded_status": rec.status}
    if as_json:
        emit_json({**data, "sensitive_paths": list(paths), "statuses": note})
    else:
        shown = ResourceRecord.from_json({k: v for k, v in data.items() if k != "recorded_status"})
        render_show(console(), replace(shown, status=data["status"]), data)  # nodes shown redacted too
        console().print(note, markup=False, highlight=False)


@state_app.command("mv")
def mv_cmd(src: str = typer.Argument(..., help="Current address."), dst: str = typer.Argument(..., help="New address."),
           dir: Path = DIR_ARG, state: Optional[str] = STATE_OPT, lock: bool = LOCK_OPT,
           lock_timeout: str = LOCK_TIMEOUT_OPT) -> None:
    """Rename a resource in state without touching the cloud. An address without a
    key (workload.shard) moves every count/for_each instance, keeping the keys."""
    from skyplan.addrs import Address

    src, dst = _address(src), _address(dst)
    with _open(dir, state) as store, state_lock(store, "state mv", lock=lock, timeout=_timeout(lock_timeout)):
        pairs = [(src, dst)]
        if store.get(src) is None:
            instances = _instances_of(store, src)
            to = Address.parse(dst)
            if instances and to.key is None:
                pairs = [(r.address, str(to.with_key(Address.parse(r.address).key))) for r in instances]
        if all(store.get(a) is not None and store.get(b) is None for a, b in pairs):
            store.backup()
        with store.atomic():  # all instances or none
            for a, b in pairs:
                serial = store.move(a, b)
    for a, b in pairs:
        console().print(f"Moved {a} to {b} (serial {serial}).")


@state_app.command("rm")
def rm_cmd(address: str = typer.Argument(..., help="Address to forget."), dir: Path = DIR_ARG,
           state: Optional[str] = STATE_OPT, lock: bool = LOCK_OPT, lock_timeout: str = LOCK_TIMEOUT_OPT) -> None:
    """Forget a resource without destroying it (it keeps running, unmanaged). An
    address without a key (workload.shard) forgets every count/for_each instance of it."""
    address = _address(address)
    with _open(dir, state) as store, state_lock(store, "state rm", lock=lock, timeout=_timeout(lock_timeout)):
        rec = store.get(address)
        recs = [rec] if rec is not None else _instances_of(store, address)
        if not recs:
            raise StateError(f"no resource {address} in state {store.path}",
                             hint="see what state holds with: skyplan state list")
        store.backup()
        with store.atomic():  # all instances or none
            for r in recs:
                serial = store.forget(r.address, action="forget", detail="state rm")
    for r in recs:
        ids = ", ".join(i.id for i in r.instances) or "no instances"
        console().print(f"Removed {r.address} from state (serial {serial}). Still running, no longer managed: {ids}.")


def _instances_of(store, address: str) -> list:
    """The records of every count/for_each instance of the keyless ``address``."""
    from skyplan.addrs import Address

    target = Address.parse(address)
    if target.key is not None:
        return []
    out = []
    for addr, rec in sorted(store.snapshot().resources.items()):
        try:
            a = Address.parse(addr)
        except ValueError:
            continue
        if a.key is not None and a.base == target:
            out.append(rec)
    return out


@state_app.command("pull")
def pull_cmd(dir: Path = DIR_ARG, state: Optional[str] = STATE_OPT) -> None:
    """Print the whole state as portable JSON (e.g. skyplan state pull > backup.json)."""
    with _open(dir, state) as store:
        data = store.export_json()
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


@state_app.command("push")
def push_cmd(file: str = typer.Argument(..., help="JSON written by state pull ('-' for stdin)."),
             dir: Path = DIR_ARG, state: Optional[str] = STATE_OPT,
             force: bool = typer.Option(False, "--force", help="Push even if lineage differs or the serial is older."),
             lock: bool = LOCK_OPT, lock_timeout: str = LOCK_TIMEOUT_OPT) -> None:
    """Replace state with a JSON document from state pull (lineage and serial checked)."""
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text()
    except OSError as e:
        raise StateError(f"cannot read {file}: {e.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError as e:
        raise StateError(f"{file} is not JSON: {e}", hint="state push takes a file written by: skyplan state pull") from None
    with _open(dir, state, create=True) as store, \
            state_lock(store, "state push", lock=lock, timeout=_timeout(lock_timeout)):
        if store.serial > 0:
            store.backup()
        serial = store.import_json(data, force=force)
    console().print(f"Pushed {len(data.get('resources', []))} resource(s); state serial is now {serial}.")


@state_app.command("history")
def history_cmd(dir: Path = DIR_ARG, state: Optional[str] = STATE_OPT,
                limit: int = typer.Option(20, "--limit", help="How many journal entries (newest first); 0 = all."),
                address: Optional[str] = typer.Option(None, "--address", help="Only entries for this address."),
                as_json: bool = JSON_OPT) -> None:
    """Show the journal: every action on state, who did it, when, and how it ended."""
    from skyplan.state.views import render_history

    with _open(dir, state) as store:
        rows = store.history(limit=limit or None, address=_address(address) if address else None)
    if as_json:
        emit_json(rows)
    else:
        render_history(console(), rows)


@state_app.command("migrate")
def migrate_cmd(dir: Path = DIR_ARG, state: Optional[str] = STATE_OPT,
                to: str = typer.Option(..., "--to", help="Where to copy the state: postgresql://USER@HOST:PORT/DB "
                                       "(password from PGPASSWORD, ~/.pgpass or the URL) or a state file path."),
                name: Optional[str] = typer.Option(None, "--name", help="The state's name in that database "
                                                   "(default: \"default\")."),
                force: bool = typer.Option(False, "--force", help="Replace a state already at the destination."),
                lock: bool = LOCK_OPT, lock_timeout: str = LOCK_TIMEOUT_OPT) -> None:
    """Copy the whole state (resources, journal, history, outputs, lineage, serial) to another backend."""
    from skyplan.state.location import PostgresLocation, open_store, parse_location
    from skyplan.state.migrate import copy_state

    dest = parse_location(to, name)
    timeout = _timeout(lock_timeout)
    with _open(dir, state) as src, state_lock(src, "state migrate", lock=lock, timeout=timeout):
        if str(dest) == str(src.path) or (not isinstance(dest, PostgresLocation) and
                                          not isinstance(src.path, PostgresLocation) and
                                          Path(dest).resolve() == Path(src.path).resolve()):
            raise StateError(f"cannot migrate {src.path} onto itself", hint="give another --to (or --name)")
        with open_store(dest) as dst, state_lock(dst, "state migrate", lock=lock, timeout=timeout):
            done = copy_state(src, dst, force=force)
            where = str(dst.path)
        source = str(src.path)
    console().print(f"Copied {done['resources']} resource(s), {done['journal']} journal entries and "
                    f"{done['outputs']} output(s) (lineage {done['lineage']}, serial {done['serial']}) "
                    f"from {source} to {where}.", markup=False)
    if isinstance(dest, PostgresLocation):
        hint = (f'skyplan {{ state {{ backend = "postgres"  url = "{dest.redacted_url}"  '
                f'name = "{dest.name}" }} }}')
    else:
        hint = f'skyplan {{ state {{ path = "{dest}" }} }}'
    console().print(f"The configuration still uses {source}; to switch, set: {hint}", markup=False)


def force_unlock_cmd(lock_id: str = typer.Argument(..., help="The lock ID shown in the lock error."),
                     dir: Path = DIR_ARG, state: Optional[str] = STATE_OPT,
                     force: bool = typer.Option(False, "--force", help="Do not ask for confirmation. Also -force.")) -> None:
    """Remove a state lock left by a process that is gone (never one whose holder runs on this host)."""
    from skyplan.state.lock import check_lock_id, refuse_live_holder

    with _open(dir, state) as store:
        holder = store.current_lock()
        if holder is None:
            raise StateError(f"state {store.path} is not locked")
        check_lock_id(holder, lock_id, str(store.path))  # a wrong ID is refused before any prompt
        refuse_live_holder(holder)  # even with -force: stop that process first
        err = console(stderr=True)
        stale = holder.stale_reason(store.lease)
        if not holder.local:
            err.print(f"Warning: the holder runs on another host ({holder.host}); skyplan cannot check whether it "
                      f"is still running (last heartbeat {holder.heartbeat_age():.0f}s ago, lease "
                      f"{store.lease:.0f}s). If it is, removing its lock lets two operations run at once; it "
                      "stops at its next action once it sees its lock is gone.", markup=False)
        if not force:
            err.print(holder.describe(), markup=False)
            if stale:
                err.print(f"The lock looks stale: {stale}.", markup=False)
            _confirm_unlock(lock_id)
        store.force_unlock(lock_id)
    console().print(f"Lock {lock_id} removed. State is unlocked.")


def _confirm_unlock(lock_id: str) -> None:
    """Ask on stdin; without an answer (no terminal, stdin closed) say how to confirm."""
    sys.stdout.write("Remove this lock? Only 'y' or 'yes' will be accepted: ")
    sys.stdout.flush()
    try:
        answer = sys.stdin.readline() if sys.stdin is not None and not sys.stdin.closed else ""
    except (OSError, ValueError):
        answer = ""
    if answer == "":
        print()
        raise StateError("force-unlock needs confirmation, and there is no terminal to ask on",
                         hint=f"confirm with -force: skyplan force-unlock -force {lock_id}")
    if answer.strip().lower() not in ("y", "yes"):
        raise StateError("force-unlock cancelled; the lock was left in place")


def import_cmd(address: str = typer.Argument(..., help="Address declared in the configuration, e.g. workload.train."),
               provider_id: str = typer.Argument(..., help="The provider's id of the object, e.g. i-0abc123."),
               dir: Path = DIR_ARG, state: Optional[str] = STATE_OPT,
               provider: Optional[str] = typer.Option(None, "--provider", help="Provider key when it is ambiguous."),
               var: Optional[List[str]] = VAR_OPT, var_file: Optional[List[str]] = VAR_FILE_OPT,
               lock: bool = LOCK_OPT, lock_timeout: str = LOCK_TIMEOUT_OPT) -> None:
    """Adopt an existing cloud object into state at ADDRESS."""
    from skyplan.providers import get_provider
    from skyplan.state import default_state_path
    from skyplan.state.adopt import adopt, catalog_price, provider_key_for, read_existing
    from skyplan.state.location import open_store
    from skyplan.workflow import load_config

    address = _address(address)
    graph = load_config(dir, vars=parse_vars(var), var_files=list(var_file or ()))
    key = provider_key_for(graph, address, provider)
    cfg = graph.providers[key]
    path = state_path(dir, state) if state is not None else default_state_path(dir, graph.settings)
    if path.exists():
        with open_store(path, create=False) as store:
            _not_in_state(store, address)
    prov = get_provider(cfg)
    inst = read_existing(prov, key, provider_id)  # nothing is written if this fails
    with open_store(path) as store, state_lock(store, "import", lock=lock, timeout=_timeout(lock_timeout)):
        _not_in_state(store, address)
        done = adopt(graph, prov, key, address, inst, store.lineage,
                     price_of=lambda i: catalog_price(graph, cfg.kind, i))
        if store.serial > 0:
            store.backup()
        serial = store.record(done.record, action="import", detail=f"imported {provider_id} from {key}",
                              sensitive_paths=_sensitive(graph, address))
    out = console()
    p = done.record.placement
    out.print(f"Imported {provider_id} as {address}: {p.infra} {p.instance_type} {p.pricing} "
              f"${p.hourly_price:.4f}/h (serial {serial}).")
    if not done.tagged:
        console(stderr=True).print(f"Warning: {done.note}; refresh may report it missing until it carries the "
                                   "skyplan:address and skyplan:lineage tags.")


def _not_in_state(store, address: str) -> None:
    if store.get(address) is not None:
        raise StateError(f"{address} is already in state", hint=f"to replace it, first: skyplan state rm {address}")


def _sensitive(graph, address: str) -> tuple[str, ...]:
    return tuple(getattr(graph.resources().get(address), "sensitive_paths", ()) or ())


def _address(text: str) -> str:
    from skyplan.addrs import Address

    try:
        return str(Address.parse(text))
    except ValueError as e:
        raise StateError(str(e)) from None


def register(app: typer.Typer) -> None:
    """Add the ``state`` group and the top-level ``force-unlock`` and ``import`` commands."""
    app.add_typer(state_app, name="state")
    app.command("force-unlock")(force_unlock_cmd)
    app.command("import")(import_cmd)

"""CLI commands for modules: ``init`` (fetch git sources, write the lock file) and
``modules`` (the module tree with sources and resolved versions)."""

from __future__ import annotations

from pathlib import Path

import typer

from skyplan.commands.common import DIR_ARG, JSON_OPT, console, emit_json, fail


def init_cmd(
    dir: Path = DIR_ARG,
    upgrade: bool = typer.Option(False, "--upgrade", help="Resolve every git ref again and move the lock file to what it names now."),
) -> int:
    """Fetch module sources into .skyplan/modules/ and pin them in .skyplan.lock.hcl.

    Local folders are used in place; git sources (git::URL//SUBDIR?ref=REF) are
    cloned with the git client at the commit the lock file records, or, the first
    time and with -upgrade, at the commit their ref names now. plan and apply
    never fetch: they read what init installed.
    """
    from skyplan.config.install import LOCK_FILE, InstallError, init

    try:
        calls, actions = init(dir, upgrade=upgrade)
    except InstallError as e:
        fail(str(e), hint=e.hint)
    out = console()
    for line in _lines(calls, actions):
        out.print(line, markup=False, highlight=False)
    if actions:
        out.print(f"Wrote {LOCK_FILE}: {len(actions)} git source(s) pinned.", markup=False, highlight=False)
    out.print("[green]skyplan init done.[/]" + ("" if calls else " The configuration calls no modules."))
    return 0


def _lines(calls, actions=None, depth: int = 0):
    for c in calls:
        if c.entry is None:
            how = "local folder"
        else:
            ref = f" ({c.entry.ref})" if c.entry.ref else ""
            how = f"commit {c.entry.commit[:12]}{ref}"
            if actions is not None and c.source in actions:
                how += f", {actions[c.source]}"
        yield f"{'  ' * depth}{c.address}  {c.source}  [{how}]"
        yield from _lines(c.children, actions, depth + 1)


def modules_cmd(dir: Path = DIR_ARG, json_out: bool = JSON_OPT) -> int:
    """List the module tree: each call's address, source and resolved version."""
    from skyplan.config.install import InstallError, tree

    try:
        calls = tree(dir)
    except InstallError as e:
        fail(str(e), hint=e.hint)
    if json_out:
        def js(c):
            return {"address": c.address, "source": c.source, "declared_at": c.where,
                    "ref": c.entry.ref if c.entry else None, "commit": c.entry.commit if c.entry else None,
                    "hash": c.entry.hash if c.entry else None, "modules": [js(x) for x in c.children]}
        emit_json({"modules": [js(c) for c in calls]})
        return 0
    out = console()
    if not calls:
        out.print("The configuration calls no modules.")
    for line in _lines(calls):
        out.print(line, markup=False, highlight=False)
    return 0


def register(app: typer.Typer) -> None:
    """Add this group's commands to the app."""
    app.command("init")(init_cmd)
    app.command("modules")(modules_cmd)

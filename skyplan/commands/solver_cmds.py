"""CLI commands: optimize — where each workload would run, the candidates the
solver weighed, and what the whole configuration costs. Reads config, catalog
and (when present) state; changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from skyplan.commands.common import DIR_ARG, JSON_OPT, VAR_FILE_OPT, VAR_OPT, console, emit_json, fail, parse_vars


def optimize_cmd(
    dir: Path = DIR_ARG,
    workload: Optional[List[str]] = typer.Option(None, "--workload", help="Show only ADDRESS (repeatable)."),
    top: int = typer.Option(5, "--top", help="Candidates shown per workload, and fallbacks kept per group."),
    catalog: Optional[Path] = typer.Option(None, "--catalog", help="Use this catalog CSV instead of the configured one."),
    reoptimize: bool = typer.Option(False, "--reoptimize", help="Ignore where workloads run now (no stability bonus)."),
    migrate_threshold: float = typer.Option(0.2, "--migrate-threshold",
                                            help="A running workload moves only when that saves more than this fraction of its cost."),
    json_out: bool = JSON_OPT,
    var: Optional[List[str]] = VAR_OPT,
    var_file: Optional[List[Path]] = VAR_FILE_OPT,
) -> int:
    """Show the cheapest placement of every workload and the candidates considered."""
    from dataclasses import replace

    from skyplan import workflow
    from skyplan.addrs import Address
    from skyplan.solver import SolveOptions, build_problem, solve

    if top < 1:
        fail(f"--top must be at least 1 (got {top})")
    if not 0 <= migrate_threshold < 1:
        fail(f"--migrate-threshold must be a fraction in [0, 1) (got {migrate_threshold})",
             hint="e.g. --migrate-threshold 0.2 moves a workload only when that saves more than 20%")
    only: list[str] = []
    for w in workload or ():
        try:
            only.append(str(Address.parse(w)))
        except ValueError as e:
            fail(f"--workload: {e}")
    if catalog is not None and not catalog.is_file():
        fail(f"--catalog {catalog}: no such file", hint="give the path of a catalog CSV (see `skyplan catalog --help`)")
    graph = workflow.load_config(dir, parse_vars(var), [str(f) for f in var_file or ()])
    known = set(graph.workloads) | set(graph.fleets)
    missing = [a for a in only if a not in known]
    if missing:
        fail(f"--workload {missing[0]} is not in the configuration",
             hint="known: " + ", ".join(sorted(known)[:10]) + (", ..." if len(known) > 10 else ""))
    snapshot = None
    memo: dict = {}
    store = workflow.open_state(graph, create=False) if workflow.state_path(graph).exists() else None
    try:  # read only: stability uses what runs now; clusters are priced without contacting them
        snapshot = store.snapshot() if store is not None else None
        memo = store.placement_memo() if store is not None else {}  # the last plan's placements, kept when unchanged
        offers, info = workflow.build_offers(graph, str(catalog) if catalog else None, store=store, live=False)
    finally:
        if store is not None:
            store.close()
    options = SolveOptions(reoptimize=reoptimize, migrate_threshold=migrate_threshold, top_fallbacks=top,
                           only=tuple(only), memoize=False)  # read only: no memo entries to keep
    from skyplan.progress import phase

    from skyplan.policy.gate import policies_for, solve_within
    with phase("solve", "Solving placements"):  # within the mandatory policies, as plan solves
        solution = solve_within(graph, policies_for(graph), offers, lambda g: solve(
            build_problem(g, offers, snapshot, options, unpriced=info.get("unpriced"), memo=memo)))
    if only:
        solution = replace(solution, placements={a: p for a, p in solution.placements.items() if a in only})
    if json_out:
        from skyplan.gcpause import paused

        with paused():
            doc = to_json(solution, info)
        emit_json(doc)
    else:
        render(solution, graph, top, info)
    return 0


def _common(values):
    """The value every replica group shares, or None when they differ."""
    distinct = set(values)
    return next(iter(distinct)) if len(distinct) == 1 else None


def to_json(solution, catalog_info: dict | None = None) -> dict:
    """The optimize document. A placement's top-level provider/region/zone/instance
    type/pricing/fleet are what all its replica groups share (null where they differ:
    see ``groups``, and ``regions``/``zones`` for every one used); ``fallbacks`` are
    the single group's (each group lists its own)."""
    placements = []
    for address, wp in sorted(solution.placements.items()):
        chosen = [g.chosen for g in wp.groups]
        first = chosen[0]
        placements.append({
            "address": address, "provider": _common(c.provider for c in chosen),
            "region": _common(c.region for c in chosen), "zone": _common(c.zone for c in chosen),
            "regions": sorted({c.region for c in chosen}), "zones": sorted({c.zone for c in chosen if c.zone}),
            "instance_type": _common(c.instance_type for c in chosen), "pricing": _common(c.pricing for c in chosen),
            "nodes": first.nodes,
            "replicas": len(wp.groups), "hourly_cost": round(wp.hourly_cost, 6), "cost": wp.expected_cost,
            "approved_hourly_cost": wp.approved_hourly_cost, "fleet": _common(c.fleet for c in chosen),
            "kept": wp.kept, "explanation": wp.explanation,
            "fallbacks": [f.to_json() for f in wp.groups[0].fallbacks] if len(wp.groups) == 1 else [],
            "groups": [g.to_json() for g in wp.groups],
            "candidates": [c.to_json() for c in solution.candidates.get(address, ())],
        })
    return {
        "total_hourly_cost": round(sum(p["hourly_cost"] for p in placements), 6),
        "total_cost": round(sum(p["cost"] for p in placements), 6),
        "status": solution.status, "gap": solution.gap, "backend": solution.backend,
        "solve_seconds": solution.solve_seconds, "catalog": dict(catalog_info or {}),
        "placements": placements,
    }


HEADERS = ("INFRA", "INSTANCE", "ARCH", "vCPUs", "Mem(GB)", "GPUs", "PRICING", "$/h", "EST. COST", "CHOSEN")


def _money(v: float) -> str:
    return f"${v:,.2f}" if v >= 0.995 or v == 0 else f"${v:.4f}".rstrip("0")


RIGHT = ("vCPUs", "Mem(GB)", "$/h", "EST. COST")


def _columns(rows: list[list[str]]) -> list[str]:
    """Rows as aligned text, two spaces between columns (a rich Table per workload
    costs milliseconds each, which a thousand workloads turn into seconds)."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADERS))]
    return ["  ".join(v.rjust(w) if h in RIGHT else v.ljust(w) for v, w, h in zip(r, widths, HEADERS)).rstrip()
            for r in rows]


def render(solution, graph, top: int, catalog_info: dict | None = None) -> None:
    from rich.markup import escape
    from rich.text import Text

    out = console()
    resources = graph.resources()
    # One Text for every workload, printed once: a console print per line costs about
    # half a millisecond, which a thousand workloads turned into seconds.
    body = Text()
    for address, wp in sorted(solution.placements.items()):
        r = resources.get(address)
        groups = len(wp.groups)
        shape = f"{groups} x {wp.groups[0].chosen.nodes} node(s)" if groups > 1 else f"{wp.groups[0].chosen.nodes} node(s)"
        kind = getattr(r, "kind", "fleet") if r is not None and hasattr(r, "kind") else "fleet"
        body.append(address, style="bold")
        body.append(f" ({kind}, {shape})\n")
        cands = list(solution.candidates.get(address, ()))
        shown = cands[:top] + [c for c in cands[top:] if c.chosen]
        rows = [[c.infra, c.instance_type, c.arch or "-", f"{c.vcpus:g}", f"{c.memory:g}", c.accelerators or "-",
                 c.pricing, _money(c.hourly_cost), _money(c.est_cost), "✔" if c.chosen else ""] for c in shown]
        lines = _columns([list(HEADERS)] + rows)
        needed = max(len(line) for line in lines)
        if needed > out.width:  # never truncate names: widen rather than elide
            out.width = needed
        body.append(lines[0] + "\n", style="bold")
        body.append("".join(line + "\n" for line in lines[1:]))
        body.append(f"  {wp.explanation}\n")
        if wp.kept:
            body.append("  (kept where it runs now)\n")
        body.append("\n")
    if body and not out.is_terminal:  # piped: the same text, without laying it out cell by cell
        out.file.write(body.plain)
    elif body:
        out.print(body, soft_wrap=True, end="")
    total_h = sum(p.hourly_cost for p in solution.placements.values())
    total = sum(p.expected_cost for p in solution.placements.values())
    out.print(f"[bold]Total:[/] {_money(total_h)}/h, estimated {_money(total)} over the workloads' durations "
              f"(services: 730 h/month)")
    note = "optimal" if solution.status == "optimal" else "best found within the time limit"
    out.print(f"Solver: {note}, gap {solution.gap:.2%}, {solution.backend}, {solution.solve_seconds:.2f}s")
    if catalog_info and catalog_info.get("observed_at"):
        out.print(f"Prices: {escape(str(catalog_info.get('source') or 'catalog'))}, observed {escape(str(catalog_info['observed_at']))}")
    from skyplan.planner.render_text import price_notes

    for line in price_notes(catalog_info or {}):
        out.print(escape(line))


def register(app: typer.Typer) -> None:
    """Add this group's commands to the app."""
    app.command("optimize")(optimize_cmd)

"""CLI commands that look at what runs: ``skyplan status`` and ``skyplan logs``.

Both read state and ask the providers (one ``list_managed`` call per provider);
neither changes state or the cloud.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, List, Optional

import typer

from skyplan.commands.common import JSON_OPT, VAR_FILE_OPT, VAR_OPT, console, emit_json, fail, parse_vars


def graph_for_plan(plan):
    """The configuration a saved plan was made from, evaluated with the variable values it
    was made with (the sensitive ones are kept in the 0600 plan file), so apply uses exactly
    its provider blocks. StalePlanError when the configuration no longer loads or is not
    the one the plan was made from (its hash differs)."""
    from skyplan import workflow
    from skyplan.errors import DiagnosticsError, StalePlanError

    root = plan.config_dir or "."
    again = "run `skyplan plan -out FILE` again and apply the new plan"
    try:
        graph = workflow.load_config(root, {**dict(plan.variables or {}), **dict(plan.sensitive_variables or {})})
    except DiagnosticsError as e:
        first = next((d for d in e.diagnostics if d.severity == "error"), None)
        why = f": {first.source + ': ' if first and first.source else ''}{first.summary}" if first else ""
        raise StalePlanError(f"Saved plan cannot be applied: the configuration it was made from in {root} no "
                             f"longer loads{why}", hint=again) from None
    if plan.config_hash and graph.config_hash != plan.config_hash:
        raise StalePlanError(f"Saved plan is stale: the configuration changed since this plan was made "
                             f"(files or variable values in {root})", hint=again)
    return graph


def _context(dir: Path, var, var_file):
    """(graph, store) for a configuration folder whose state must already exist."""
    from skyplan import workflow
    from skyplan.config.model import DesiredGraph
    from skyplan.errors import DiagnosticsError

    if not dir.exists():
        fail(f"{dir} does not exist", hint="give the configuration folder")
    try:
        graph = workflow.load_config(dir, parse_vars(var), [str(f) for f in var_file or ()])
    except DiagnosticsError:
        console(stderr=True).print("[yellow]Warning:[/] the configuration does not load; reading state only.")
        graph = DesiredGraph(root=str(dir.resolve()))
    path = workflow.state_path(graph)
    if not path.exists():  # status and logs take no --state: say what does make one
        fail(f"no state at {path}: nothing has been applied from {dir} yet",
             hint=f"run `skyplan apply {dir}` first")
    return graph, workflow.open_state(graph, create=False)


def _parse_time(text: Any) -> float | None:
    if isinstance(text, (int, float)):
        return float(text)
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def _duration(seconds: float) -> str:
    s = int(max(0, seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600:02d}h"


def live_state(rec, live: list) -> str:
    """One word (or counts) for the nodes the providers report for ``rec``."""
    if not live:
        # A finished job's nodes may be gone by design; a creation marker has none yet.
        if rec.status in ("succeeded", "failed", "creating") or not rec.groups:
            return rec.status
        return "missing"
    if rec.reason == "autostop" and all(i.state == "stopped" for i in live):
        return "stopped (autostop)"
    counts: dict[str, int] = {}
    for i in live:
        counts[i.state] = counts.get(i.state, 0) + 1
    if len(counts) == 1:
        return next(iter(counts))
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))


def refreshed_records(snapshot, providers) -> tuple[dict, dict[str, str]]:
    """What the providers report for each record, matched to state as ``drift`` and
    ``plan`` match it (``drift.classify``, one list call per provider): address ->
    the refreshed record, and provider key -> error for providers that could not
    be asked (their records are left out)."""
    from dataclasses import replace as _replace

    from skyplan.drift.classify import classify
    from skyplan.drift.refresh import probe_unlisted

    listings: dict[str, list] = {}
    errors: dict[str, str] = {}
    for key, prov in providers.items():
        try:
            listings[key] = [i if i.provider == key else _replace(i, provider=key)
                             for i in prov.list_managed(snapshot.lineage)]
        except Exception as e:  # noqa: BLE001 - shown per row, status still prints
            errors[key] = str(e).splitlines()[0] if str(e) else type(e).__name__
    askable = {a: r for a, r in snapshot.resources.items()
               if not ({g.placement.provider for g in r.groups} & set(errors))}
    part = _replace(snapshot, resources=askable)
    for key, found in probe_unlisted(part, {k: p for k, p in providers.items() if k not in errors},
                                     listings).items():
        listings[key] = listings.get(key, []) + found
    return dict(classify(part, listings).snapshot.resources), errors


UNTAGGED = "(untagged)"


def cost_by(rows: list[dict], key: str) -> list[dict]:
    """The $/h of running resources summed per value of tag ``key`` (``(untagged)``
    for those without it), most expensive first."""
    sums: dict[str, list] = {}
    for r in rows:
        if r["state"] != "running":
            continue
        acc = sums.setdefault(r["tags"].get(key) or UNTAGGED, [0.0, 0])
        acc[0] += r["hourly_cost"]
        acc[1] += 1
    return [{"value": v, "hourly_cost": round(c, 6), "resources": n}
            for v, (c, n) in sorted(sums.items(), key=lambda kv: (-kv[1][0], kv[0]))]


def status_rows(snapshot, providers, now: float | None = None, memory=None) -> list[dict]:
    """One row per resource in state, with what the providers report now; a service
    with a readiness block has its replicas probed (``memory``: ``readiness.recall``).
    ``tags`` are the resource's own over its provider's ``default_tags``."""
    from skyplan.drift.readiness import probe_record
    from skyplan.policy.model import merge_tags

    now = time.time() if now is None else now
    refreshed, errors = refreshed_records(snapshot, providers)
    refreshed = {a: probe_record(r, providers, memory, now) for a, r in refreshed.items()}
    rows = []
    for address, rec in sorted(snapshot.resources.items()):
        if rec.kind == "network":
            continue  # a provider's network piece, not a workload: `skyplan state list` shows them
        keys = {g.placement.provider for g in rec.groups}
        err = next((errors[k] for k in sorted(keys) if k in errors), None)
        now_rec = refreshed.get(address, rec)
        live = list(now_rec.instances) if address in refreshed else []
        state = f"unknown ({err})" if err else live_state(now_rec, live)
        started = min((t for t in (_parse_time(i.attributes.get("started_at")) for i in live) if t), default=None)
        started = started or _parse_time(rec.created_at)
        ends = [_parse_time(i.attributes.get("ended_at")) for i in live]
        finished = bool(live) and all(ends)
        end = max(ends) if finished else now
        uptime = max(0.0, end - started) if started and rec.groups else 0.0  # nothing launched: no uptime
        p = rec.placement
        hourly, reason = rec.hourly_cost, rec.reason
        if now_rec.reason == "autostop" and state == "stopped (autostop)":
            if any(i.attributes.get("compute_billed") for i in live):
                reason = "stopped by autostop, but still allocated: its provider bills compute until it is deallocated"
            else:  # a stopped node's compute is not billed; its disks are, and the catalog has no disk prices
                hourly, reason = 0.0, "stopped by autostop: $0/h compute; its disks are still billed (not priced here)"
        rows.append({
            "address": address, "kind": rec.attributes.get("kind", rec.kind), "state": state,
            "recorded_status": rec.status, "placement": p.infra if p else None,
            "instance_type": p.instance_type if p else None, "pricing": p.pricing if p else None,
            "nodes": len(live) if live else len(rec.instances), "hourly_cost": round(hourly, 6),
            "uptime_seconds": round(uptime, 1), "cost_so_far": round(rec.hourly_cost * uptime / 3600.0, 6),
            "tainted": rec.tainted, "reason": reason,
            "tags": merge_tags(rec.attributes.get("tags"), getattr(providers.get(p.provider), "cfg", None) if p else None),
            **({"endpoints": now_rec.endpoints, "replicas": replica_rows(now_rec)}
               if rec.attributes.get("kind") == "service" and rec.kind == "workload" else {}),
        })
    return rows


def replica_rows(rec) -> list[dict]:
    """Per replica of a service: its group, where it runs, its endpoint and readiness
    (READY / NOT READY / STARTING with the last probe's answer; RUNNING etc. without a
    readiness block)."""
    from skyplan.drift.readiness import spec_of, target

    probed = spec_of(rec) is not None
    ports = list(rec.attributes.get("ports") or ())
    out = []
    for inst in sorted(rec.instances, key=lambda i: (i.group, i.rank)):
        if inst.rank != 0:
            continue
        verdict = inst.attributes.get("readiness") or {}
        ready = str(verdict.get("status") or "not probed yet") if probed and inst.state == "running" else inst.state
        out.append({"group": inst.group, "id": inst.id, "zone": inst.zone or inst.region, "pricing": inst.pricing,
                    "endpoint": target(inst, ports), "readiness": ready.upper(), "last_probe": verdict.get("last"),
                    "failures": verdict.get("failures", 0)})
    return out


def live_statuses(graph, snapshot) -> tuple[dict[str, str], str]:
    """address -> its status as the providers report it now (the word ``status``
    shows), and what kept some providers from being asked (their records are left
    out, so callers show them as last recorded)."""
    from skyplan import workflow
    from skyplan.errors import SkyplanError

    keys = {g.placement.provider for r in snapshot.resources.values() for g in r.groups}
    if not keys:
        return {a: r.status for a, r in snapshot.resources.items()}, ""
    try:
        providers = workflow.build_providers(graph, only=keys)
    except SkyplanError as e:
        return {}, (str(e).splitlines() or [type(e).__name__])[0]
    out: dict[str, str] = {}
    errors: set[str] = set()
    for row in status_rows(snapshot, providers):
        if row["state"].startswith("unknown ("):
            errors.add(row["state"][len("unknown ("):-1])
        else:
            out[row["address"]] = row["state"]
    return out, "; ".join(sorted(errors))


def status_cmd(
    dir: Path = typer.Argument(Path("."), help="Configuration folder (default: the current folder).", show_default=False),
    json_out: bool = JSON_OPT,
    var: Optional[List[str]] = VAR_OPT,
    var_file: Optional[List[Path]] = VAR_FILE_OPT,
    by: Optional[str] = typer.Option(None, "--by", metavar="KEY",
                                     help="Also sum the $/h of running resources per value of tag KEY (e.g. team)."),
) -> int:
    """Every workload in state: placement, live state, uptime and cost so far."""
    from skyplan import workflow
    from skyplan.commands.table import format_table, terminal_width

    from skyplan.drift import readiness

    graph, store = _context(dir, var, var_file)
    try:
        snap = store.snapshot()
        keys = {g.placement.provider for r in snap.resources.values() for g in r.groups}
        providers = workflow.build_providers(graph, only=keys) if keys else {}
        rows = status_rows(snap, providers, memory=readiness.recall(store))  # a view: verdicts are not journalled
    finally:
        store.close()
    groups = cost_by(rows, by) if by else None
    if json_out:
        emit_json({"lineage": snap.lineage, "serial": snap.serial, "resources": rows,
                   "hourly_cost": round(sum(r["hourly_cost"] for r in rows), 6),
                   "cost_so_far": round(sum(r["cost_so_far"] for r in rows), 6),
                   **({"by": {"key": by, "groups": groups}} if by else {})})
        return 0
    if not rows:
        print("No resources in state. Run `skyplan apply` to create some.")
        return 0
    tagged = any(r["tags"] for r in rows)  # a TAGS column only when something has tags
    header = ("ADDRESS", "KIND", "PLACEMENT", "STATE", "NODES", "UPTIME", "$/H", "COST SO FAR") + (
        ("TAGS",) if tagged else ())
    table = [header]
    for r in rows:
        where = f"{r['placement']} {r['instance_type']} {r['pricing']}" if r["placement"] else "-"
        state = r["state"] + (" (tainted)" if r["tainted"] else "")
        tags = (",".join(f"{k}={v}" for k, v in sorted(r["tags"].items())) or "-",) if tagged else ()
        table.append((r["address"], r["kind"], where, state, str(r["nodes"]), _duration(r["uptime_seconds"]),
                      f"${r['hourly_cost']:.2f}", f"${r['cost_so_far']:.2f}") + tags)
    for line in format_table(header, table[1:], right={4, 5, 6, 7}, reasons=3, wrap={0, 2} | ({8} if tagged else set()),
                             width=terminal_width(), notes=[f"reason: {r['reason']}" if r["reason"] else "" for r in rows]):
        print(line)
    for r in rows:
        if r.get("replicas"):
            print(f"\n{r['address']}: endpoints {', '.join(r['endpoints']) or '(none ready)'}")
            for rep in r["replicas"]:
                last = f"  last probe: {rep['last_probe']}" if rep["last_probe"] else ""
                print(f"  [{rep['group']}] {rep['readiness']:<10} {rep['endpoint'] or '-':<22} {rep['zone']} "
                      f"{rep['pricing']}{last}")
    if by:
        print()
        for line in format_table((by.upper(), "RUNNING", "$/H"),
                                 [(g["value"], str(g["resources"]), f"${g['hourly_cost']:.2f}") for g in groups],
                                 right={1, 2}, width=terminal_width()):
            print(line)
    total = sum(r["cost_so_far"] for r in rows)
    print(f"\n{len(rows)} resource(s); ${sum(r['hourly_cost'] for r in rows):.2f}/h now; ${total:.2f} spent so far.")
    return 0


def logs_cmd(
    address: str = typer.Argument(..., help="The workload address, e.g. workload.train."),
    dir: Path = typer.Argument(Path("."), help="Configuration folder (default: the current folder).", show_default=False),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines until the node stops."),
    node: Optional[int] = typer.Option(None, "--node", help="Only node N, counted from 0 in group then rank order (default: all; with --follow: 0)."),
    var: Optional[List[str]] = VAR_OPT,
    var_file: Optional[List[Path]] = VAR_FILE_OPT,
) -> int:
    """Print a workload's output (for providers that keep logs, such as local)."""
    from skyplan import workflow
    from skyplan.addrs import Address
    from skyplan.providers.base import SupportsLogs

    try:
        address = str(Address.parse(address))
    except ValueError as e:
        fail(str(e))
    graph, store = _context(dir, var, var_file)
    try:
        rec = store.snapshot().resources.get(address)
    finally:
        store.close()
    if rec is None:
        fail(f"{address} is not in state", hint="see what state holds with: skyplan state list")
    insts = list(rec.instances)
    if not insts:
        fail(f"{address} has no nodes recorded (status {rec.status})", hint="apply it first: skyplan apply")
    if node is not None:
        if not 0 <= node < len(insts):
            fail(f"--node {node} is out of range: {address} has {len(insts)} node(s) (0..{len(insts) - 1})")
        insts = [insts[node]]
    elif follow:
        insts = insts[:1]
    providers = workflow.build_providers(graph, only={i.provider for i in insts})
    for n, inst in enumerate(insts):
        prov = providers[inst.provider]
        if not isinstance(prov, SupportsLogs):
            fail(f"provider {inst.provider!r} does not keep logs skyplan can read",
                 hint="read them with the provider's own tools")
        if len(insts) > 1:
            print(f"==> {address} group {inst.group} rank {inst.rank} ({inst.id}) <==")
        for line in prov.logs(inst, follow=follow):
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        if len(insts) > 1 and n < len(insts) - 1:
            print()
    return 0

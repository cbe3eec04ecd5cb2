"""Readiness: does each replica of a service answer, probed from the machine skyplan runs on.

A service's ``readiness`` block (``config.service.Readiness``, recorded in its
state attributes) says how: an HTTP GET of ``path`` on the replica's endpoint
(``ResourceRecord.endpoints``: the node's ``endpoint`` attribute, else its
address and first port; ready on 2xx/3xx), or ``command`` run on the node
through the provider's ``SupportsCommands`` (exit 0). Only the head (rank 0)
of each replica group is probed.

Each probe's verdict is kept on the node as ``attributes["readiness"]``::

    {"status": "ready" | "not ready" | "starting", "failures": N, "last": "HTTP 200",
     "at": epoch seconds, "since": when the node started}

``starting`` while the node is younger than ``initial_delay`` and has not
answered; ``failures`` counts failed probes in a row after that. A replica
with ``failures >= failure_threshold`` is *unhealthy* (drift that repair
replaces). A node is probed at most once per ``period``; between probes its
last verdict stands.

The verdicts outlive one command in the journal: ``remember`` writes them,
when they changed, as one entry of address ``readiness`` (no serial change),
with how many replicas turned unhealthy in each zone; ``recall`` reads the
last one back, so consecutive failures add up across refreshes (``skyplan
watch``, ``drift``, ``plan``, ``status``) and repair avoids a zone where
replicas of the same service failed twice (``drift.blocked``).
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime
from typing import Any, Mapping

from skyplan.config.service import Readiness
from skyplan.providers.base import Instance, SupportsCommands
from skyplan.state.model import RUNNING, ResourceRecord, Snapshot

READY = "ready"
NOT_READY = "not ready"
STARTING = "starting"
MEMORY_ADDRESS = "readiness"  # the journal entries that carry probe verdicts


def spec_of(rec: ResourceRecord) -> Readiness | None:
    """The readiness block a service record was made with; None for anything else."""
    if rec.kind != "workload" or rec.attributes.get("kind") != "service":
        return None
    return Readiness.from_json(rec.attributes.get("readiness"))


def _epoch(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def target(inst: Instance, ports) -> str | None:
    """``host:port`` a probe of ``inst`` connects to."""
    endpoint = inst.attributes.get("endpoint")
    if endpoint:
        return str(endpoint)
    return f"{inst.ip}:{int(list(ports)[0])}" if inst.ip and ports else None


def probe_http(hostport: str, path: str, timeout: float) -> tuple[bool, str]:
    """GET ``http://hostport{path}``: (answered 2xx/3xx, what it answered)."""
    import urllib.error
    import urllib.request

    url = f"http://{hostport}{path}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="GET"), timeout=timeout) as resp:
            return 200 <= resp.status < 400, f"HTTP {resp.status}"
    except urllib.error.HTTPError as e:
        return False, f"HTTP {e.code}"
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", e)
        return False, f"no answer ({str(reason) or type(reason).__name__})"[:200]


def probe_once(inst: Instance, spec: Readiness, ports, provider: Any) -> tuple[bool, str]:
    """One probe of one node: (ready, what it answered). Never raises."""
    if spec.command is not None:
        if not isinstance(provider, SupportsCommands):
            return False, f"provider {inst.provider} cannot run a command on its nodes"
        try:
            code, out = provider.run_command(inst, spec.command, spec.timeout)
        except Exception as e:  # noqa: BLE001 - a probe that cannot run is a failed probe
            return False, (str(e).splitlines() or [type(e).__name__])[0][:200]
        return code == 0, f"exit {code}" + (f": {out}" if out else "")
    hostport = target(inst, ports)
    if hostport is None:
        return False, "no address to probe yet"
    return probe_http(hostport, spec.path or "/", spec.timeout)


def judge(prior: Mapping[str, Any] | None, ok: bool, detail: str, since: float, spec: Readiness,
          now: float) -> dict:
    """The verdict after one probe, from the previous one (pure)."""
    prior = prior or {}
    if ok:
        status, failures = READY, 0
    elif now - since < spec.initial_delay and prior.get("status") in (None, STARTING):  # never answered yet
        status, failures = STARTING, 0
    else:
        status, failures = NOT_READY, int(prior.get("failures") or 0) + 1
    return {"status": status, "failures": failures, "last": detail, "at": round(now, 3), "since": round(since, 3)}


def is_unhealthy(verdict: Mapping[str, Any] | None, spec: Readiness) -> bool:
    return bool(verdict) and verdict.get("status") == NOT_READY and \
        int(verdict.get("failures") or 0) >= spec.failure_threshold


def _latest(*verdicts: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    known = [v for v in verdicts if isinstance(v, Mapping) and v.get("at") is not None]
    return max(known, key=lambda v: float(v["at"])) if known else None


def probe_instance(inst: Instance, spec: Readiness, ports, provider: Any, memory: Mapping[str, Any],
                   now: float, force: bool = False) -> Instance:
    """``inst`` with its verdict brought up to date (probed unless its last probe is
    younger than the period, or ``force``)."""
    prior = _latest(inst.attributes.get("readiness"), (memory.get("nodes") or {}).get(inst.id))
    if inst.state != RUNNING:
        return inst
    if prior is not None and not force and now - float(prior["at"]) < spec.period * 0.95:
        verdict = dict(prior)
    else:
        since = _epoch(inst.attributes.get("started_at")) or _epoch((prior or {}).get("since")) or now
        ok, detail = probe_once(inst, spec, ports, provider)
        verdict = judge(prior, ok, detail, since, spec, now)
    return replace(inst, attributes={**inst.attributes, "readiness": verdict})


def probe_record(rec: ResourceRecord, providers: Mapping[str, Any], memory: Mapping[str, Any] | None = None,
                 now: float | None = None, force: bool = False) -> ResourceRecord:
    """``rec`` with every replica head's verdict brought up to date (unchanged without a
    readiness block)."""
    spec = spec_of(rec)
    if spec is None:
        return rec
    now = time.time() if now is None else now
    memory = memory or {}
    ports = list(rec.attributes.get("ports") or ())
    groups = []
    for g in rec.groups:
        insts = tuple(probe_instance(i, spec, ports, providers.get(i.provider), memory, now, force)
                      if i.rank == 0 and i.provider in providers else i for i in g.instances)
        groups.append(replace(g, instances=insts))
    return replace(rec, groups=tuple(groups))


def probe_snapshot(snapshot: Snapshot, providers: Mapping[str, Any], memory: Mapping[str, Any] | None = None,
                   now: float | None = None) -> Snapshot:
    """``snapshot`` with the verdicts of every service's replicas brought up to date."""
    resources = {a: probe_record(r, providers, memory, now) for a, r in snapshot.resources.items()}
    return replace(snapshot, resources=resources)


def verdicts(snapshot: Snapshot) -> dict[str, dict]:
    """node id -> its verdict, for every probed node of ``snapshot``."""
    return {i.id: dict(i.attributes["readiness"]) for r in snapshot.resources.values() for i in r.instances
            if isinstance(i.attributes.get("readiness"), Mapping)}


def unhealthy(rec: ResourceRecord) -> list[Instance]:
    """The replica heads of ``rec`` whose readiness failed ``failure_threshold`` times in a row."""
    spec = spec_of(rec)
    if spec is None:
        return []
    return [i for i in rec.instances if i.rank == 0 and is_unhealthy(i.attributes.get("readiness"), spec)]


def recall(store) -> dict[str, Any]:
    """The last probe memory the journal holds: ``{"nodes": node id -> verdict,
    "zones": address -> "provider/region/zone" -> replicas that turned unhealthy
    there}`` (empty without a store or entries)."""
    empty: dict[str, Any] = {"nodes": {}, "zones": {}}
    if store is None:
        return empty
    try:
        rows = store.history(limit=1, address=MEMORY_ADDRESS)
    except Exception:  # noqa: BLE001 - no memory is a fresh start, never a failure
        return empty
    after = (rows[0].get("after") if rows else None) or {}
    return {"nodes": {str(k): dict(v) for k, v in (after.get("nodes") or {}).items() if isinstance(v, Mapping)},
            "zones": {str(a): dict(z) for a, z in (after.get("zones") or {}).items() if isinstance(z, Mapping)}}


def zone_key(inst: Instance) -> str:
    return f"{inst.provider}/{inst.region}/{inst.zone or ''}"


def updated_memory(snapshot: Snapshot, prior: Mapping[str, Any], whole: bool = True) -> dict[str, Any]:
    """``prior`` with the verdicts of ``snapshot``, and each replica that turned
    unhealthy since counted against its zone (pure). ``whole``: ``snapshot`` is all
    of state, so nodes and addresses it does not hold are forgotten."""
    nodes = dict(prior.get("nodes") or {})
    zones = {a: dict(z) for a, z in (prior.get("zones") or {}).items()}
    for address, rec in snapshot.resources.items():
        spec = spec_of(rec)
        for inst in unhealthy(rec):
            if not is_unhealthy(nodes.get(inst.id), spec):
                per = zones.setdefault(address, {})
                per[zone_key(inst)] = int(per.get(zone_key(inst), 0)) + 1
    nodes.update(verdicts(snapshot))
    if not whole:
        return {"nodes": nodes, "zones": zones}
    live = {i.id for r in snapshot.resources.values() for i in r.instances}
    nodes = {k: v for k, v in nodes.items() if k in live}  # forget nodes that are gone
    return {"nodes": nodes, "zones": {a: z for a, z in zones.items() if a in snapshot.resources}}


def remember(store, snapshot: Snapshot, prior: Mapping[str, Any], whole: bool = True) -> None:
    """Journal the probe memory after ``snapshot`` when it changed (no serial change);
    ``whole=False`` when ``snapshot`` holds only some of state's records."""
    if store is None:
        return
    memory = updated_memory(snapshot, prior, whole)
    if memory == {"nodes": dict(prior.get("nodes") or {}), "zones": dict(prior.get("zones") or {})}:
        return
    counts: dict[str, int] = {}
    for v in memory["nodes"].values():
        counts[v["status"]] = counts.get(v["status"], 0) + 1
    detail = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no replica probed"
    store.journal_event(MEMORY_ADDRESS, "probe", "ok", detail=f"readiness: {detail}", after=memory)


def check_command_probes(graph, solution) -> None:
    """Refuse a plan that places a service probed by ``command`` on a provider that
    cannot run a command on its nodes (DiagnosticsError at the readiness block)."""
    from skyplan.errors import Diagnostic, DiagnosticsError
    from skyplan.providers import COMMAND_PROBES

    problems = []
    for address, w in sorted(graph.workloads.items()):
        if w.readiness is None or w.readiness.command is None or address not in solution.placements:
            continue
        keys = sorted({p.provider for g in solution.placements[address].groups for p in (g.chosen, *g.fallbacks)})
        cannot = [k for k in keys if k.split(".")[0] not in COMMAND_PROBES]
        if cannot:
            problems.append(Diagnostic(
                f"{address}: readiness.command cannot run on {', '.join(cannot)}, where it may be placed",
                source=graph.source_of(address, "readiness.command"),
                hint="probe over HTTP with path = \"/health\" on its first port, or restrict placement.providers "
                     f"to {', '.join(sorted(COMMAND_PROBES))}"))
    if problems:
        raise DiagnosticsError(problems)

"""How state looks to a person: the rows of ``state list``, the record of
``state show`` and the journal of ``state history``. Functions take the data and
a rich Console; they read nothing themselves."""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

from skyplan.state.model import ResourceRecord, Snapshot


SPENDING = ("running", "creating")  # statuses whose nodes are being paid for


def spend(rows: Sequence[Mapping]) -> float:
    """$/h of the rows whose nodes run now (a finished job or a stopped resource costs nothing)."""
    return round(sum(r["hourly_cost"] for r in rows if r["status"] in SPENDING), 6)


def last_recorded(snap: Snapshot) -> str:
    """When state was last written, for a view that shows it as recorded."""
    when = max((r.updated_at for r in snap.resources.values() if r.updated_at), default="")
    return f"serial {snap.serial}" + (f", last written {when[:19].replace('T', ' ')} UTC" if when else "")


def list_rows(snap: Snapshot, live: Mapping[str, str] | None = None) -> list[dict]:
    """One row per record; ``status`` is ``live[address]`` (what the providers report
    now) where given, else the recorded status (also in ``recorded_status``)."""
    rows = []
    live = live or {}
    for address in sorted(snap.resources):
        rec = snap.resources[address]
        p = rec.placement
        rows.append({
            "address": address, "kind": rec.kind, "status": live.get(address, rec.status),
            "recorded_status": rec.status, "recorded_at": rec.updated_at, "tainted": rec.tainted,
            "provider": p.provider if p else None, "region": p.region if p else None, "zone": p.zone if p else None,
            "instance_type": p.instance_type if p else None, "pricing": p.pricing if p else None,
            "groups": len(rec.groups), "nodes": sum(g.placement.nodes for g in rec.groups),
            "hourly_cost": round(rec.hourly_cost, 6),
        })
    return rows


class _Table:
    """Plain aligned columns: never wrapped or cut, whatever the terminal width."""

    RIGHT = ("NODES", "$/H", "SERIAL")

    def __init__(self, *headers: str):
        self.headers, self.rows = headers, []

    def add_row(self, *cells: str) -> None:
        self.rows.append(cells)

    def lines(self) -> list[str]:
        widths = [max(len(str(r[i])) for r in (self.headers, *self.rows)) for i in range(len(self.headers))]
        out = []
        for row in (self.headers, *self.rows):
            cells = [str(c).rjust(w) if h in self.RIGHT else str(c).ljust(w)
                     for c, w, h in zip(row, widths, self.headers)]
            out.append("  ".join(cells).rstrip())
        return out


def _print(out, lines) -> None:
    for line in lines:
        out.print(line, markup=False, highlight=False, overflow="ignore", crop=False, no_wrap=True)


def _table(*headers: str) -> _Table:
    return _Table(*headers)


def render_list(out, rows: Sequence[Mapping], snap: Snapshot) -> None:
    if not rows:
        out.print(f"State holds no resources (lineage {snap.lineage}, serial {snap.serial}).")
        return
    t = _table("ADDRESS", "STATUS", "INFRA", "INSTANCE TYPE", "NODES", "PRICING", "$/H")
    for r in rows:
        infra = "/".join(x for x in (r["provider"], r["region"], r["zone"]) if x) or "-"
        status = r["status"] + (" (tainted)" if r["tainted"] else "")
        t.add_row(r["address"], status, infra, r["instance_type"] or "-", str(r["nodes"]),
                  r["pricing"] or "-", f"{r['hourly_cost']:.4f}")
    _print(out, t.lines())
    out.print(f"{len(rows)} resource(s), ${spend(rows):,.4f}/h in total (serial {snap.serial}, "
              f"lineage {snap.lineage}).")


def _fmt(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else json.dumps(value)


def render_show(out, rec: ResourceRecord, data: Mapping) -> None:
    """``data`` is the record's JSON with sensitive values already redacted."""
    lines = [f"# {rec.address}", f"kind        = {rec.kind}", f"status      = {rec.status}",
             *([f"reason      = {rec.reason}"] if rec.reason else []),
             f"tainted     = {str(rec.tainted).lower()}", f"hourly_cost = {rec.hourly_cost:.4f}",
             f"config_hash = {rec.config_hash or '-'}", f"created_at  = {rec.created_at}",
             f"updated_at  = {rec.updated_at}"]
    if rec.depends_on:
        lines.append(f"depends_on  = {', '.join(rec.depends_on)}")
    for gi, g in enumerate(rec.groups):
        p = g.placement
        extra = f" fleet {p.fleet}" if p.fleet else ""
        accel = f" {p.accelerators}" if p.accelerators else ""
        lines.append(f"group {gi}: {p.infra} {p.instance_type}{accel} x{p.nodes} {p.pricing} "
                     f"${p.hourly_price:.4f}/h per node{extra}")
        for inst in g.instances:
            attrs = " ".join(f"{k}={v}" for k, v in sorted(inst.attributes.items()))
            lines.append(f"  node {inst.rank}: {inst.id} {inst.state}" + (f" {attrs}" if attrs else ""))
    attributes = data.get("attributes") or {}
    if attributes:
        lines.append("attributes:")
        for k in sorted(attributes):
            lines.append(f"  {k} = {_fmt(attributes[k])}")
    _print(out, lines)


def render_history(out, rows: Sequence[Mapping]) -> None:
    if not rows:
        out.print("The journal is empty.")
        return
    t = _table("SERIAL", "AT", "WHO", "OPERATION", "ADDRESS", "ACTION", "OUTCOME", "DETAIL")
    for r in rows:
        detail = r["detail"] or ""
        after = r.get("after")
        if not detail and isinstance(after, Mapping) and after.get("status"):
            # A create is journaled twice: the ``creating`` marker, then the result.
            detail = f"status {after['status']}"
        t.add_row(str(r["serial"]), r["at"][:19].replace("T", " "), r["who"], r["operation"] or "-",
                  r["address"], r["action"], r["outcome"], detail.replace("\n", " ")[:100])
    _print(out, t.lines())

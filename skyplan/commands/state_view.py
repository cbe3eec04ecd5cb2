"""How `skyplan show DIR` and `skyplan output` read and print the current state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from skyplan.state.model import Snapshot


def load_snapshot(dir: Path) -> tuple[Snapshot, dict[str, tuple[str, ...]]]:
    """The state beside the configuration in ``dir`` (empty when there is none) and
    each address's sensitive attribute paths."""
    from skyplan.commands.state_cmds import state_path

    path = state_path(Path(dir), None)  # the skyplan block's state path wins, as for the state commands
    if not path.exists():
        return Snapshot.empty(), {}
    from skyplan.state.location import open_store

    with open_store(path, create=False) as store:
        snap = store.snapshot()
    return snap, dict(snap.sensitive)


def format_value(value: Any) -> str:
    """An output value as Terraform prints it: strings quoted, structures as indented JSON."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, indent=2, sort_keys=True)
    return json.dumps(value)


def _redacted(data: Mapping[str, Any], paths: tuple[str, ...]) -> dict:
    """A record's JSON with its sensitive values hidden, in its attributes and
    wherever a provider echoed them (node attributes, tags)."""
    from skyplan.state.redact import redact_record

    return redact_record(json.loads(json.dumps(dict(data), default=str)), paths)


def render_state_text(snap: Snapshot, sensitive: Mapping[str, tuple[str, ...]]) -> str:
    if not snap.resources and not snap.outputs:
        return "No state.\n"
    lines: list[str] = []
    for addr in sorted(snap.resources):
        rec = snap.resources[addr]
        lines.append(f"# {addr}:")
        lines.append(f"{rec.kind} {json.dumps(addr.split('.', 1)[1])} {{")
        attrs = _redacted({"attributes": rec.attributes}, sensitive.get(addr, ()))["attributes"]
        width = max((len(k) for k in [*attrs, "status"]), default=0)
        lines.append(f"    {'status'.ljust(width)} = {json.dumps(rec.status)}" + ("  # tainted" if rec.tainted else ""))
        for k in sorted(attrs):
            v = attrs[k]
            if v is None:
                continue
            if isinstance(v, str) and "\n" in v.rstrip("\n"):
                lines.append(f"    {k.ljust(width)} = <<-EOT")
                lines.extend(f"        {line}" for line in v.rstrip("\n").split("\n"))
                lines.append("    EOT")
            else:
                lines.append(f"    {k.ljust(width)} = {json.dumps(v, sort_keys=True)}")
        for i, g in enumerate(rec.groups):
            p = g.placement
            acc = f" {p.accelerators}" if p.accelerators else ""
            lines.append(f"    # group {i}: {p.infra} {p.instance_type}{acc} {p.pricing} x{p.nodes} "
                         f"${p.hourly_cost:,.2f}/h")
            for inst in g.instances:
                lines.append(f"    #   {inst.id} ({inst.state})")
        lines.append("}")
        lines.append("")
    if snap.outputs:
        lines.append("Outputs:")
        lines.append("")
        for name, o in sorted(snap.outputs.items()):
            shown = "(sensitive value)" if o.get("sensitive") else format_value(o.get("value"))
            lines.append(f"{name} = {shown}")
    lines.append("")
    lines.append(f"(lineage {snap.lineage}, serial {snap.serial}; "
                 f"${sum(r.hourly_cost for r in snap.resources.values() if r.status in ('running', 'creating')):,.2f}/h)")
    return "\n".join(lines) + "\n"


def render_state_json(snap: Snapshot, sensitive: Mapping[str, tuple[str, ...]]) -> dict:
    resources = []
    for addr in sorted(snap.resources):
        data = _redacted(snap.resources[addr].to_json(), sensitive.get(addr, ()))
        data["sensitive_paths"] = list(sensitive.get(addr, ()))
        resources.append(data)
    return {
        "format_version": "1.0", "lineage": snap.lineage, "serial": snap.serial,
        "values": {
            "outputs": {k: {"sensitive": bool(v.get("sensitive")),
                            "value": None if v.get("sensitive") else v.get("value")}
                        for k, v in sorted(snap.outputs.items())},
            "resources": resources,
        },
    }

"""The drift report: JSON (schemas/drift.schema.json), Markdown and text. Pure.

``report_json`` is the machine form; the other two render from it, so all
three always say the same thing. Counts are per resource address (one item
per address and category); ``objects`` counts the nodes the providers
reported, and ``coverage`` is the share of those that state manages.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from skyplan.drift.classify import Refreshed

FORMAT_VERSION = "1.0"
CATEGORIES = ("changed", "missing", "unmanaged", "unhealthy")
MARKDOWN_LIMIT = 60_000  # GitHub comments stop at 65,536 characters

_VERB = {"changed": "has changed", "missing": "has been deleted", "unmanaged": "is not managed by skyplan",
         "unhealthy": "runs but does not pass its readiness probe"}
_SYMBOL = {"changed": "~", "missing": "-", "unmanaged": "?", "unhealthy": "!"}


def report_json(refreshed: Refreshed, *, timestamp: str = "", repair: Mapping[str, Any] | None = None) -> dict:
    """The drift report as plain JSON data (validated by schemas/drift.schema.json)."""
    counts = refreshed.counts()
    items = [{
        "address": d.address, "category": d.category, "provider": d.provider,
        "provider_ids": list(d.provider_ids), "paths": list(d.paths), "detail": d.detail,
        "before": _plain(d.before), "after": _plain(d.after),
    } for d in sorted(refreshed.drift, key=lambda d: (CATEGORIES.index(d.category), d.address))]
    out = {
        "format_version": FORMAT_VERSION,
        "lineage": refreshed.snapshot.lineage,
        "serial": refreshed.snapshot.serial,
        "timestamp": timestamp,
        "in_sync": refreshed.in_sync,
        "summary": {
            **{c: counts.get(c, 0) for c in CATEGORIES},
            "resources": len(refreshed.snapshot.resources),
            "objects": {"managed": refreshed.managed, "unmanaged": len(refreshed.unmanaged),
                        "total": refreshed.managed + len(refreshed.unmanaged)},
            "coverage": round(refreshed.coverage, 4),
        },
        "providers": list(refreshed.providers),
        "refresh_seconds": refreshed.seconds,
        "items": items,
    }
    if repair is not None:
        out["repair"] = dict(repair)
    return out


def _plain(value: Any) -> Any:
    return None if value is None else json.loads(json.dumps(value, default=str))


def _value(v: Any) -> str:
    if v is None:
        return "null"
    return json.dumps(v, default=str) if not isinstance(v, str) else json.dumps(v)


def _summary_line(data: Mapping[str, Any]) -> str:
    s = data["summary"]
    return (f"{s['changed']} changed, {s['missing']} missing, {s['unmanaged']} unmanaged; "
            f"coverage {s['coverage'] * 100:.0f}% ({s['objects']['managed']} of {s['objects']['total']} "
            f"object(s) managed)")


def _item_lines(item: Mapping[str, Any]) -> list[str]:
    """Body lines of one item (no header), plain text; the first carries its symbol."""
    symbol = _SYMBOL[item["category"]]
    lines: list[str] = []
    if item["category"] == "changed":
        before, after = item.get("before") or {}, item.get("after") or {}
        lines += [f"{symbol} {p}: {_value(before.get(p))} -> {_value(after.get(p))}" for p in item["paths"]]
        if item["detail"]:
            lines.append(f"  {item['detail']}")
    elif item["detail"]:
        lines.append(f"{symbol} {item['detail']}")
    ids = ", ".join(item["provider_ids"])
    where = f"{item['provider']}: {ids}" if item["provider"] and ids else (item["provider"] or ids)
    if where:
        lines.append(f"  ({where})")
    return lines


def _verb(item: Mapping[str, Any]) -> str:
    if item["category"] == "missing" and (item.get("after") or {}).get("nodes"):
        return "has lost nodes"
    return _VERB[item["category"]]


def render_text(data: Mapping[str, Any], *, markup: bool = False) -> str:
    """Terraform-like text; with ``markup`` the result is rich console markup."""
    from rich.markup import escape

    def m(text: str, style: str) -> str:
        return f"[{style}]{escape(text)}[/]" if markup else text

    def e(text: str) -> str:
        return escape(text) if markup else text

    if data["in_sync"]:
        return m("No drift: infrastructure matches the skyplan state.", "bold green") + "\n" + \
            e(_summary_line(data)) + "\n"
    out = [m("Objects have changed outside of skyplan", "bold"), "",
           e('skyplan detected the following changes made outside of skyplan since the last "skyplan apply":'), ""]
    colour = {"changed": "yellow", "missing": "red", "unmanaged": "magenta", "unhealthy": "red"}
    for item in data["items"]:
        cat = item["category"]
        out.append(m(f"  # {item['address']} {_verb(item)}", "bold"))
        for line in _item_lines(item):
            head, rest = line[:1], line[1:]
            out.append("  " + (m(head, colour[cat]) if head == _SYMBOL[cat] else e(head)) + e(rest))
        out.append("")
    out.append(m("Drift: ", "bold") + e(_summary_line(data)))
    repair = data.get("repair")
    if repair:
        out.append(e(f"Repair: {repair.get('summary', '')}"))
    return "\n".join(out) + "\n"


def render_markdown(data: Mapping[str, Any]) -> str:
    """A Markdown report for a scheduled run's issue or pull-request comment."""
    s = data["summary"]
    head = "## skyplan drift: in sync" if data["in_sync"] else \
        f"## skyplan drift: {s['changed'] + s['missing'] + s['unmanaged']} resource(s) drifted"
    out = [head, "", f"**{_summary_line(data)}**", "",
           f"State lineage `{data['lineage']}`, serial {data['serial']}"
           + (f", checked {data['timestamp']}" if data.get("timestamp") else "") + ".", ""]
    if not data["in_sync"]:
        out += ["| category | address | provider | ids | paths / detail |", "| --- | --- | --- | --- | --- |"]
        for item in data["items"]:
            ids = ", ".join(f"`{i}`" for i in item["provider_ids"][:5])
            if len(item["provider_ids"]) > 5:
                ids += f" (+{len(item['provider_ids']) - 5})"
            what = ", ".join(f"`{p}`" for p in item["paths"]) or _cell(item["detail"])
            out.append(f"| {item['category']} | `{item['address']}` | {item['provider']} | {ids} | {what} |")
        out.append("")
        changed = [i for i in data["items"] if i["category"] == "changed"]
        if changed:
            out += ["<details><summary>Changed attributes</summary>", "", "```diff"]
            for item in changed:
                out.append(f"# {item['address']}")
                out.extend(f"! {line[2:]}" if line.startswith("~ ") else f"# {line.strip()}"
                           for line in _item_lines(item))
            out += ["```", "", "</details>", ""]
    repair = data.get("repair")
    if repair:
        out += ["### Repair", "", _cell(repair.get("summary", "")), ""]
    text = "\n".join(out)
    if len(text) > MARKDOWN_LIMIT:
        cut = text[:MARKDOWN_LIMIT].rsplit("\n", 1)[0]
        text = cut + "\n\n_Report truncated; run `skyplan drift --json` for every item._\n"
    return text


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")

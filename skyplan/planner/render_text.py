"""The human plan, in Terraform's conventions: a symbol per action, a header
comment per resource, attribute diffs with ``# forces replacement``, hidden
unchanged attributes, a drift section, each workload's placement, the spread
over providers and the single-cloud comparison (render_cost), and the summary
line with the cost delta. Plain text; ANSI colour when asked."""

from __future__ import annotations

import json
from typing import Any, Mapping

from skyplan.addrs import Address
from skyplan.planner import attrs as A
from skyplan.planner.fleets import block_kept, wait_text
from skyplan.planner.held import held_lines
from skyplan.planner.model import Action, Change, Plan
from skyplan.planner.replicas import describe
from skyplan.planner.render_cost import comparison_lines, fleet_lines, spread_lines

HOURS_PER_MONTH = 730

# How the CLI colours each kind of line (rich styles), keyed by the line's mark.
STYLES = {"+": "green", "-": "red", "~": "yellow", "-/+": "red", "+/-": "green", "#": "bold"}

_HEADER = {
    Action.CREATE: "will be created",
    Action.UPDATE: "will be updated in-place",
    Action.DELETE_THEN_CREATE: "must be replaced",
    Action.CREATE_THEN_DELETE: "must be replaced",
    Action.DELETE: "will be destroyed",
}

_REASON_TEXT = {
    "delete_because_no_config": "because it is no longer in the configuration",
    "delete_because_not_bought": "because its workloads cost less bought directly (keep = true keeps it)",
    "delete_because_count_index": "because its count index is out of range",
    "delete_because_each_key": "because its for_each key is no longer in the map",
    "delete_because_destroy": "because this is a destroy plan",
    "delete_because_unmanaged": "because it carries this state's lineage but is not in state",
    "replace_by_request": "as requested with -replace",
    "replace_because_tainted": "because it is tainted",
    "replace_because_nodes_missing": "because some of its nodes are gone",
    "replace_because_placement_changed": "because its placement changed",
    "replace_because_missing": "because all of its nodes are gone",
    "replace_because_failed": "because it failed",
    "create_because_create_failed": "because its last create failed with nothing launched",
    "adopt_unmanaged": "to adopt nodes found running with this state's lineage",
    "create_network_for_placement": "created if missing; one that already exists is used and kept",
    "delete_because_unused": "because no node needs it any more",
    "forget_because_not_created": "skyplan did not create it, so it is kept in the cloud",
    "delete_unmanaged_nodes": "to delete nodes carrying its address and this state's lineage that state does not hold",
    "update_because_default_tags": "because its provider's default_tags changed",
}


def money(x: float) -> str:
    return f"${x:,.2f}"


def cost_line(plan: Plan, arrow: str = "->") -> str:
    """The hourly rate before and after, and the estimated total over the workloads'
    durations (jobs: their duration_hours; services: 730 h a month), as optimize prints it."""
    return (f"Cost: {money(plan.cost_before)}/h {arrow} {money(plan.cost_after)}/h; "
            f"estimated {money(plan.estimated_before)} {arrow} {money(plan.estimated_after)} over the workloads' "
            f"durations (services: {HOURS_PER_MONTH} h/month).")


def price_notes(catalog: Mapping[str, Any]) -> list[str]:
    """How providers priced without a live read were priced, and which could not be
    (``catalog["providers"]`` / ``["unpriced"]``, see skyplan.inventory)."""
    unpriced = catalog.get("unpriced") or {}
    lines = [f"Prices: {n}" for k, n in (catalog.get("providers") or {}).items() if k not in unpriced]
    return lines + [f"Warning: {h}" for h in unpriced.values()]


def summary_line(plan: Plan) -> str:
    c = plan.counts()
    forget = sum(1 for x in plan.changes if x.forget)
    imported = sum(1 for x in plan.changes if x.import_id)
    also = (f", {imported} to import" if imported else "") + (f", {forget} to forget" if forget else "")
    return f"Plan: {c['add']} to add, {c['change']} to change, {c['destroy']} to destroy{also}. {cost_line(plan)}"


def _fmt(value: Any) -> str:
    if isinstance(value, str) and "\n" in value:
        return json.dumps(value)
    return json.dumps(value, sort_keys=True, default=str)


def _heredoc(w: "_Writer", pad: str, sym: str, name: str, before: str | None, after: str | None,
             suffix: str = "") -> None:
    """A multi-line string as Terraform shows it: a heredoc, line-diffed when changed."""
    import difflib

    w.add(f"{pad}{sym} {name} = <<-EOT", sym)
    inner = pad + "    "
    old = (before or "").rstrip("\n").split("\n") if before is not None else []
    new = (after or "").rstrip("\n").split("\n") if after is not None else []
    if before is None or after is None:
        for line in old or new:
            w.add(f"{inner}{line}")
    else:
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
            if op == "equal":
                for line in old[i1:i2]:
                    w.add(f"{inner}  {line}")
                continue
            for line in old[i1:i2]:
                w.add(f"{inner}- {line}", "-")
            for line in new[j1:j2]:
                w.add(f"{inner}+ {line}", "+")
    w.add(f"{pad}  EOT{suffix}")


def _multiline(v: Any) -> bool:
    return isinstance(v, str) and "\n" in v.rstrip("\n")


class _Writer:
    """Collects (mark, text) lines; the mark says how a terminal may colour the line."""

    def __init__(self):
        self.lines: list[tuple[str, str]] = []

    def add(self, text: str = "", symbol: str = "") -> None:
        self.lines.append((symbol.strip(), text))

    def extend(self, texts) -> None:
        self.lines.extend(("", t) for t in texts)


def _attr_lines(w: _Writer, indent: int, before: Mapping | None, after: Mapping | None, change: Change,
                path: tuple[str, ...] = ()) -> None:
    """Lines for one mapping level, Terraform style."""
    pad = " " * indent
    keys = sorted(set(before or {}) | set(after or {}))
    width = max((len(k) for k in keys), default=0)
    hidden = 0
    for key in keys:
        p = path + (key,)
        b = (before or {}).get(key)
        a = (after or {}).get(key)
        unknown = A.marked(change.after_unknown, p) and after is not None
        sens_b = A.marked(change.before_sensitive, p)
        sens_a = A.marked(change.after_sensitive, p)
        name = key.ljust(width)
        forces = "  # forces replacement" if any(p[: len(r)] == r for r in change.replace_paths) else ""
        bs = "(sensitive value)" if sens_b else _fmt(b)
        as_ = "(known after apply)" if unknown else "(sensitive value)" if sens_a else _fmt(a)
        if before is None:  # created
            if a is None and not unknown:
                continue
            if _multiline(a) and not sens_a and not unknown:
                _heredoc(w, pad, "+", name, None, a)
            elif isinstance(a, Mapping) and a and not sens_a:
                w.add(f"{pad}+ {name} = {{", "+")
                _attr_lines(w, indent + 4, None, a, change, p)
                w.add(f"{pad}  }}")
            else:
                w.add(f"{pad}+ {name} = {as_}", "+")
        elif after is None:  # destroyed
            if b is None:
                continue
            if _multiline(b) and not sens_b:
                _heredoc(w, pad, "-", name, b, None, " -> null")
                continue
            if isinstance(b, Mapping) and b and not sens_b:
                w.add(f"{pad}- {name} = {{", "-")
                _attr_lines(w, indent + 4, b, None, change, p)
                w.add(f"{pad}  }} -> null")
                continue
            w.add(f"{pad}- {name} = {bs} -> null", "-")
        elif b == a and not unknown:
            hidden += 1
        elif isinstance(a, Mapping) and isinstance(b, Mapping) and not (sens_a or sens_b):
            w.add(f"{pad}~ {name} = {{", "~")
            _attr_lines(w, indent + 4, b, a, change, p)
            w.add(f"{pad}  }}")
        elif (_multiline(a) or _multiline(b)) and isinstance(a, str) and isinstance(b, str) \
                and not (sens_a or sens_b or unknown):
            _heredoc(w, pad, "~", name, b, a, forces)
        elif b is None and isinstance(a, Mapping) and a and not (sens_a or unknown):
            w.add(f"{pad}+ {name} = {{{forces}", "+")
            _attr_lines(w, indent + 4, None, a, change, p)
            w.add(f"{pad}  }}")
        elif b is None:
            w.add(f"{pad}+ {name} = {as_}{forces}", "+")
        elif a is None and not unknown and isinstance(b, Mapping) and b and not sens_b:
            w.add(f"{pad}- {name} = {{{forces}", "-")
            _attr_lines(w, indent + 4, b, None, change, p)
            w.add(f"{pad}  }} -> null")
        elif a is None and not unknown:
            w.add(f"{pad}- {name} = {bs} -> null{forces}", "-")
        else:
            w.add(f"{pad}~ {name} = {bs} -> {as_}{forces}", "~")
    if hidden and before is not None and after is not None:
        noun = "attribute" if hidden == 1 else "attributes"
        w.add(f"{pad}  # ({hidden} unchanged {noun} hidden)")


def _placement_attrs(p: Mapping | None, i: int) -> dict:
    groups = (p or {}).get("groups") or []
    if i >= len(groups):
        return {}
    c = groups[i]["chosen"]
    return {k: c.get(k) for k in ("provider", "region", "zone", "instance_type", "pricing", "nodes", "fleet")
            if c.get(k) is not None}


def _resource(w: _Writer, c: Change) -> None:
    addr = c.address
    try:
        a = Address.parse(addr)
        label = f'{a.kind} "{a.name}"'
    except ValueError:
        label = addr
    header = _HEADER.get(c.action)
    if c.forget:
        w.add(f"  # {addr} will be removed from state (a removed block: it keeps running, "
              "skyplan no longer manages it)", "#")
        w.add()
        return
    if header is None and c.import_id:
        w.add(f"  # {addr} will be imported (id {c.import_id})", "#")
        w.add()
        return
    if header is None:
        if c.previous_address:
            w.add(f"  # {c.previous_address} has moved to {addr}", "#")
            w.add()
        return
    if c.reason == "forget_because_not_created":
        header = "will be removed from state"
    reason = _REASON_TEXT.get(c.reason or "")
    if c.relaunch_groups and c.placement is not None:
        reason = describe(c.relaunch_groups, len(c.placement.groups))
    moved = f" (moved from {c.previous_address})" if c.previous_address else ""
    moved += f" (imported from {c.import_id})" if c.import_id else ""
    w.add(f"  # {addr}{moved} {header}" + (f" ({reason})" if reason else ""), "#")
    kept = block_kept(c)
    if kept:
        w.add(f"  # {kept['message']}", "#")
    sym = c.action.symbol
    w.add(f"{sym.rjust(3)} {label} {{", sym)
    # default_tags are shown merged into tags_all, below
    before = {k: v for k, v in (c.before or {}).items() if k not in ("placement", "default_tags")} \
        if c.before is not None else None
    after = {k: v for k, v in (c.after or {}).items() if k not in ("placement", "default_tags")} \
        if c.after is not None else None
    if c.action.is_replace:
        before_shown = before
    else:
        before_shown = before if c.action is not Action.CREATE else None
    if c.tags_before or c.tags_after:  # what the object carries: its tags over default_tags
        if before_shown is not None:
            before_shown = {**before_shown, "tags_all": dict(c.tags_before or {}) or None}
        if after is not None:
            after = {**after, "tags_all": dict(c.tags_after or {}) or None}
    _attr_lines(w, 6, before_shown, after if c.action is not Action.DELETE else None, c)
    bp, ap = (c.before or {}).get("placement"), (c.after or {}).get("placement")
    n = max(len((bp or {}).get("groups") or []), len((ap or {}).get("groups") or []))
    for i in range(n):
        pb = _placement_attrs(bp, i) if c.action is not Action.CREATE else None
        pa = _placement_attrs(ap, i) if c.action is not Action.DELETE else None
        if pb == {}:
            pb = None if c.action is not Action.DELETE else {}
        if pa == {}:
            pa = None
        if pb is None and pa is None:
            continue
        sub = Change(address=c.address, action=c.action,
                     replace_paths=(((),) if ("placement",) in c.replace_paths else ()))
        title = "placement" if n == 1 else f"placement[{i}]"
        mark = "+" if pb is None else "-" if pa is None else ("~" if pb != pa else " ")
        if mark == " ":
            w.add(f"        # ({title} unchanged)")
            continue
        w.add(f"      {mark} {title} {{", mark)
        _attr_lines(w, 10, pb, pa, sub)
        w.add("        }")
    if c.after_unknown or c.action in (Action.CREATE,) or c.action.is_replace:
        if c.action is not Action.DELETE and c.kind == "network":  # a provider's network piece has no nodes
            w.add("      + created        = (known after apply)", "+")
            w.add("      + id             = (known after apply)", "+")
        elif c.action is not Action.DELETE:
            w.add("      + instances = (known after apply)", "+")
    w.add("    }")
    w.add()


def placement_lines(plan: Plan) -> list[str]:
    """One line per node group of every created, updated or replaced workload."""
    out: list[str] = []
    for c in plan.changes:
        if c.placement is None or c.action in (Action.DELETE, Action.NOOP):
            continue
        for i, g in enumerate(c.placement.groups):
            p = g.chosen
            name = c.address if len(c.placement.groups) == 1 else f"{c.address} group {i}"
            acc = f" {p.accelerators}" if p.accelerators else ""
            kept = " (kept)" if c.placement.kept else ""
            fall = f", {len(g.fallbacks)} fallback(s)" if g.fallbacks else ""
            wait = f", {wait_text({'fleet': p.fleet, 'starts_at': p.starts_at})}" if p.starts_at and p.fleet else ""
            out.append(f"  {name}: {p.infra} {p.instance_type}{acc} {p.pricing} x{p.nodes} "
                       f"{money(p.hourly_cost)}/h{kept}{fall}{wait}")
    return out


def drift_lines(plan: Plan) -> list[str]:
    out: list[str] = []
    for d in plan.drift:
        what = {"missing": "is missing", "changed": "has changed", "unmanaged": "is not managed by skyplan"}
        text = f"  # {d.address} {what.get(d.category, d.category)}"
        if d.provider:
            text += f" on {d.provider}"
        if d.provider_ids:
            text += f" ({', '.join(d.provider_ids)})"
        out.append(text)
        if d.paths:
            out.append(f"      changed: {', '.join(d.paths)}")
        if d.detail:
            out.append(f"      {d.detail}")
    return out


_ANSI = {"green": "32", "red": "31", "yellow": "33", "bold": "1"}


def render_text(plan: Plan, *, color: bool = False) -> str:
    """The human plan as plain text (with ANSI colours when ``color``)."""
    lines = []
    for mark, text in render_lines(plan):
        code = _ANSI.get(STYLES.get(mark, "")) if color else None
        lines.append(f"\x1b[{code}m{text}\x1b[0m" if code else text)
    return "\n".join(lines) + "\n"


def render_lines(plan: Plan) -> list[tuple[str, str]]:
    """The human plan as (mark, text) lines; marks are keys of STYLES; the policy
    results (skyplan.policy) close it."""
    lines = _plan_lines(plan)
    if plan.policy_results:
        from skyplan.policy.check import render_results

        marks = {"✓": "+", "!": "~", "✗": "-"}
        lines.append(("", ""))
        for text in render_results(plan.policy_results):
            lines.append((marks.get(text.strip()[:1], "#" if text.startswith("Policies") else ""), text))
    return lines


def _deadlines(w: "_Writer", plan: Plan) -> None:
    from skyplan.planner.render_deadline import deadline_lines

    due = deadline_lines(plan)
    if due:
        w.add("Deadlines:")
        w.extend(due)
        w.add()


def _plan_lines(plan: Plan) -> list[tuple[str, str]]:
    w = _Writer()
    if plan.drift:
        w.add("Note: Objects have changed outside of skyplan", "#")
        w.add()
        w.add("skyplan detected the following changes made outside of skyplan since the last \"skyplan apply\":")
        w.add()
        for line in drift_lines(plan):
            w.add(line)
        w.add()
    acting = [c for c in plan.changes if c.action is not Action.NOOP or c.previous_address or c.forget
              or c.import_id]
    outputs = {k: v for k, v in plan.output_changes.items() if v.get("actions") != ["no-op"]}
    if plan.options.get("refresh_only"):
        if not plan.drift:
            w.add("No changes. Your infrastructure still matches the configuration.")
        else:
            w.add("This is a refresh-only plan: applying it records the changes above in state and changes "
                  "no infrastructure.")
        return w.lines
    if not acting and not outputs and plan.options.get("destroy"):
        w.add("No changes. No objects need to be destroyed.")
        w.add()
        w.add("Either nothing has been created yet, or what was created is already gone.")
        return w.lines
    held = held_lines(plan.changes)
    if not acting and not outputs:
        w.add("No changes. Your infrastructure matches the configuration." if not held else
              "No changes that can be made now.")
        w.add()
        if held:
            w.extend(f"Held: {line}" for line in held)
            w.add()
        _deadlines(w, plan)
        w.add(f"skyplan has compared your configuration with state and found no differences. {cost_line(plan)}"
              if not held else cost_line(plan))
        for line in price_notes(plan.catalog):
            w.add(line)
        return w.lines
    used = sorted({c.action for c in acting}, key=lambda a: list(Action).index(a))
    if acting:
        w.add("Resource actions are indicated with the following symbols:")
        legend = {Action.CREATE: "create", Action.UPDATE: "update in-place",
                  Action.DELETE_THEN_CREATE: "destroy and then create replacement",
                  Action.CREATE_THEN_DELETE: "create replacement and then destroy", Action.DELETE: "destroy"}
        for a in used:
            if a in legend:
                w.add(f"{a.symbol.rjust(3)} {legend[a]}", a.symbol)
        w.add()
        w.add("skyplan will perform the following actions:")
        w.add()
        for c in acting:
            _resource(w, c)
    if outputs:
        w.add("Changes to Outputs:")
        for name, oc in outputs.items():
            act = oc["actions"]
            after = ("(known after apply)" if oc.get("after_unknown") else
                     "(sensitive value)" if oc.get("after_sensitive") else _fmt(oc.get("after")))
            before = "(sensitive value)" if oc.get("before_sensitive") else _fmt(oc.get("before"))
            if act == ["create"]:
                w.add(f"  + {name} = {after}", "+")
            elif act == ["delete"]:
                w.add(f"  - {name} = {before} -> null", "-")
            else:
                w.add(f"  ~ {name} = {before} -> {after}", "~")
        w.add()
    lines = placement_lines(plan)
    if lines:
        w.add("Placements:")
        w.extend(lines)
        w.add()
    _deadlines(w, plan)
    spread = spread_lines(plan)
    if spread:
        w.add("Spread across providers:")
        w.extend(spread)
        w.add()
    compared = comparison_lines(plan)
    if compared:
        w.extend(compared)
    notes = price_notes(plan.catalog)
    if notes:
        w.extend(notes)
        w.add()
    fleets = fleet_lines(plan)
    if fleets:
        w.add("Fleets:")
        w.extend(fleets)
        w.add()
    if held:
        w.extend(f"Held: {line}" for line in held)
        w.add()
    w.add(summary_line(plan), "#")
    for key, flag, what in (("targets", "-target", "targeting"), ("excludes", "-exclude", "exclusion")):
        if plan.options.get(key):
            w.add()
            w.add(f"Warning: Resource {what} is in effect", "#")
            w.add()
            w.add(f"This plan was made with {flag}, so it may not show every change the configuration asks for;")
            w.add(f"run `skyplan plan` without {flag} to see them all.")
    return w.lines

"""The pull-request comment: a title with the summary, a table of changed
workloads (action, placement before -> after, $/h before -> after), the cost
before -> after (hourly, and estimated over the workloads' durations), a warning when anything is destroyed or replaced, and the full human
plan folded in ``<details>`` as a ``diff`` block. Never longer than GitHub's
65,536-character comment limit: the plan block keeps its head and tail and says
how much was cut, and every fence and tag it opens is closed."""

from __future__ import annotations

from skyplan.planner.model import Action, Change, Plan
from skyplan.planner.render_text import cost_line, money, render_text, summary_line
from skyplan.planner.render_cost import groups_text, spread_rows, verdict

MAX_CHARS = 65_536
MARKER = "<!-- skyplan-plan -->"

_ACTION_WORD = {
    Action.CREATE: "create", Action.UPDATE: "update", Action.DELETE_THEN_CREATE: "replace",
    Action.CREATE_THEN_DELETE: "replace", Action.DELETE: "destroy",
}


# Network pieces (planner.networks): what the reason means for the cloud.
_NETWORK_REASONS = {
    "create_network_for_placement": "created if missing",
    "delete_because_unused": "no node needs it",
    "forget_because_not_created": "forgotten; kept in the cloud: skyplan did not create it",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _where(c: Change, after: bool) -> str:
    if c.kind == "network":  # a provider's network piece: its provider and region
        attrs = (c.after if after else c.before) or {}
        return f"{attrs['provider']}/{attrs['region']}" if attrs.get("provider") and attrs.get("region") else "—"
    if after:
        if c.action is Action.DELETE or c.placement is None:
            return "—"
        ps = [g.chosen for g in c.placement.groups]
    else:
        if c.prior is None or not c.prior.groups:
            return "—"
        ps = [g.placement for g in c.prior.groups]
    first = ps[0]
    text = f"{first.infra} {first.instance_type} {first.pricing}"
    if len(ps) > 1:
        text += f" (+{len(ps) - 1} group{'s' if len(ps) > 2 else ''})"
    return text


def _cost(c: Change, after: bool) -> str:
    if after:
        return "—" if c.action is Action.DELETE or c.placement is None else money(c.placement.hourly_cost)
    return money(c.prior.hourly_cost) if c.prior is not None and c.prior.groups else "—"


def _table(plan: Plan) -> list[str]:
    rows = [c for c in plan.changes if c.action is not Action.NOOP]
    if not rows:
        return []
    out = ["| | address | action | placement | $/h |", "|---|---|---|---|---|"]
    for c in rows:
        sym = c.action.symbol.strip()
        before, after = _where(c, False), _where(c, True)
        where = after if before == "—" else before if after == "—" else (
            before if before == after else f"{before} → {after}")
        cb, ca = _cost(c, False), _cost(c, True)
        cost = ca if cb == "—" else cb if ca == "—" else (cb if cb == ca else f"{cb} → {ca}")
        reason = f" ({_NETWORK_REASONS.get(c.reason) or c.reason.replace('_', ' ')})" if c.reason else ""
        out.append(f"| `{sym}` | `{_cell(c.address)}` | {_ACTION_WORD[c.action]}{_cell(reason)} | "
                   f"{_cell(where)} | {cost} |")
    return out


def _fence(text: str) -> str:
    """A backtick fence longer than any run of backticks inside ``text``."""
    longest, run = 0, 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


def _truncate(body: str, budget: int) -> str:
    """Keep the head and tail lines of ``body`` within ``budget`` characters."""
    if len(body) <= budget:
        return body
    lines = body.splitlines()
    note_len = 120
    keep = max(budget - note_len, 0)
    head: list[str] = []
    tail: list[str] = []
    size_h = size_t = 0
    i, j = 0, len(lines) - 1
    while i <= j:
        if size_h <= size_t:
            if size_h + size_t + len(lines[i]) + 1 > keep:
                break
            head.append(lines[i])
            size_h += len(lines[i]) + 1
            i += 1
        else:
            if size_h + size_t + len(lines[j]) + 1 > keep:
                break
            tail.insert(0, lines[j])
            size_t += len(lines[j]) + 1
            j -= 1
    cut_lines = j - i + 1
    cut_chars = sum(len(x) + 1 for x in lines[i:j + 1])
    note = f"... {cut_lines} lines ({cut_chars:,} characters) cut to fit the comment limit; " \
           f"run `skyplan plan` for the full plan ..."
    return "\n".join(head + [note] + tail)


POLICY_MARKS = {"pass": "✅ pass", "warn": "⚠️ warn", "fail": "❌ fail"}
MAX_VIOLATIONS = 20  # shown in the comment; every one is in the text plan and the JSON


def _policy_rows(plan: Plan) -> list[str]:
    """The policy results as a table, then the first violations."""
    if not plan.policy_results:
        return []
    out = ["| policy | enforcement | result | violations |", "| --- | --- | --- | --- |"]
    for r in plan.policy_results:
        out.append(f"| {_cell(r['policy'])} | {r['enforcement']} | {POLICY_MARKS[r['status']]} | {len(r['violations'])} |")
    out.append("")
    shown = [(r["policy"], v) for r in plan.policy_results for v in r["violations"]]
    for name, v in shown[:MAX_VIOLATIONS]:
        out.append(f"- **{_cell(name)}**: {_cell(v['message'])}")
    if len(shown) > MAX_VIOLATIONS:
        out.append(f"- … and {len(shown) - MAX_VIOLATIONS} more (see the full plan)")
    if shown:
        out.append("")
    return out


def render_markdown(plan: Plan, *, max_chars: int = MAX_CHARS, title: str = "skyplan plan") -> str:
    counts = plan.counts()
    head: list[str] = [MARKER]
    if not plan.has_changes and not plan.drift:
        head.append(f"### {title}: no changes")
        head.append("")
        head.append("No changes. Your infrastructure matches the configuration.")
    else:
        head.append(f"### {title}: {counts['add']} to add, {counts['change']} to change, "
                    f"{counts['destroy']} to destroy")
        head.append("")
        head.append(f"**{summary_line(plan)}**")
    head.append("")
    delta = plan.estimated_after - plan.estimated_before
    head.append(f"{cost_line(plan, '→')[:-1]}: {'-' if delta < 0 else '+'}{money(abs(delta))}")
    head.append("")
    spread = spread_rows(plan)
    if len({r["provider"] for r in spread}) > 1:
        head.append("Spread across providers: " + ", ".join(
            f"{r['provider']}{' (' + r['fleet'] + ')' if r.get('fleet') else ''} "
            f"{groups_text(r['groups'])} {money(r['hourly_cost'])}/h" for r in spread))
        head.append("")
    if plan.solver.get("single_cloud"):
        head.append(f"**{verdict(plan.solver['single_cloud'])}**")
        head.append("")
    destroyed = [c.address for c in plan.changes if c.action is Action.DELETE]
    replaced = [c.address for c in plan.changes if c.action.is_replace]
    if destroyed or replaced:
        head.append("> [!WARNING]")
        if destroyed:
            head.append(f"> This plan **destroys** {len(destroyed)} resource(s): "
                        + ", ".join(f"`{a}`" for a in destroyed[:20]) + (" …" if len(destroyed) > 20 else ""))
        if destroyed and replaced:
            head.append(">")
        if replaced:
            head.append(f"> This plan **replaces** {len(replaced)} resource(s): "
                        + ", ".join(f"`{a}`" for a in replaced[:20]) + (" …" if len(replaced) > 20 else ""))
        head.append("")
    head.extend(_policy_rows(plan))
    if plan.drift:
        head.append(f"> [!NOTE]\n> {len(plan.drift)} object(s) changed outside of skyplan (see the plan below).")
        head.append("")
    table = _table(plan)
    text = render_text(plan, color=False)
    fence = _fence(text)
    open_block = ["<details><summary>Show the full plan</summary>", "", f"{fence}diff"]
    close_block = [fence, "", "</details>", ""]
    fixed = "\n".join(head) + "\n" + "\n".join(open_block) + "\n" + "\n".join(close_block)
    # The table gets up to a third of the budget; the plan block the rest.
    table_text = ""
    if table:
        table_budget = max_chars // 3
        table_text = "\n".join(table) + "\n\n"
        if len(table_text) > table_budget:
            kept, size = [], 0
            for row in table:
                if size + len(row) + 1 > table_budget - 100:
                    break
                kept.append(row)
                size += len(row) + 1
            table_text = "\n".join(kept) + f"\n\n_{len(table) - len(kept)} more rows not shown._\n\n"
    budget = max_chars - len(fixed) - len(table_text) - 1
    body = _truncate(_diff_body(text), max(budget, 0))
    doc = ("\n".join(head) + "\n" + table_text + "\n".join(open_block) + "\n" + body + "\n"
           + "\n".join(close_block))
    return doc


def _diff_body(text: str) -> str:
    """The human plan as a diff block: each line's ``+``/``-``/``~`` sign moves to
    column 0 (``~`` as ``!``) so GitHub colours it; replacements stay as they are."""
    out = []
    for line in text.rstrip("\n").splitlines():
        stripped = line.lstrip(" ")
        pad = line[: len(line) - len(stripped)]
        if stripped[:1] in ("+", "-", "~") and not stripped.startswith(("+/-", "-/+")):
            sign = "!" if stripped[0] == "~" else stripped[0]
            out.append(sign + pad + stripped[1:])
        else:
            out.append(line)
    return "\n".join(out)

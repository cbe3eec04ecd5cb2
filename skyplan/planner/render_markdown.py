"""The pull-request comment for one project: a hidden marker (CI finds and updates
the comment by it), a title with the project folder and the summary line, the
cost before -> after and the monthly change with its sign and percentage, a
warning when anything is destroyed or replaced (and that a Capacity Block
destroyed stays billed), a note per workload waiting for a Capacity Block to
start, the policy results, a cost table
per changed address (address | action | placement before -> after | $/h before
-> after | monthly delta, at 730 h a month), then folded in ``<details>`` the
full human plan as a ``diff`` block and the drift found during refresh.

Never longer than ``max_chars`` (GitHub's 65,536-character comment limit): the
folded blocks are cut first (head and tail kept, the cut said), then the cost
table; every fence and tag opened is closed. Several projects in one comment:
planner/render_comment.py."""

from __future__ import annotations

from skyplan.planner.fleets import block_kept, wait_text, waits_for
from skyplan.planner.model import Action, Change, Plan
from skyplan.planner.replicas import describe
from skyplan.planner.render_text import HOURS_PER_MONTH, cost_line, drift_lines, money, render_text, summary_line
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


def _hourly(c: Change, after: bool) -> float | None:
    """The change's $/h on one side (None: nothing runs there)."""
    if after:
        return None if c.action is Action.DELETE or c.placement is None else c.placement.hourly_cost
    return c.prior.hourly_cost if c.prior is not None and c.prior.groups else None


def _arrow(before: str, after: str) -> str:
    return after if before == "—" else f"{before} → —" if after == "—" else (
        before if before == after else f"{before} → {after}")


def signed(x: float) -> str:
    return f"{'-' if x < 0 else '+'}{money(abs(x))}"


def monthly_change(plan: Plan) -> str:
    """The total monthly change with its sign and percentage (730 h a month)."""
    before, after = plan.cost_before * HOURS_PER_MONTH, plan.cost_after * HOURS_PER_MONTH
    pct = f" ({'+' if after >= before else '-'}{abs(after - before) / before * 100:.1f}%)" if before else (
        " (new)" if after else "")
    return (f"**Monthly change: {signed(after - before)}{pct}** "
            f"({money(before)} → {money(after)} a month at {HOURS_PER_MONTH} h)")


TABLE_HEAD = ["| address | action | placement before → after | $/h before → after | monthly delta |",
              "| --- | --- | --- | --- | --- |"]


def _table(plan: Plan) -> list[str]:
    rows = [c for c in plan.changes if c.action is not Action.NOOP]
    if not rows:
        return []
    out = list(TABLE_HEAD)
    for c in rows:
        where = _arrow(_where(c, False), _where(c, True))
        hb, ha = _hourly(c, False), _hourly(c, True)
        cost = _arrow("—" if hb is None else money(hb), "—" if ha is None else money(ha))
        delta = ((ha or 0.0) - (hb or 0.0)) * HOURS_PER_MONTH
        reason = f" ({_NETWORK_REASONS.get(c.reason) or c.reason.replace('_', ' ')})" if c.reason else ""
        if c.relaunch_groups and c.placement is not None:
            reason = f" ({describe(c.relaunch_groups, len(c.placement.groups))})"
        out.append(f"| `{_cell(c.address)}` | `{c.action.symbol.strip()}` {_ACTION_WORD[c.action]}{_cell(reason)} | "
                   f"{_cell(where)} | {cost} | {signed(delta)} |")
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


def _details(summary: str, text: str, budget: int) -> str:
    """A folded ``diff`` block of ``text`` within ``budget`` characters (cut when it
    must, saying so), or "" when not even the frame fits."""
    fence = _fence(text)
    frame = f"<details><summary>{summary}</summary>\n\n{fence}diff\n" + "{body}" + f"\n{fence}\n\n</details>\n"
    room = budget - len(frame) + len("{body}")
    if room < 200:
        return ""
    return frame.replace("{body}", _truncate(text, room))


def _head(plan: Plan, title: str) -> list[str]:
    counts = plan.counts()
    head: list[str] = []
    if not plan.has_changes and not plan.drift:
        head.append(f"### {title}: no changes")
        head.append("")
        head.append("No changes. Your infrastructure matches the configuration.")
    else:
        head.append(f"### {title}: {counts['add']} to add, {counts['change']} to change, "
                    f"{counts['destroy']} to destroy")
        head.append("")
        head.append(f"**{_cell(summary_line(plan))}**")
    head.append("")
    delta = plan.estimated_after - plan.estimated_before
    head.append(f"{cost_line(plan, '→')[:-1]}: {signed(delta)}")
    head.append("")
    head.append(monthly_change(plan))
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
        for c in plan.changes:
            kept = block_kept(c)
            if kept:
                head.append(">")
                head.append(f"> `{_cell(c.address)}`: {_cell(kept['message'])}")
        head.append("")
    waits = [(c.address, w) for c in plan.changes for w in (waits_for(c),) if w]
    if waits:
        head.append("> [!NOTE]")
        head.extend(f"> `{_cell(a)}` {wait_text(w)}" + ("" if i == len(waits) - 1 else "  ")
                    for i, (a, w) in enumerate(waits))
        head.append("")
    head.extend(_policy_rows(plan))
    if plan.drift:
        head.append(f"> [!NOTE]\n> {len(plan.drift)} object(s) changed outside of skyplan (see Drift below).")
        head.append("")
    return head


def render_markdown(plan: Plan, *, max_chars: int = MAX_CHARS, title: str = "skyplan plan",
                    project: str | None = None, marker: bool = True) -> str:
    """The comment (or, without ``marker``, one project's section of it)."""
    if project:
        title = f"{title} in `{_cell(project)}`"
    head = "\n".join(([MARKER] if marker else []) + _head(plan, title)) + "\n"
    table = _table(plan)
    table_text = "\n".join(table) + "\n\n" if table else ""
    budget = max_chars - len(head)
    reserve = max(700, min(8_000, budget // 8))  # room kept for the (cut) plan block's head and tail
    if len(table_text) > budget - reserve:  # the table must fit beside it: shorten the table
        kept, size, room = [], 0, max(budget - reserve - 100, 0)
        for row in table:
            if size + len(row) + 1 > room:
                break
            kept.append(row)
            size += len(row) + 1
        rest = len(table) - len(kept)
        table_text = ("\n".join(kept) + f"\n\n_{rest} more rows not shown (see the full plan)._\n\n"
                      if len(kept) > 2 else f"_The cost table ({len(table) - 2} rows) is not shown to fit the comment limit._\n\n")
    budget -= len(table_text)
    drift = "\n".join(drift_lines(plan)) if plan.drift else ""
    drift_budget = max(150, min(len(drift) + 400, budget // 4)) if drift else 0  # 150: room for its note
    plan_block = _details("Show the full plan", _diff_body(render_text(plan, color=False)), budget - drift_budget)
    if not plan_block:
        plan_block = "_The full plan is not shown to fit the comment limit; run `skyplan plan` for it._\n"
    drift_block = _details(f"Drift found during refresh ({len(plan.drift)})", drift,
                           budget - len(plan_block)) if drift else ""
    if drift and not drift_block:
        drift_block = "_The drift found during refresh is not shown to fit the comment limit; run `skyplan drift`._\n"
    doc = head + table_text + plan_block + ("\n" + drift_block if drift_block else "")
    if len(doc) > max_chars:  # not even the head fits: keep what does, whole lines
        doc = doc[:max_chars - 80].rsplit("\n", 1)[0] + "\n\n_Cut to fit the comment limit._\n"
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

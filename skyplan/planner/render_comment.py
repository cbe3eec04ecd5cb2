"""One pull-request comment for several projects (``skyplan plan --format markdown
dir1 dir2 ...``, as a monorepo needs): the marker, an overall summary ("3 projects,
2 with changes, 1 failed"), a table of the projects, then a section per project —
its plan rendered by planner/render_markdown.py, or, for a folder that could not be
planned, its error message. The comment limit is shared out between the sections,
so the whole stays within it."""

from __future__ import annotations

from dataclasses import dataclass

from skyplan.planner.model import Plan
from skyplan.planner.render_markdown import MARKER, MAX_CHARS, _cell, _fence, _truncate, render_markdown, signed
from skyplan.planner.render_text import HOURS_PER_MONTH


@dataclass(frozen=True)
class Project:
    """A folder of the run: its plan, or the error that stopped planning it."""

    name: str
    plan: Plan | None = None
    error: str = ""

    @property
    def failed(self) -> bool:
        return self.plan is None


def overall_summary(projects: list[Project]) -> str:
    n = len(projects)
    changed = sum(1 for p in projects if p.plan is not None and (p.plan.has_changes or p.plan.drift))
    failed = sum(1 for p in projects if p.failed)
    return f"{n} project{'s' if n != 1 else ''}, {changed} with changes, {failed} failed"


def _status(p: Project) -> tuple[str, str]:
    if p.plan is None:
        return "❌ failed", "—"
    c = p.plan.counts()
    text = (f"{c['add']} to add, {c['change']} to change, {c['destroy']} to destroy"
            if p.plan.has_changes else "no changes")
    return text, signed((p.plan.cost_after - p.plan.cost_before) * HOURS_PER_MONTH)


def _failed_section(p: Project, budget: int) -> str:
    body = _truncate(p.error, max(budget - 200, 100))
    fence = _fence(body)
    return (f"### skyplan plan in `{_cell(p.name)}`: failed\n\n"
            f"This project could not be planned:\n\n{fence}text\n{body}\n{fence}\n")


def render_failed(project: Project) -> str:
    """The comment for one folder that could not be planned: the marker and its error."""
    return f"{MARKER}\n" + _failed_section(project, MAX_CHARS - len(MARKER) - 1)


def render_comment(projects: list[Project], *, max_chars: int = MAX_CHARS) -> str:
    head = [MARKER, f"## skyplan plan: {overall_summary(projects)}", "",
            "| project | result | monthly change |", "| --- | --- | --- |"]
    for p in projects:
        result, monthly = _status(p)
        head.append(f"| `{_cell(p.name)}` | {result} | {monthly} |")
    head.append("")
    doc = "\n".join(head) + "\n"
    if len(doc) > max_chars // 2:  # very many projects: the summary table gives way first
        doc = "\n".join(head[:2]) + "\n\n"
    sep = "\n---\n\n"
    remaining = max_chars - len(doc)
    sections = []
    for i, p in enumerate(projects):
        budget = remaining // (len(projects) - i) - len(sep)
        if budget < 300:
            sections.append(f"_{len(projects) - i} more project(s) not shown to fit the comment limit._\n")
            break
        text = (_failed_section(p, budget) if p.plan is None
                else render_markdown(p.plan, max_chars=budget, project=p.name, marker=False))
        text = text if len(text) <= budget else text[:budget - 60].rsplit("\n", 1)[0] + "\n\n_Cut._\n"
        sections.append(text)
        remaining -= len(text) + len(sep)
    return doc + sep.join(sections)

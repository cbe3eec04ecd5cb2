"""Decomposition: the model's classes split into components that share no
constraint, each answered on its own.

Two classes are coupled when an option of each uses the same capacity row
(quota, fleet, cluster node or pool), when one is colocated with the other, or
when an egress term joins them; a budget couples every class, a group budget
(a capacity row in $/h) the classes of the workloads it covers. The model's
optimum is then the union of each component's optimum, since no constraint
and no objective term spans two components. Without a budget, a component of
one class with one group is answered in closed form: the option of least objective (cost, tie
rank, minus the stability bonus of its current option) whose usage fits every
row. Every other component is its own small model (skyplan.solver.mip).

Infeasibility is decided per component as well; the elastic model is solved
for the infeasible ones only, which is what the whole elastic model would give
there (its slacks elsewhere are zero), so explanations are unchanged.
"""

from __future__ import annotations

import time
from dataclasses import replace

from skyplan.solver.mip import TIE_EPS, MipInput, MipResult, solve_mip


def components(inp: MipInput) -> list[list[int]]:
    """Class indexes per component, each component in class order, in order of
    its first class."""
    n = len(inp.classes)
    if n == 0:
        return []
    if inp.budget is not None:
        return [list(range(n))]
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    owner: dict[int, int] = {}  # row -> first class using it
    for ci, c in enumerate(inp.classes):
        for usage in c.usage:
            for row, _ in usage:
                first = owner.setdefault(row, ci)
                if first != ci:
                    union(first, ci)
    for a, b in inp.colocate:
        union(a, b)
    for a, b, _ in inp.egress:
        union(a, b)
    groups: dict[int, list[int]] = {}
    for ci in range(n):
        groups.setdefault(find(ci), []).append(ci)
    return [groups[r] for r in sorted(groups)]


def _closed(inp: MipInput, ci: int) -> MipResult:
    """One class of one group alone in its component: the best option that fits."""
    c = inp.classes[ci]
    best, value = None, 0.0
    for oi, usage in enumerate(c.usage):
        if any(amount > inp.limits[row] + 1e-9 for row, amount in usage):
            continue
        v = c.costs[oi] + TIE_EPS * oi - (c.bonus[oi][0] if oi in c.bonus and c.bonus[oi][1] >= 1 else 0.0)
        if best is None or v < value - 1e-12:
            best, value = oi, v
    if best is None:
        return MipResult([], "infeasible", backend="closed-form")
    counts = [0] * len(c.costs)
    counts[best] = 1
    return MipResult([counts], "optimal", value, value, backend="closed-form")


def _part(inp: MipInput, members: list[int]) -> MipInput:
    local = {ci: i for i, ci in enumerate(members)}
    return replace(inp, classes=[inp.classes[ci] for ci in members],
                   colocate=[(local[a], local[b]) for a, b in inp.colocate if a in local],
                   egress=[(local[a], local[b], gb) for a, b, gb in inp.egress if a in local])


def solve_parts(inp: MipInput, time_limit: float, backend: str | None = None
                ) -> tuple[MipResult, list[tuple[list[int], MipInput]]]:
    """Solve every component; the combined result (counts in class order) and
    the infeasible components with their inputs (to explain)."""
    deadline = time.perf_counter() + time_limit
    counts: list[list[int] | None] = [None] * len(inp.classes)
    status, objective, bound, used = "optimal", 0.0, 0.0, ""
    infeasible: list[tuple[list[int], MipInput]] = []
    for members in components(inp):
        if len(members) == 1 and inp.classes[members[0]].groups == 1 and inp.classes[members[0]].domains is None \
                and inp.budget is None:
            part = None
            result = _closed(inp, members[0])
        else:
            part = _part(inp, members)
            result = solve_mip(part, max(0.5, deadline - time.perf_counter()), backend=backend)
            used = used or result.backend
        if result.status == "infeasible":
            infeasible.append((members, part if part is not None else _part(inp, members)))
            continue
        if result.status == "unsolved":
            return MipResult([], "unsolved", backend=result.backend), []
        if result.status == "feasible":
            status = "feasible"
        objective += result.objective
        bound += result.bound
        for ci, row in zip(members, result.counts):
            counts[ci] = row
    if infeasible:
        return MipResult([], "infeasible", backend=used or "closed-form"), infeasible
    return MipResult([c or [] for c in counts], status, objective, bound, used or "closed-form"), []


def explain_parts(parts: list[tuple[list[int], MipInput]], time_limit: float, backend: str | None = None
                  ) -> tuple[list[int], MipResult]:
    """The elastic model of each infeasible component, combined: the classes (in
    the order of the counts) and one result with every slack."""
    order: list[int] = []
    counts: list[list[int]] = []
    slacks: dict[str, float] = {}
    for members, part in parts:
        elastic = solve_mip(part, time_limit, elastic=True, backend=backend)
        if not elastic.counts:
            continue
        order += members
        counts += elastic.counts
        for label, v in elastic.slacks.items():
            slacks[label] = max(slacks.get(label, 0.0), v)
    return order, MipResult(counts, "infeasible", slacks=slacks)

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
row (and, for a service with an on-demand base, whose pricing its spot row admits). Every other component is its own small model (skyplan.solver.mip).

A component whose classes, each at its own optimum with the shared rows left
out (``alone``: a greedy over per-group slots, exact for one class), fit every
row together is answered by those optima: they are optimal for a relaxation
and feasible. Without a budget, colocation or egress this answers most
components that share a quota with room to spare, without a model.

Infeasibility is decided per component as well; the elastic model is solved
for the infeasible ones only, which is what the whole elastic model would give
there (its slacks elsewhere are zero), so explanations are unchanged.

A component under caps in $/h (the plan's budget, group budgets) is explained
first by models that minimise $/h (``shortfalls``): each cap's least with the
caps left out (a cap below it is named with it, as a lower bound when there are
other caps), then, when each alone can be met, the least of all capped
workloads together against the caps' sum (named together). Only when neither
shows it is the elastic model solved: its objective is flat, and proving its
optimum can take the whole time limit (1,000 workloads under four team caps 3%
too low: 26 s at the limit, where this takes under 3 s).
"""

from __future__ import annotations

import time
from dataclasses import replace

from skyplan.solver.mip import LEAST_BUDGET, TIE_EPS, MipInput, MipResult, solve_mip


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
        if c.spot is not None and not c.spot_min <= int(c.spot[oi]) <= c.spot_max:
            continue  # the on-demand base (or the spot rest) decides the pricing of the one group
        v = c.costs[oi] + TIE_EPS * oi - (c.bonus[oi][0] if oi in c.bonus and c.bonus[oi][1] >= 1 else 0.0)
        if best is None or v < value - 1e-12:
            best, value = oi, v
    if best is None:
        return MipResult([], "infeasible", backend="closed-form")
    counts = [0] * len(c.costs)
    counts[best] = 1
    return MipResult([counts], "optimal", value, value, backend="closed-form")


def alone(c) -> tuple[list[int], float] | None:
    """The optimum of class ``c`` by itself, rows left out: counts per option and
    the objective; None when its spread cannot be met. Each group takes the
    cheapest slot left: an option at its cost (plus its tie rank), or, for as
    many groups as run there now, at its cost less the stability bonus; with a
    spread, every domain first gets its floor, then each further group goes to
    the domain whose next slot is cheapest among those below the cap. A class whose
    groups are counted on spot apart (a service's on-demand base) has a row of its
    own this leaves out: None."""
    if c.spot is not None:
        return None
    by_domain: dict[tuple, list[tuple[float, int, int]]] = {}
    for oi, cost in enumerate(c.costs):
        v = cost + TIE_EPS * oi
        d = c.domains[oi] if c.domains is not None else ()
        slots = by_domain.setdefault(d, [])
        slots.append((v, oi, c.groups))
        if oi in c.bonus and c.bonus[oi][1] >= 1:
            slots.append((v - c.bonus[oi][0], oi, min(c.groups, int(c.bonus[oi][1]))))
    counts = [0] * len(c.costs)
    value = 0.0
    taken = {d: 0 for d in by_domain}
    queues = {d: sorted(v) for d, v in by_domain.items()}

    def take(d) -> None:
        nonlocal value
        q = queues[d]
        v, oi, cap = q[0]
        counts[oi] += 1
        value += v
        taken[d] += 1
        q[0] = (v, oi, cap - 1)
        if cap - 1 == 0:
            q.pop(0)

    left = c.groups
    if c.domains is not None:
        for d in sorted(queues):
            for _ in range(c.spread_floor):
                if not queues[d] or left == 0:
                    return None
                take(d)
                left -= 1
    cap = c.spread_cap if c.domains is not None else c.groups
    for _ in range(left):
        open_ = [(queues[d][0][0], d) for d in queues if queues[d] and taken[d] < cap]
        if not open_:
            return None
        take(min(open_)[1])
    return counts, value


def _relaxed(inp: MipInput, members: list[int]) -> MipResult | None:
    """The component answered by each class's own optimum, when those fit every row together."""
    if inp.budget is not None or any(a in members for a, _ in inp.colocate) or \
            any(a in members or b in members for a, b, _ in inp.egress):
        return None
    totals: dict[int, float] = {}
    rows, value = [], 0.0
    for ci in members:
        c = inp.classes[ci]
        best = alone(c)
        if best is None:
            return None
        counts, v = best
        for oi, n in enumerate(counts):
            if n:
                for row, amount in c.usage[oi]:
                    totals[row] = totals.get(row, 0.0) + amount * n
        rows.append(counts)
        value += v
    if any(amount > inp.limits[row] + 1e-9 for row, amount in totals.items()):
        return None
    return MipResult(rows, "optimal", value, value, backend="closed-form")


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
    alone_classes: set[int] = set()
    for members in components(inp):
        if (result := _relaxed(inp, members)) is not None:
            part = None
            alone_classes.update(members)
        elif len(members) == 1 and inp.classes[members[0]].groups == 1 and inp.classes[members[0]].domains is None \
                and inp.classes[members[0]].spot is None and inp.budget is None:
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
    return MipResult([c or [] for c in counts], status, objective, bound, used or "closed-form",
                     alone=alone_classes), []


def explain_parts(parts: list[tuple[list[int], MipInput]], time_limit: float, backend: str | None = None,
                  caps: frozenset[int] = frozenset()) -> tuple[list[int], MipResult]:
    """The explanation of each infeasible component, combined: the classes (in
    the order of the counts) and one result with every slack. ``caps`` are the
    rows that are budgets in $/h (``shortfalls``)."""
    deadline = time.perf_counter() + time_limit
    order: list[int] = []
    counts: list[list[int]] = []
    slacks: dict[str, float] = {}
    lower: frozenset[str] = frozenset()
    together: tuple = ()
    for members, part in parts:
        left = max(0.5, deadline - time.perf_counter())
        found = shortfalls(part, left, backend, caps)
        if found is None:
            found = solve_mip(part, left, elastic=True, backend=backend)
        if not found.counts:
            continue
        order += members
        counts += found.counts
        for label, v in found.slacks.items():
            slacks[label] = max(slacks.get(label, 0.0), v)
        lower |= found.lower
        together += (found.together,) if found.together else ()
    return order, MipResult(counts, "infeasible", slacks=slacks, lower=lower, together=together)


def shortfalls(inp: MipInput, time_limit: float, backend: str | None, caps: frozenset[int]) -> MipResult | None:
    """What the caps of ``inp`` cannot allow, from models that minimise $/h (fast,
    unlike the elastic model's flat objective). For each cap, the least its
    workloads cost per hour meeting every constraint but the caps: a cap below it
    is named with it (exact when it is the only cap, else a lower bound, in
    ``lower``). When every cap alone can be met, the least all capped workloads
    cost together: above the caps' sum, those caps are named together
    (``together``). None when neither shows it (the elastic model says why)."""
    mine = sorted({r for c in inp.classes for u in c.usage for r, _ in u if r in caps})
    todo = ([LEAST_BUDGET] if inp.budget is not None else []) + mine
    if not todo:
        return None
    deadline = time.perf_counter() + time_limit
    every = frozenset(todo)

    def least(rows: frozenset[int]) -> MipResult:
        return solve_mip(inp, max(0.5, deadline - time.perf_counter()), backend=backend, least=rows, without=every)

    def limit(row: int) -> tuple[str, float]:
        if row == LEAST_BUDGET:
            return "budget", inp.budget - inp.budget_fixed
        return inp.labels[row], inp.limits[row]

    slacks: dict[str, float] = {}
    counts: list[list[int]] = []
    for row in todo:
        found = least(frozenset((row,)))
        if found.status != "optimal":
            return None  # not met even without the caps, or not proven: the elastic model
        label, cap = limit(row)
        if found.objective > cap + 1e-9:
            slacks[label] = found.objective - cap
            counts = counts or found.counts
    if slacks:
        return MipResult(counts, "infeasible", slacks=slacks,
                         lower=frozenset(slacks) if len(todo) > 1 else frozenset())
    if len(mine) > 1:
        found = least(frozenset(mine))
        allowed = sum(inp.limits[r] for r in mine)
        if found.status == "optimal" and found.objective > allowed + 1e-9:
            return MipResult(found.counts, "infeasible",
                             together=(tuple(inp.labels[r] for r in mine), allowed, found.objective))
    return None

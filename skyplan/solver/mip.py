"""The OR-Tools placement model. OR-Tools is imported here, inside functions.

One model is built per component (skyplan.solver.decompose): classes that share
no row, colocation, egress term or budget are solved apart, each set below
being that component's. Without a budget, a component of one single-group
class is answered in closed form instead (the least-objective option that
fits every row).

Sets
    C          classes: one item (workload or provisioned fleet), or m_c items with
               the same requirements merged (classes.py); class c has n_c groups
    O_c        the options of class c: those candidate generation kept
               (candidates.py: the first of each group and the undominated) after
               pruning (classes.py) (an offer x pricing on a provider key, or a
               slot on a fleet)
    R          capacity rows: provider quotas, fleet capacity entries and group
               budgets (u[c,o,r] = h[c,o] for a workload the group covers)
Variables
    x[c,o] in {0..n_c}    groups of class c placed on option o
    z[c,o] in [0, k_co]   groups of c kept on their current option o, where k_co
                          groups of c run now (stability)
    e[p,r] >= 0           share of dependency p's data leaving region r (egress)
Constraints
    sum_o x[c,o] = n_c                                        every group placed
    sum_{c,o} u[c,o,r] x[c,o] <= L_r              for r in R  quotas, fleet capacity
    sum_{c,o} h[c,o] x[c,o] + H_fixed <= B                    budget ($/h), if any
    m_c floor(r_c / D_c) <= sum_{o in d} x[c,o] <= m_c ceil(r_c / D_c)
                                                  for each spread domain d of c
                                                  (m_c members of r_c replicas each,
                                                  D_c = domains they can reach)
    s_c^min <= sum_{o spot} x[c,o] <= s_c^max     for c with an on-demand base: both
                                                  n_c - base when spot is there, else
                                                  0 .. the spot groups still running
    sum_{o in g} x[a,o] <= n_a sum_{o in g} x[b,o]  for each region g, a colocated with b
    e[p,g] >= X_b(g)/n_b - X_a(g)/n_a           for dependant a of b, region g of b
    z[c,o] <= x[c,o]
Objective
    minimise  sum (cost[c,o] + eps * rank[c,o]) x[c,o]      expected cost over the
              + sum data_p * egress$(g) e[p,g]              item's hours, spot
              - sum bonus[c,o] z[c,o]                       overhead included
    where bonus = migrate_threshold * (cost of the current option): a running
    item moves only when that saves more than the threshold; eps * rank breaks
    ties in a fixed order (price, then provider, region, zone, type, pricing).

In elastic mode (used only to explain infeasibility) every row, the budget and
every spread cap get a slack variable and the objective is the total slack
relative to each limit, so the rows that must give are the ones to name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TIE_EPS = 1e-6
LEAST_BUDGET = -1  # solve_mip(least=...): the plan's $/h
EGRESS_PER_GB = {"aws": 0.09, "gcp": 0.12, "azure": 0.087}


@dataclass
class MipClass:
    groups: int
    costs: list[float]
    hourly: list[float]
    usage: list[tuple[tuple[int, float], ...]]
    domains: list[tuple] | None = None
    region_keys: list[tuple] | None = None
    bonus: dict[int, tuple[float, int]] = field(default_factory=dict)  # option -> (bonus per group, current count)
    label: str = ""
    spread_cap: int = 0  # most groups per spread domain (members * ceil(replicas / domains))
    spread_floor: int = 0  # fewest groups per spread domain (members * floor(replicas / domains))
    spot: list[bool] | None = None  # per option, whether it is spot (a service with an on-demand base)
    spot_min: int = 0  # fewest groups on spot options
    spot_max: int = 0  # most groups on spot options


@dataclass
class MipInput:
    classes: list[MipClass]
    limits: list[float]
    labels: list[str]
    budget: float | None = None
    budget_fixed: float = 0.0
    colocate: list[tuple[int, int]] = field(default_factory=list)
    egress: list[tuple[int, int, float]] = field(default_factory=list)


@dataclass
class MipResult:
    counts: list[list[int]]
    status: str  # optimal | feasible | infeasible
    objective: float = 0.0
    bound: float = 0.0
    backend: str = ""
    slacks: dict[str, float] = field(default_factory=dict)
    # classes answered at their own optimum, shared rows aside (skyplan.solver.decompose.alone)
    alone: set[int] = field(default_factory=set)
    # explanations (skyplan.solver.decompose.shortfalls): labels whose slack is a lower
    # bound (a cap's least worked out without the other caps), and caps that fail only
    # together: (their labels, the $/h they allow together, the least their workloads cost)
    lower: frozenset[str] = frozenset()
    together: tuple = ()


def choose_backend(num_vars: int) -> str:
    """The OR-Tools backend for a model with ``num_vars`` placement variables.

    Measured with bench/solver_scale.py (team mixes over the built-in catalog,
    one thread, models built without merging so they stay large):

        variables   SCIP                      CP-SAT
           18,845   0.7 s optimal             2.3 s optimal
           54,919   3.5 s optimal             4.5 s optimal
          180,630   27 s, time limit, 0.004%  13.3 s optimal

    CBC trailed both (0.17% gap at the time limit on the largest). Merged
    models are a few hundred variables and SCIP solves them in milliseconds.
    HiGHS prints a banner on stdout, which a pure stage must not, so it is not
    a candidate."""
    return "CP-SAT" if num_vars > 100_000 else "SCIP"


def egress_price(kind: str) -> float:
    return EGRESS_PER_GB.get(kind, 0.0)


def solve_mip(inp: MipInput, time_limit: float, elastic: bool = False, backend: str | None = None,
              least: frozenset[int] | None = None, without: frozenset[int] = frozenset()) -> MipResult:
    """Solve ``inp``. ``least``, when given, holds the rows whose summed use is
    minimised instead of the cost (LEAST_BUDGET: the plan's $/h), and the rows in
    ``without`` (LEAST_BUDGET: the plan's budget) are left out: the least the
    workloads of caps can cost per hour meeting the other constraints
    (skyplan.solver.decompose.shortfalls)."""
    from ortools.linear_solver import pywraplp

    num_vars = sum(len(c.costs) for c in inp.classes)
    backend = backend or choose_backend(num_vars)
    solver = pywraplp.Solver.CreateSolver(backend)
    if solver is None:
        from skyplan.errors import SolverError

        raise SolverError(f"OR-Tools has no {backend} solver in this installation")
    solver.SetNumThreads(1)
    solver.SetTimeLimit(max(1, int(time_limit * 1000)))
    inf = solver.infinity()
    objective = solver.Objective()
    row_cts: dict[int, object] = {}
    slack_vars: list[tuple[str, object]] = []

    def limited(ub: float, label: str):
        """A ``<= ub`` constraint; in elastic mode with a slack that costs 1 per unit of ub."""
        ct = solver.Constraint(-inf, ub)
        if elastic:
            s = solver.NumVar(0.0, inf, "")
            ct.SetCoefficient(s, -1.0)
            objective.SetCoefficient(s, 1.0 / max(ub, 1.0))
            slack_vars.append((label, s))
        return ct

    def row_ct(row: int):
        ct = row_cts.get(row)
        if ct is None:
            ct = row_cts[row] = limited(inp.limits[row], inp.labels[row])
        return ct

    budget_ct = None
    if inp.budget is not None and LEAST_BUDGET not in without:
        budget_ct = limited(inp.budget - inp.budget_fixed, "budget")
    x: list[list] = []
    for c in inp.classes:
        xs = [solver.IntVar(0, c.groups, "") for _ in c.costs]
        x.append(xs)
        total = solver.Constraint(c.groups, c.groups)
        for oi, var in enumerate(xs):
            total.SetCoefficient(var, 1.0)
            if least is not None:
                used = sum(a for r, a in c.usage[oi] if r in least)
                objective.SetCoefficient(var, used + (c.hourly[oi] if LEAST_BUDGET in least else 0.0))
            elif not elastic:
                objective.SetCoefficient(var, c.costs[oi] + TIE_EPS * oi)
            for row, amount in c.usage[oi]:
                if row not in without:
                    row_ct(row).SetCoefficient(var, amount)
            if budget_ct is not None and c.hourly[oi]:
                budget_ct.SetCoefficient(var, c.hourly[oi])
        if not elastic and least is None:
            for oi, (bonus, count) in sorted(c.bonus.items()):
                z = solver.NumVar(0.0, float(count), "")
                keep = solver.Constraint(-inf, 0.0)
                keep.SetCoefficient(z, 1.0)
                keep.SetCoefficient(xs[oi], -1.0)
                objective.SetCoefficient(z, -bonus)
        if c.domains is not None:
            by_domain: dict[tuple, list] = {}
            for oi, d in enumerate(c.domains):
                by_domain.setdefault(d, []).append(xs[oi])
            for d in sorted(by_domain):
                ct = limited(float(c.spread_cap), f"spread of {c.label}")
                for var in by_domain[d]:
                    ct.SetCoefficient(var, 1.0)
                if c.spread_floor:
                    ct = solver.Constraint(float(c.spread_floor), inf)
                    if elastic:
                        s = solver.NumVar(0.0, inf, "")
                        ct.SetCoefficient(s, 1.0)
                        objective.SetCoefficient(s, 1.0 / c.spread_floor)
                        slack_vars.append((f"spread of {c.label}", s))
                    for var in by_domain[d]:
                        ct.SetCoefficient(var, 1.0)

        if c.spot is not None:
            ct = limited(float(c.spot_max), f"spot base of {c.label}")
            low = solver.Constraint(float(c.spot_min), inf)
            if elastic and c.spot_min:
                s = solver.NumVar(0.0, inf, "")
                low.SetCoefficient(s, 1.0)
                objective.SetCoefficient(s, 1.0 / c.spot_min)
                slack_vars.append((f"spot base of {c.label}", s))
            for var, is_spot in zip(xs, c.spot):
                if is_spot:
                    ct.SetCoefficient(var, 1.0)
                    low.SetCoefficient(var, 1.0)

    def region_sums(ci: int) -> dict[tuple, list]:
        out: dict[tuple, list] = {}
        for oi, g in enumerate(inp.classes[ci].region_keys or ()):
            out.setdefault(g, []).append(x[ci][oi])
        return out

    for a, b in inp.colocate:
        ra, rb, na = region_sums(a), region_sums(b), inp.classes[a].groups
        for g in sorted(ra):
            ct = solver.Constraint(-inf, 0.0)
            for var in ra[g]:
                ct.SetCoefficient(var, 1.0)
            for var in rb.get(g, []):
                ct.SetCoefficient(var, -float(na))
    if not elastic and least is None:
        for a, b, data_gb in inp.egress:
            ra, rb = region_sums(a), region_sums(b)
            na, nb = inp.classes[a].groups, inp.classes[b].groups
            for g in sorted(rb):
                price = egress_price(g[0]) * data_gb
                if price <= 0:
                    continue
                e = solver.NumVar(0.0, 1.0, "")
                ct = solver.Constraint(0.0, inf)  # e - X_b(g)/n_b + X_a(g)/n_a >= 0
                ct.SetCoefficient(e, 1.0)
                for var in rb[g]:
                    ct.SetCoefficient(var, -1.0 / nb)
                for var in ra.get(g, []):
                    ct.SetCoefficient(var, 1.0 / na)
                objective.SetCoefficient(e, price)
    objective.SetMinimization()

    params = pywraplp.MPSolverParameters()
    params.SetDoubleParam(pywraplp.MPSolverParameters.RELATIVE_MIP_GAP, 1e-6)
    code = solver.Solve(params)
    if code not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        status = "infeasible" if code == pywraplp.Solver.INFEASIBLE else "unsolved"
        return MipResult([], status, backend=backend)
    counts = [[int(round(v.solution_value())) for v in xs] for xs in x]
    slacks: dict[str, float] = {}
    for label, s in slack_vars:
        if s.solution_value() > 1e-6:
            slacks[label] = max(slacks.get(label, 0.0), s.solution_value())
    return MipResult(counts, "optimal" if code == pywraplp.Solver.OPTIMAL else "feasible",
                     objective.Value(), objective.BestBound(), backend, slacks)

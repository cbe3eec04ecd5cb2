"""The solver's input: what to place, on which offers, under which options.

``build_problem`` turns a DesiredGraph, the offers per provider key and the
state snapshot into a ``Problem``; ``solve(problem)`` (skyplan.solver.solve) is
the pure function that answers it. The caller does every piece of I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

from skyplan.catalog.offer import Offer
from skyplan.config.model import DesiredGraph, Fleet, ProviderConfig, Workload
from skyplan.solver.model import Placement

# Record statuses whose placement still occupies capacity (stability applies).
_LIVE_STATUSES = ("running", "creating", "stopped")

Blocked = tuple[tuple[str, "str | None", "str | None"], ...]


@dataclass(frozen=True)
class GroupBudget:
    """A cap in $/h over the summed hourly cost of a set of workloads (a mandatory
    policy over a group): one capacity row of the model (skyplan.solver.capacity).
    ``owner``/``path`` locate the value in ``Problem.positions`` for an infeasibility."""

    name: str
    limit: float
    addresses: tuple[str, ...]
    owner: str = ""
    path: str = ""
    stated: str = ""  # the cap as written, when not in $/h ("max_monthly_cost $1,000.00/month")


@dataclass(frozen=True)
class SolveOptions:
    """Knobs of one solve.

    ``blocked`` maps an address to scopes it must avoid (provider key, region,
    zone): zone None blocks the whole region, region None the whole provider.
    ``only`` restricts the per-candidate display tables to these addresses; every
    address is still placed, since they share quotas, fleets and the budget.
    ``backend``, ``merge`` and ``decompose`` exist to measure the alternatives
    (bench/solver_scale.py) and to check one against another (tests/solver).
    ``compare_single_cloud`` also finds the cheapest plan on each single cloud when
    the solution buys from several (skyplan.solver.single_cloud).
    ``budget`` caps the whole plan's $/h; each of ``group_budgets`` caps its workloads'.
    ``first_cause`` is for a caller that asks only whether the problem can be placed
    and the first reason why not (the single-cloud comparison): an infeasible solve
    explains only the first workload without options, and looks up none after one
    that surely has none (no provider it may use lists an offer, no fleet serves it).
    """

    budget: float | None = None
    group_budgets: tuple[GroupBudget, ...] = ()
    migrate_threshold: float = 0.2
    reoptimize: bool = False
    top_fallbacks: int = 5
    time_limit: float = 20.0
    restart_overhead: float = 0.5
    blocked: Mapping[str, Blocked] = field(default_factory=dict)
    # address -> hours to the deadline of a job Uniform Progress paces and not started yet:
    # its spot options are costed with the on-demand hours the policy is expected to need
    windows: Mapping[str, float] = field(default_factory=dict)
    only: tuple[str, ...] = ()
    backend: str | None = None  # OR-Tools solver name; None = skyplan.solver.mip.choose_backend
    merge: bool = True  # merge alike workloads and answer unconstrained ones in closed form
    decompose: bool = True  # answer each set of coupled classes on its own (skyplan.solver.decompose)
    compare_single_cloud: bool = False
    first_cause: bool = False
    fleet_packing: str = "exact"  # "exact" per node; "aggregate" (summed per entry) only to measure against
    # digest the self-contained groups, so the solution carries memo entries for state to keep;
    # off when nothing keeps them (no state), which skips the digests unless a memo was given
    memoize: bool = True


@dataclass(frozen=True)
class Problem:
    """Everything one solve needs; keys are address strings / provider keys."""

    workloads: Mapping[str, Workload]
    fleets: Mapping[str, Fleet]
    providers: Mapping[str, ProviderConfig]
    offers: Mapping[str, Sequence[Offer]]  # provider key -> offers in that provider's regions
    current: Mapping[str, tuple[Placement, ...]] = field(default_factory=dict)
    options: SolveOptions = SolveOptions()
    # where each configuration value was written (DesiredGraph.positions), so an infeasibility
    # names the file:line:col of the value it comes from
    positions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, repr=False, compare=False)
    # provider key -> why it has no offers although it is configured (a cluster not contacted)
    unpriced: Mapping[str, str] = field(default_factory=dict)
    # placements of an earlier solve by the digest of their inputs (skyplan.solver.memo): the
    # self-contained workloads found there are kept without being solved again
    memo: Mapping[str, Mapping[str, dict]] = field(default_factory=dict, repr=False, compare=False)


def deadline_windows(graph: DesiredGraph, snapshot, now: datetime) -> dict[str, float]:
    """Hours to the deadline of each job Uniform Progress paces that has not started
    (no record in ``snapshot``): the solver prices its spot options by the policy's
    expected hours. A started one is paced by ``skyplan watch``, which steers its pricing."""
    out: dict[str, float] = {}
    for address, w in graph.workloads.items():
        spec = w.deadline
        if spec is None or not spec.has_deadline or spec.strategy != "uniform_progress":
            continue
        if snapshot is not None and address in snapshot.resources:
            continue
        due = spec.due(now)
        if due is not None:
            out[address] = max(0.0, (due - now).total_seconds() / 3600)
    return out


def build_problem(graph: DesiredGraph, offers: Mapping[str, Sequence[Offer]], snapshot=None,
                  options: SolveOptions = SolveOptions(), unpriced: Mapping[str, str] | None = None,
                  memo: Mapping[str, Mapping[str, dict]] | None = None, now: datetime | None = None) -> Problem:
    """The Problem for ``graph``: current placements come from ``snapshot`` (a
    skyplan.state.model.Snapshot or None) for addresses still in the graph and
    not tainted; the budget defaults to the ``skyplan { max_hourly_cost }``, the
    group budgets to the graph's (``Settings.group_budgets``, set by skyplan.policy);
    ``memo`` holds earlier placements to keep (skyplan.solver.memo); the windows of
    deadline jobs not started are counted from ``now`` (default: the clock)."""
    current: dict[str, tuple[Placement, ...]] = {}
    if snapshot is not None:
        wanted = set(graph.workloads) | set(graph.fleets)
        for address, record in snapshot.resources.items():
            if address in wanted and not record.tainted and record.status in _LIVE_STATUSES and record.groups:
                current[address] = tuple(g.placement for g in record.groups)
    from dataclasses import replace

    if options.budget is None and graph.settings.max_hourly_cost is not None:
        options = replace(options, budget=graph.settings.max_hourly_cost)
    if not options.group_budgets and graph.settings.group_budgets:
        options = replace(options, group_budgets=tuple(graph.settings.group_budgets))
    if not options.windows:
        windows = deadline_windows(graph, snapshot, now or datetime.now(timezone.utc))
        if windows:
            options = replace(options, windows=windows)
    return Problem(
        workloads=dict(graph.workloads), fleets=dict(graph.fleets), providers=dict(graph.providers),
        offers={k: tuple(v) for k, v in offers.items()}, current=current, options=options,
        positions=getattr(graph, "positions", {}), unpriced=dict(unpriced or {}), memo=memo or {},
    )

"""The glue every command uses: load config, open state, lock, refresh, build
offers, solve and plan. The only place outside apply and drift that talks to
providers; each stage it calls is pure or owns its own I/O.

    graph = load_config(dir)                       config
    store = open_state(graph)                      state (SQLite)
    refreshed, drift, unmanaged = refresh_state()  drift.refresh (providers)
    offers, catalog_info = build_offers(graph)     catalog (+ live kubernetes offers)
    solution = solve(build_problem(...))           solver
    plan = planner.plan(...)                       planner
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from skyplan.config.model import DesiredGraph
from skyplan.errors import AuthError
from skyplan.planner.model import DriftItem, Plan
from skyplan.planner.options import PlanOptions
from skyplan.providers.base import Instance, Provider
from skyplan.solver.model import Solution
from skyplan.state.model import Snapshot

def load_config(dir: str | Path, vars: Mapping[str, Any] | None = None, var_files: Sequence[str] = ()) -> DesiredGraph:
    """Load and evaluate the configuration folder (raises DiagnosticsError)."""
    from skyplan import config
    from skyplan.progress import phase

    with phase("load", "Loading configuration"):
        return config.load(str(dir), vars=dict(vars or {}), var_files=list(var_files or ()))


def state_path(graph: DesiredGraph):
    """Where this configuration's state lives: a named state in PostgreSQL (backend
    "postgres"), the skyplan block's state_path, or ``.skyplan/state.db`` beside the config."""
    from skyplan.state import default_state_path

    return default_state_path(graph.root, graph.settings)


def open_state(graph: DesiredGraph, create: bool = True):
    """Open (creating when asked) the state store of ``graph``; StateError when absent
    and not ``create``."""
    from skyplan.state.location import open_store

    return open_store(state_path(graph), create=create)


def build_providers(graph: DesiredGraph, only: Iterable[str] | None = None) -> dict[str, Provider]:
    """Instantiate the providers (lazily importing their SDKs) for the keys in ``only``
    (default: every provider block). Providers state references but the config no
    longer declares are built from their bare kind with default settings."""
    from skyplan.config.model import ProviderConfig
    from skyplan.providers import get_provider

    keys = sorted(set(only) if only is not None else set(graph.providers))
    out: dict[str, Provider] = {}
    for key in keys:
        cfg = graph.providers.get(key)
        if cfg is None:
            kind, _, alias = key.partition(".")
            cfg = ProviderConfig(kind=kind, alias=alias or None)
        settings = {**dict(cfg.settings), "root": graph.root}
        cfg = ProviderConfig(kind=cfg.kind, alias=cfg.alias, regions=cfg.regions, quotas=cfg.quotas,
                             settings=settings, source=cfg.source)
        out[key] = get_provider(cfg)
    return out


def build_offers(graph: DesiredGraph, catalog_path: str | None = None,
                 providers: Mapping[str, Provider] | None = None, *, store=None,
                 live: bool = True) -> tuple[dict[str, list], dict[str, Any]]:
    """Offers per provider key: clouds from the catalog snapshot (filtered to the
    provider's regions), the local machine's own offer, and for Kubernetes the
    cluster's nodes — read live (recording the inventory in ``store``) when ``live``,
    else without contacting it (skyplan.inventory). Returns (offers, {"source",
    "observed_at", "providers": {key: how it was priced}, "unpriced": {key: hint}})."""
    from skyplan import catalog as catalog_pkg
    from skyplan import inventory

    offers: dict[str, list] = {}
    info: dict[str, Any] = {}
    cat = None
    path = catalog_path or graph.settings.catalog
    clouds = any(cfg.kind not in ("local", "kubernetes") for cfg in graph.providers.values())
    if path or clouds:
        # An explicit catalog is always read, so a wrong path is an error even when
        # only local or Kubernetes offers are in use, and the plan records its source.
        if path and catalog_path is None and not Path(path).is_absolute():
            path = str(Path(graph.root) / path)
        cat = catalog_pkg.load_catalog(path)
        info = {"source": str(getattr(cat, "source", "") or ""),
                "observed_at": str(getattr(cat, "observed_at", "") or "")}
    for key, cfg in sorted(graph.providers.items()):
        if cfg.kind == "local":
            offers[key] = list(catalog_pkg.local_offers((cfg.settings or {}).get("price")))
        elif cfg.kind == "kubernetes" and not live:
            offers[key], note, hint = inventory.offline_offers(graph, key, cfg, store)
            info.setdefault("providers", {})[key] = note
            if hint:
                info.setdefault("unpriced", {})[key] = hint
        elif cfg.kind == "kubernetes":
            prov = (providers or {}).get(key)
            if prov is None:
                prov = build_providers(graph, only=[key])[key]
            offers[key] = inventory.live_offers(prov, key, store)
        else:
            offers[key] = list(cat.for_provider(cfg.kind, cfg.regions))
    return offers, info


def refresh(graph: DesiredGraph, snapshot: Snapshot, providers: Mapping[str, Provider], store=None):
    """Ask the providers what exists (drift.refresh with the folder's .skyplanignore);
    the readiness verdicts carry on from, and are journalled into, ``store``."""
    from skyplan import drift
    from skyplan.drift import readiness
    from skyplan.progress import phase

    memory = readiness.recall(store)
    with phase("refresh", "Refreshing state"):
        result = drift.refresh(snapshot, providers, ignore=drift.IgnoreRules.load(graph.root), memory=memory)
    readiness.remember(store, result.snapshot, memory)
    return result


def refresh_state(graph: DesiredGraph, snapshot: Snapshot, providers: Mapping[str, Provider],
                  ) -> tuple[Snapshot, list[DriftItem], list[Instance]]:
    """(refreshed snapshot, drift items, unmanaged instances)."""
    result = refresh(graph, snapshot, providers)
    return result.snapshot, list(result.drift), list(result.unmanaged)


def resolve_known(graph: DesiredGraph, snapshot: Snapshot, first: Plan) -> DesiredGraph:
    """The graph with values only known after apply filled in from state where what
    they reference is not changing in ``first`` (e.g. ``env = { HEAD =
    workload.head.ip }`` once the head runs and stays). Terraform reads such values
    from state the same way; without this every plan would show them as unknown."""
    from dataclasses import replace

    from skyplan import config
    from skyplan.planner.model import Action

    moving = {c.address for c in first.changes if c.action is not Action.NOOP}
    todo = [c.address for c in first.changes
            if c.after_unknown and c.prior is not None and c.address in graph.workloads
            and not (set(c.depends_on) & moving)]
    if not todo:
        return graph
    known = snapshot.known_attributes()
    workloads = dict(graph.workloads)
    for address in todo:
        resolved = config.resolve_after_apply(graph, address, known)
        if resolved != workloads[address]:
            workloads[address] = resolved
    return replace(graph, workloads=workloads) if workloads != dict(graph.workloads) else graph


@dataclass
class PlanResult:
    graph: DesiredGraph
    plan: Plan
    solution: Solution
    snapshot: Snapshot  # prior (as read from state)
    store: Any  # the open StateStore (None when planning a folder that has no state yet)
    refreshed: Snapshot | None = None
    providers: dict[str, Provider] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    refresh: Any = None  # the drift.Refreshed, when refresh ran


@contextlib.contextmanager
def maybe_lock(store, options: PlanOptions, operation: str):
    """Hold the state lock for the block when ``options.lock`` (Terraform's default)."""
    if not options.lock:
        yield
        return
    with store.lock(operation, timeout=options.lock_timeout):
        yield


def solve_placements(graph: DesiredGraph, offers: Mapping[str, list], snapshot: Snapshot,
                     options: PlanOptions, blocked: Mapping[str, tuple] | None = None,
                     unpriced: Mapping[str, str] | None = None, compare_single_cloud: bool = False,
                     memo: Mapping[str, Mapping[str, dict]] | None = None) -> Solution:
    """Build the solver problem and solve it (OR-Tools is imported by the solver).
    ``blocked``: address -> (provider, region, zone) scopes to avoid; ``unpriced``:
    provider key -> why it has no offers (named when nothing else fits);
    ``compare_single_cloud``: also price the cheapest plan on each single cloud;
    ``memo``: the placements state keeps from the last plan (skyplan.solver.memo);
    None when there is no state to keep this solve's (none are worked out)."""
    from skyplan.solver.problem import SolveOptions, build_problem
    from skyplan.solver.solve import solve

    kwargs: dict[str, Any] = {"reoptimize": options.reoptimize, "blocked": dict(blocked or {}),
                              "compare_single_cloud": compare_single_cloud, "memoize": memo is not None}
    if options.migrate_threshold is not None:
        kwargs["migrate_threshold"] = options.migrate_threshold
    from skyplan.progress import phase

    with phase("solve", "Solving placements"):
        return solve(build_problem(graph, offers, snapshot, SolveOptions(**kwargs), unpriced=unpriced, memo=memo))


def paced_decisions(graph: DesiredGraph, refreshed, store, providers: Mapping[str, Provider],
                    offers: Mapping[str, list], blocked: Mapping[str, tuple]) -> tuple[dict, ...]:
    """What ``skyplan watch`` would decide now for each deadline job that runs
    (``deadline.control``, as JSON), for the plan to show; nothing is journalled."""
    from skyplan.deadline.control import has_deadline_jobs, job_decisions

    if not has_deadline_jobs(graph):
        return ()

    now = datetime.now(timezone.utc)
    decisions = job_decisions(graph, refreshed.snapshot, store, providers, offers, blocked, now, journal=False)
    return tuple(d.to_json(now) for d in decisions if d.address in refreshed.snapshot.resources)


def live_fleet_capacity(graph: DesiredGraph, snapshot: Snapshot, providers: Mapping[str, Provider],
                        offers: Mapping[str, list]) -> tuple[DesiredGraph, dict[str, Provider]]:
    """The graph the solver sees: fleets that are cloud reservations (brought, or
    provisioned and in state) with what they hold free now (see
    ``drift.reservations``), Kubernetes fleets without declared capacity with
    each node's free room (``inventory.live_node_fleets``), and the providers,
    with those it needed built."""
    from skyplan.drift.reservations import live_fleets, quoted_blocks, reservation_of_record, to_buy

    from skyplan.inventory import is_live_node_fleet, live_node_fleets

    providers = dict(providers)
    nodes = sorted({f.provider for f in graph.fleets.values() if is_live_node_fleet(f, graph.providers)})
    keys = sorted({f.provider for a, f in graph.fleets.items() if f.provider and (
        (f.existing and f.reservation_id) or (f.reservation and reservation_of_record(snapshot, a)))})
    buying = sorted({f.provider for a, f in graph.fleets.items() if f.provider and to_buy(f, snapshot, a)})
    missing = [k for k in sorted(set(keys + buying)) + nodes if k not in providers and k in graph.providers]
    if missing:
        providers.update(build_providers(graph, only=missing))
    if nodes:
        graph = replace(graph, fleets=live_node_fleets(graph, snapshot, providers))
    if buying:
        graph = replace(graph, fleets=quoted_blocks(graph.fleets, snapshot, providers, offers))
    if not keys:
        return graph, providers
    return replace(graph, fleets=live_fleets(graph.fleets, snapshot, providers, offers)), providers


PREVIEW_HINT = ("or run `skyplan plan -refresh=false` for a preview without credentials "
                "(it contacts no provider)")


def make_plan(dir: str | Path, options: PlanOptions, *, store=None, graph: DesiredGraph | None = None,
              operation: str = "plan", create_state: bool = False,
              providers: Mapping[str, Provider] | None = None, refreshed=None,
              steer: Mapping[str, tuple[str, ...]] | None = None) -> PlanResult:
    """Plan ``dir`` with ``options``.

    With ``store`` the caller holds (or will hold) the lock for plan and apply
    (apply, destroy, drift --repair); the lock is re-entrant. Without it the state
    is opened here and, with ``options.lock``, locked while planning; a folder
    that has no state yet is planned against an empty one and no file is created
    unless ``create_state``. ``providers`` are used instead of building them;
    ``refreshed`` (a drift.Refreshed of this store's snapshot, made under the
    same lock, e.g. by ``skyplan drift``) is used instead of refreshing again.
    ``steer``: address -> the pricing the solver may use for it (a deadline job's
    decided mode, ``watch``; ``()``: a job held where it is, no scope blocked for
    it); the plan still diffs the configuration as written.
    Raises SkyplanError subclasses only."""
    import time

    from skyplan import planner

    timings: dict[str, float] = {}
    t = time.perf_counter()
    if graph is None:
        graph = load_config(dir, options.vars, options.var_files)
    from skyplan.policy.gate import policies_for, solve_within

    policies = policies_for(graph, options.policy_dirs)
    timings["load"] = time.perf_counter() - t

    if store is None and (create_state or state_path(graph).exists()):
        store = open_state(graph, create=True)
    ctx = maybe_lock(store, options, operation) if store is not None else contextlib.nullcontext()
    with ctx:
        t = time.perf_counter()
        snapshot = store.snapshot() if store is not None else Snapshot.empty()
        timings["state"] = time.perf_counter() - t
        if not options.destroy:
            from skyplan.config.deadline import check_new_jobs

            check_new_jobs(graph, snapshot, datetime.now(timezone.utc))

        given = refreshed
        providers = dict(providers or {})
        refreshed: Snapshot | None = None
        refresh_result = None
        t = time.perf_counter()
        if (options.refresh or options.refresh_only) and (snapshot.resources or given is not None):
            # A refresh the caller made is used even when state holds nothing: it may have
            # found nodes of this lineage that state lost (drift --repair adopts them).
            providers = providers or build_providers(graph)
            try:
                refresh_result = given if given is not None else refresh(graph, snapshot, providers, store)
            except AuthError as e:
                if operation != "plan":
                    raise
                raise AuthError(str(e), provider=e.provider, hint=(e.hint + "; " if e.hint else "") + PREVIEW_HINT) from e
            refreshed = refresh_result.snapshot
        timings["refresh"] = time.perf_counter() - t

        base = refreshed if refreshed is not None else snapshot
        import_ids: dict[str, str] = {}
        if graph.imports and not options.destroy and not options.refresh_only:
            from skyplan import imports

            base, import_ids, providers = imports.preview(graph, base, providers, lambda keys: build_providers(graph, keys))
            if import_ids:  # state as it will be once apply adopted them
                from dataclasses import replace as _replace

                snapshot = _replace(snapshot, resources={**snapshot.resources,
                                                         **{a: base.resources[a] for a in import_ids}})
                refreshed = base if refreshed is not None else None
        catalog_info: dict[str, Any] = {}
        paced: tuple = ()
        t = time.perf_counter()
        if options.destroy or options.refresh_only:
            solution = Solution()
        else:
            # a preview (plan -refresh=false) contacts no provider; apply reads clusters live
            offers, catalog_info = build_offers(graph, options.catalog, providers, store=store,
                                                live=options.refresh or operation == "apply")
            timings["offers"] = time.perf_counter() - t
            t = time.perf_counter()
            blocked = {}
            # recovery "failover": a preempted job is relaunched where it ran first
            in_place = frozenset(a for a, w in graph.workloads.items()
                                 if w.deadline is not None and w.deadline.strategy == "failover")
            if refresh_result is not None:
                from skyplan.drift.blocked import durable_blocked

                blocked = durable_blocked(store, refresh_result, datetime.now(timezone.utc),
                                          options.capacity_memory, in_place)
            elif options.refresh and store is not None:  # nothing to refresh: what the memory still holds
                from skyplan.drift.blocked import remembered

                blocked = remembered(store, datetime.now(timezone.utc), in_place)
            if refresh_result is not None and not steer:  # what watch would decide now, for the plan to show
                paced = paced_decisions(graph, refresh_result, store, providers, offers, blocked)
            if steer:  # capacity memory is about spot: a job sent to on-demand may use any scope
                blocked = {a: s for a, s in blocked.items() if "spot" in steer.get(a, ("spot",))}  # () too: held
            if graph.moves:  # the solver keeps a moved object where it runs
                from skyplan.planner.core import moved_state

                base = moved_state(graph, base, None)[0]
            from skyplan.drift.reservations import planned_starts

            solve_graph = replace(graph, fleets=planned_starts(graph.fleets, base))
            if steer:
                solve_graph = replace(solve_graph, workloads={
                    a: replace(w, pricing=tuple(steer[a])) if steer.get(a) else w
                    for a, w in solve_graph.workloads.items()})
            if options.refresh:
                solve_graph, providers = live_fleet_capacity(solve_graph, base, providers, offers)
            memo = store.placement_memo() if store is not None else None
            solution = solve_within(solve_graph, policies, offers, lambda g: solve_placements(
                g, offers, base, options, blocked, unpriced=catalog_info.get("unpriced"),
                compare_single_cloud=operation in ("plan", "apply"), memo=memo))
            if store is not None and (solution.memo or memo):
                store.keep_placements(solution.memo)  # the next plan keeps what this one solved
        timings["solve"] = time.perf_counter() - t
        from skyplan.drift.readiness import check_command_probes

        check_command_probes(graph, solution)

        t = time.perf_counter()
        kwargs = dict(drift=refresh_result.drift if refresh_result is not None else (),
                      unmanaged=refresh_result.unmanaged if refresh_result is not None else (),
                      catalog=catalog_info, created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        result_plan = planner.plan(graph, solution, snapshot, refreshed, options, **kwargs)
        resolved = resolve_known(graph, base, result_plan)
        if resolved is not graph:
            result_plan = planner.plan(resolved, solution, snapshot, refreshed, options, **kwargs)
        if import_ids:
            from skyplan import imports

            result_plan = imports.mark(result_plan, import_ids)
        if paced:
            result_plan = replace(result_plan, deadlines=paced)
        if policies and not options.destroy and not options.refresh_only:
            from skyplan.policy.check import check_plan

            result_plan = replace(result_plan, policy_results=check_plan(result_plan, resolved, policies))
        timings["diff"] = time.perf_counter() - t
    return PlanResult(graph=graph, plan=result_plan, solution=solution, snapshot=snapshot, store=store,
                      refreshed=refreshed, providers=providers, timings=timings, refresh=refresh_result)


__all__ = [
    "load_config", "state_path", "open_state", "build_providers", "build_offers", "refresh_state",
    "refresh", "resolve_known", "PlanResult", "make_plan", "maybe_lock", "solve_placements",
]

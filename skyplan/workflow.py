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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from skyplan.config.model import DesiredGraph
from skyplan.planner.model import DriftItem, Plan
from skyplan.planner.options import PlanOptions
from skyplan.providers.base import Instance, Provider
from skyplan.solver.model import Solution
from skyplan.state.model import Snapshot

STATE_DIR = ".skyplan"
STATE_FILE = "state.db"


def load_config(dir: str | Path, vars: Mapping[str, Any] | None = None, var_files: Sequence[str] = ()) -> DesiredGraph:
    """Load and evaluate the configuration folder (raises DiagnosticsError)."""
    from skyplan import config

    return config.load(str(dir), vars=dict(vars or {}), var_files=list(var_files or ()))


def state_path(graph: DesiredGraph) -> Path:
    """Where this configuration's state lives: the skyplan block's state_path, or
    ``.skyplan/state.db`` beside the config."""
    if graph.settings.state_path:
        p = Path(graph.settings.state_path)
        return p if p.is_absolute() else Path(graph.root) / p
    return Path(graph.root) / STATE_DIR / STATE_FILE


def open_state(graph: DesiredGraph, create: bool = True):
    """Open (creating when asked) the state store of ``graph``."""
    from skyplan.errors import StateError
    from skyplan.state import StateStore

    path = state_path(graph)
    if not create and not path.exists():
        raise StateError(f"no state at {path}", hint="run `skyplan apply` first, or check the folder")
    return StateStore.open(path)


def snapshot_of(store) -> Snapshot:
    return store.snapshot()


def provider_keys_in_use(graph: DesiredGraph, snapshot: Snapshot | None = None) -> set[str]:
    """Provider keys the configuration declares plus those state records resources in."""
    keys = set(graph.providers)
    if snapshot is not None:
        for rec in snapshot.resources.values():
            for g in rec.groups:
                keys.add(g.placement.provider)
    return keys


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
                 providers: Mapping[str, Provider] | None = None) -> tuple[dict[str, list], dict[str, Any]]:
    """Offers per provider key: clouds from the catalog snapshot (filtered to the
    provider's regions), the local machine's own offer, live offers for Kubernetes.
    Returns (offers, {"source", "observed_at"})."""
    from skyplan import catalog as catalog_pkg

    offers: dict[str, list] = {}
    info: dict[str, Any] = {}
    cat = None
    for key, cfg in sorted(graph.providers.items()):
        if cfg.kind == "local":
            offers[key] = list(catalog_pkg.local_offers())
        elif cfg.kind == "kubernetes":
            prov = (providers or {}).get(key)
            if prov is None:
                prov = build_providers(graph, only=[key])[key]
            offers[key] = list(prov.offers())
        else:
            if cat is None:
                path = catalog_path or graph.settings.catalog
                if path and not Path(path).is_absolute():
                    path = str(Path(graph.root) / path) if catalog_path is None else path
                cat = catalog_pkg.load_catalog(path)
                info = {"source": str(getattr(cat, "source", "") or ""),
                        "observed_at": str(getattr(cat, "observed_at", "") or "")}
            offers[key] = list(cat.for_provider(cfg.kind, cfg.regions))
    return offers, info


def refresh_state(graph: DesiredGraph, snapshot: Snapshot, providers: Mapping[str, Provider],
                  ) -> tuple[Snapshot, list[DriftItem], list[Instance]]:
    """Ask the providers what exists: (refreshed snapshot, drift items, unmanaged instances)."""
    from skyplan import drift

    result = drift.refresh(snapshot, providers)
    refreshed = getattr(result, "snapshot", snapshot)
    items = list(getattr(result, "drift", ()) or ())
    unmanaged = list(getattr(result, "unmanaged", ()) or ())
    return refreshed, items, unmanaged


def blocked_from_drift(snapshot: Snapshot, drift: Sequence[DriftItem]) -> list[tuple[str, str, str | None]]:
    """Zones to avoid on this solve: where spot nodes of a record went missing
    (a preemption says capacity there is scarce). (provider, region, zone) triples."""
    blocked: list[tuple[str, str, str | None]] = []
    for item in drift:
        if item.category != "missing":
            continue
        rec = snapshot.resources.get(item.address)
        if rec is None:
            continue
        for g in rec.groups:
            p = g.placement
            if p.pricing == "spot":
                triple = (p.provider, p.region, p.zone)
                if triple not in blocked:
                    blocked.append(triple)
    return blocked


@dataclass
class PlanResult:
    graph: DesiredGraph
    plan: Plan
    solution: Solution
    snapshot: Snapshot  # prior (as read from state)
    store: Any  # the open StateStore (still locked when the caller passed it in locked)
    refreshed: Snapshot | None = None
    providers: dict[str, Provider] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


@contextlib.contextmanager
def maybe_lock(store, options: PlanOptions, operation: str):
    """Hold the state lock for the block when ``options.lock`` (Terraform's default)."""
    if not options.lock:
        yield
        return
    with store.lock(operation, timeout=options.lock_timeout):
        yield


def solve_placements(graph: DesiredGraph, offers: Mapping[str, list], snapshot: Snapshot,
                     options: PlanOptions, blocked: Sequence[tuple] = ()) -> Solution:
    """Build the solver problem and solve it (OR-Tools is imported by the solver)."""
    from skyplan import solver

    kwargs: dict[str, Any] = {"reoptimize": options.reoptimize, "blocked": tuple(blocked)}
    if options.migrate_threshold is not None:
        kwargs["migrate_threshold"] = options.migrate_threshold
    problem = solver.build_problem(graph, offers, snapshot, solver.SolveOptions(**kwargs))
    return solver.solve(problem)


def make_plan(dir: str | Path, options: PlanOptions, *, store=None, graph: DesiredGraph | None = None,
              operation: str = "plan") -> PlanResult:
    """Plan ``dir`` with ``options``. With ``store`` the caller already holds the lock
    (apply, destroy, drift --repair); otherwise the lock is taken for the plan and
    released before returning. Raises SkyplanError subclasses only."""
    import time

    from skyplan import planner

    timings: dict[str, float] = {}
    t = time.perf_counter()
    if graph is None:
        graph = load_config(dir, options.vars, options.var_files)
    timings["load"] = time.perf_counter() - t

    own = store is None
    if own:
        store = open_state(graph)
    ctx = maybe_lock(store, options, operation) if own else contextlib.nullcontext()
    with ctx:
        t = time.perf_counter()
        snapshot = store.snapshot()
        timings["state"] = time.perf_counter() - t

        providers: dict[str, Provider] = {}
        refreshed: Snapshot | None = None
        drift_items: list[DriftItem] = []
        unmanaged: list[Instance] = []
        t = time.perf_counter()
        if options.refresh or options.refresh_only:
            providers = build_providers(graph, only=provider_keys_in_use(graph, snapshot))
            refreshed, drift_items, unmanaged = refresh_state(graph, snapshot, providers)
        timings["refresh"] = time.perf_counter() - t

        base = refreshed if refreshed is not None else snapshot
        t = time.perf_counter()
        if options.destroy or options.refresh_only:
            solution = Solution()
            catalog_info: dict[str, Any] = {}
        else:
            offers, catalog_info = build_offers(graph, options.catalog, providers)
            timings["offers"] = time.perf_counter() - t
            t = time.perf_counter()
            solution = solve_placements(graph, offers, base, options, blocked_from_drift(snapshot, drift_items))
        timings["solve"] = time.perf_counter() - t

        t = time.perf_counter()
        result_plan = planner.plan(graph, solution, snapshot, refreshed, options,
                                   drift=drift_items, unmanaged=unmanaged, catalog=catalog_info)
        timings["diff"] = time.perf_counter() - t
    return PlanResult(graph=graph, plan=result_plan, solution=solution, snapshot=snapshot, store=store,
                      refreshed=refreshed, providers=providers, timings=timings)


__all__ = [
    "load_config", "state_path", "open_state", "build_providers", "build_offers", "refresh_state",
    "blocked_from_drift", "PlanResult", "make_plan", "maybe_lock", "solve_placements", "provider_keys_in_use",
]

"""Loads solver data cases: tests/cases/solver/<name>/{problem.json, expected.json}.

problem.json (compact)::

    {"catalog": "base" | "snapshot" | [offer, ...],  # "base" = tests/cases/solver/catalog.json;
                                                 # "snapshot" = the built-in skyplan/data/catalog.csv
     "offers": [offer, ...],                     # more offers (added to the catalog)
     "providers": {"aws": {"regions": [...], "quotas": [{"resource", "max", "region"}]}},
     "workloads": {"workload.x": {"kind", "accelerators": ["H100:8"], "cpus": "8+", "memory": "32",
                   "nodes", "replicas", "pricing", "duration_hours", "max_hourly_cost", "data_gb",
                   "providers", "regions", "zones", "exclude_regions", "fleet", "spread",
                   "colocate_with", "depends_on", "count", "arch",
                   "spot": {"base_on_demand_replicas", "fallback_on_demand"},
                   "deadline": {"deadline_hours", "changeover_hours", "strategy"}}},
     "fleets": {"fleet.p": {"provider", "existing", "region", "nodes", "accelerators", "pricing",
                "keep", "duration_hours", "reservation", "reservation_id", "instance_type", "zone",
                "free_nodes", "hours_left", "starts_at",
                "offerings": [{"region", "zone", "type", "count", "hours", "fee", "starts_at", "ends_at", "later"}],
                "capacity": [{"accelerator", "per_node", "nodes", "cpus_per_node", "memory_per_node"}]}},
     "current": {"workload.x": [placement json, ...]},
     "options": {"budget", "group_budgets": [{"name", "limit", "addresses"}], "migrate_threshold", "reoptimize", "top_fallbacks", "compare_single_cloud",
                 "fleet_packing": "exact" | "aggregate", "windows": {"workload.x": hours to its deadline},
                 "blocked": {"workload.x": [["aws", "us-east-1", null]]}}}

An offer is ``{"provider": KEY, "region", "zone", "type", "acc": "H100:8", "vcpus", "mem",
"on_demand", "spot", "reserved", "band", "arch"}`` (arch default x86_64); the provider key's kind is the part before a dot.

expected.json: ``{"error": "substring", ...}`` or ``{"placements": {address: [group, ...]},
"total_hourly_cost", "total_cost", "kept": [...], "fallbacks": {address: [[provider, region,
zone, type, pricing], ...]}, "approved": {address: $}, "fleets": {address: {"bought",
"fleet_cost", "direct_cost"}}, "single_cloud": null | {"best": cloud | null,
"total_cost", "hourly_cost", "saving", "infeasible": [cloud, ...], "reasons": {cloud: "substring"}}}``;
each expected group lists only the placement fields it checks, and groups compare as a multiset.
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

from skyplan.addrs import Address
from skyplan.catalog.offer import Offer
from skyplan.config.model import (
    AcceleratorReq, BlockQuote, Fleet, FleetCapacity, PlacementSpec, ProviderConfig, Quantity, Quota, Resources, Workload,
)
from skyplan.config.deadline import DeadlineSpec
from skyplan.config.service import SpotBase
from skyplan.solver import Problem, SolveOptions
from skyplan.solver.model import Placement
from skyplan.solver.problem import GroupBudget

ROOT = Path(__file__).resolve().parents[1] / "cases" / "solver"


def case_names() -> list[str]:
    return sorted(p.name for p in ROOT.iterdir() if (p / "problem.json").exists())


def quantity(v) -> Quantity | None:
    if v is None:
        return None
    s = str(v)
    return Quantity(float(s.rstrip("+")), at_least=s.endswith("+"))


def accelerators(values) -> tuple[AcceleratorReq, ...]:
    out = []
    for v in values or ():
        name, _, count = v.partition(":")
        out.append(AcceleratorReq(name, int(count or 1)))
    return tuple(out)


def offer(d: dict) -> Offer:
    name, _, count = (d.get("acc") or "").partition(":")
    return Offer(d["provider"].split(".")[0], d["region"], d.get("zone"), d["type"], name or None,
                 float(count or 0) if name else 0, vcpus=d.get("vcpus", 0), memory_gib=d.get("mem", 0),
                 on_demand=d.get("on_demand"), spot=d.get("spot"), reserved=d.get("reserved"),
                 interruption_band=d.get("band"), arch=d.get("arch", "x86_64"))


def resources(d: dict) -> Resources:
    return Resources(accelerators(d.get("accelerators")), quantity(d.get("cpus")), quantity(d.get("memory")),
                     instance_type=d.get("instance_type"), arch=d.get("arch"))


def placement_spec(d: dict) -> PlacementSpec:
    return PlacementSpec(tuple(d.get("providers", ())), tuple(d.get("regions", ())), tuple(d.get("zones", ())),
                         tuple(d.get("exclude_regions", ())), tuple(d.get("exclude_zones", ())), d.get("fleet"),
                         d.get("spread"), d.get("colocate_with"))


def workloads(spec: dict) -> dict[str, Workload]:
    out = {}
    for address, d in spec.items():
        base = Address.parse(address)
        addrs = [base.with_key(i) for i in range(d["count"])] if "count" in d else [base]
        for a in addrs:
            out[str(a)] = Workload(
                a, kind=d.get("kind", "job"), resources=resources(d), num_nodes=d.get("nodes", 1),
                replicas=d.get("replicas", 1), pricing=tuple(d.get("pricing", ("on_demand",))),
                duration_hours=d.get("duration_hours"), max_hourly_cost=d.get("max_hourly_cost"),
                data_gb=d.get("data_gb", 0.0), placement=placement_spec(d), start_by=d.get("start_by"),
                depends_on=tuple(Address.parse(x) for x in d.get("depends_on", ())),
                spot=SpotBase(**d["spot"]) if "spot" in d else None,
                deadline=DeadlineSpec(**{"strategy": "uniform_progress", **d["deadline"]}) if "deadline" in d else None)
    return out


def offerings(rows) -> tuple[BlockQuote, ...] | None:
    if rows is None:
        return None
    return tuple(BlockQuote(q["region"], q["zone"], q["type"], q["count"], q["hours"], q["fee"], q["starts_at"],
                            q["ends_at"], later=q.get("later", False)) for q in rows)


def fleets(spec: dict) -> dict[str, Fleet]:
    out = {}
    for address, d in spec.items():
        caps = tuple(FleetCapacity(c.get("accelerator"), c.get("per_node", 0), c["nodes"], c.get("cpus_per_node"),
                                   c.get("memory_per_node")) for c in d.get("capacity", ()))
        out[address] = Fleet(Address.parse(address), provider=d.get("provider"), existing=d.get("existing", False),
                             capacity=caps, region=d.get("region"), nodes=d.get("nodes", 0), resources=resources(d),
                             pricing=tuple(d.get("pricing", ("reserved",))), placement=placement_spec(d),
                             keep=d.get("keep", False), duration_hours=d.get("duration_hours"),
                             reservation=d.get("reservation"), reservation_id=d.get("reservation_id"),
                             instance_type=d.get("instance_type"), zone=d.get("zone"),
                             free_nodes=d.get("free_nodes"), hours_left=d.get("hours_left"),
                             starts_at=d.get("starts_at"), offerings=offerings(d.get("offerings")))
    return out


def snapshot_offers() -> list[Offer]:
    """The built-in snapshot exactly as shipped (not the user's cache)."""
    from skyplan.catalog import load_catalog

    return list(load_catalog(Path(__file__).resolve().parents[2] / "skyplan" / "data" / "catalog.csv").offers)


def load_problem(spec: dict) -> Problem:
    catalog = spec.get("catalog", [])
    offers: dict[str, list[Offer]] = {}
    if catalog == "snapshot":
        for o in snapshot_offers():
            offers.setdefault(o.provider, []).append(o)
        catalog = []
    if catalog == "base":
        catalog = json.loads((ROOT / "catalog.json").read_text())
    rows = list(catalog) + list(spec.get("offers", ()))
    for d in rows:
        offers.setdefault(d["provider"], []).append(offer(d))
    providers = {}
    for key, d in spec.get("providers", {k: {} for k in offers}).items():
        kind, _, alias = key.partition(".")
        quotas = tuple(Quota(q["resource"], q["max"], q.get("region")) for q in d.get("quotas", ()))
        providers[key] = ProviderConfig(kind, alias or None, tuple(d.get("regions", ())), quotas)
    # the caller hands each provider key the offers in its configured regions
    allowed = {k: [o for o in v if not providers[k].regions or any(fnmatch.fnmatchcase(o.region, g)
                                                                   for g in providers[k].regions)]
               for k, v in offers.items() if k in providers}
    for key in providers:
        allowed.setdefault(key, [])
    o = spec.get("options", {})
    options = SolveOptions(
        budget=o.get("budget"), migrate_threshold=o.get("migrate_threshold", 0.2), reoptimize=o.get("reoptimize", False),
        top_fallbacks=o.get("top_fallbacks", 5), compare_single_cloud=o.get("compare_single_cloud", False),
        fleet_packing=o.get("fleet_packing", "exact"),
        blocked={a: tuple(tuple(b) for b in v) for a, v in o.get("blocked", {}).items()},
        windows=dict(o.get("windows", {})),
        group_budgets=tuple(GroupBudget(g["name"], g["limit"], tuple(g["addresses"])) for g in o.get("group_budgets", ())))
    current = {a: tuple(Placement.from_json(p) for p in v) for a, v in spec.get("current", {}).items()}
    return Problem(workloads(spec.get("workloads", {})), fleets(spec.get("fleets", {})), providers, allowed,
                   current, options)


def load_case(name: str) -> tuple[Problem, dict]:
    folder = ROOT / name
    return load_problem(json.loads((folder / "problem.json").read_text())), \
        json.loads((folder / "expected.json").read_text())

"""Checks that need more than one block: ``ignore_changes`` paths against the
attributes a workload has, and cross-references (providers, fleets, colocation)
once everything is built."""

from __future__ import annotations

from skyplan.config import ast
from skyplan.config.evaluator import did_you_mean


IGNORABLE = ("kind", "resources", "num_nodes", "replicas", "pricing", "duration_hours", "max_hourly_cost", "data_gb",
             "image", "setup", "run", "env", "ports", "autostop", "start_by", "placement", "provider", "capacity", "hourly_cost",
             "region", "nodes", "deadline", "deadline_hours", "changeover_hours", "recovery")


def _path_of(x) -> str | None:
    if isinstance(x, ast.Name):
        return x.name
    if isinstance(x, ast.Literal) and isinstance(x.value, str):
        return x.value
    if isinstance(x, ast.GetAttr):
        base = _path_of(x.obj)
        return f"{base}.{x.attr}" if base else None
    if isinstance(x, ast.Index) and isinstance(x.key, ast.Literal):
        base = _path_of(x.obj)
        k = x.key.value
        return (f"{base}[{k}]" if isinstance(k, int) else f'{base}["{k}"]') if base else None
    return None


def ignore_paths(ld, a: ast.Attribute, file: str) -> list | None:
    """``ignore_changes = [env, resources.cpus, env["TOKEN"]]`` -> attribute path strings."""
    if not isinstance(a.expr, ast.TupleExpr):
        ld.diags.error("ignore_changes must be a list of attribute names", file, a.pos,
                       hint="e.g. ignore_changes = [env, image]")
        return None
    out = []
    for x in a.expr.items:
        p = _path_of(x)
        head = (p or "").replace("[", ".").split(".")[0]
        if p is None or head not in IGNORABLE:
            ld.diags.error(f"ignore_changes names an unknown attribute{' ' + repr(p) if p else ''}", file, x.pos,
                           hint=did_you_mean(head, IGNORABLE) or f"attributes: {', '.join(IGNORABLE)}")
            return None
        out.append(p)
    return out


def check_references(ld) -> None:
    """Cross-checks once everything is built: provider keys, fleets, colocation. A
    workload placed on a fleet by name depends on it, as if it referenced it."""
    keys = set(ld.providers) or {"local"}
    _fleet_dependencies(ld)
    for res in list(ld.workloads.values()) + list(ld.fleets.values()):
        src = res.source
        where = (src.file, (src.line, src.column)) if src else (None, None)
        for p in res.placement.providers:
            if p not in keys and not any(k.split(".")[0] == p for k in keys):
                ld.diags.error(f"{res.address}: placement.providers names undeclared provider \"{p}\"", *where,
                               hint=did_you_mean(p, keys) or f"declared providers: {', '.join(sorted(keys))}")
        if res.placement.fleet and res.placement.fleet not in ld.fleets:
            ld.diags.error(f"{res.address}: placement.fleet names undeclared fleet \"{res.placement.fleet}\"", *where,
                           hint=did_you_mean(res.placement.fleet, ld.fleets) or "declare the fleet or fix the name")
        if res.placement.colocate_with and res.placement.colocate_with not in ld.workloads:
            ld.diags.error(f"{res.address}: colocate_with names undeclared workload \"{res.placement.colocate_with}\"", *where,
                           hint=did_you_mean(res.placement.colocate_with, ld.workloads) or "declare the workload or fix the name")
        prov = getattr(res, "provider", None)
        if prov is not None and prov not in keys:
            ld.diags.error(f"{res.address}: provider \"{prov}\" is not declared", *where,
                           hint=did_you_mean(prov, keys) or f"declared providers: {', '.join(sorted(keys))}")


def _fleet_dependencies(ld) -> None:
    from dataclasses import replace
    from graphlib import CycleError, TopologicalSorter

    for addr, w in list(ld.workloads.items()):
        fleet = ld.fleets.get(w.placement.fleet or "")
        if fleet is not None and fleet.address not in w.depends_on:
            ld.workloads[addr] = replace(w, depends_on=tuple(sorted(w.depends_on + (fleet.address,), key=str)))
    graph = {a: [str(d) for d in r.depends_on] for a, r in {**ld.fleets, **ld.workloads}.items()}
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as e:
        cycle = list(e.args[1])
        src = {**ld.fleets, **ld.workloads}[cycle[0]].source
        ld.diags.error("Cycle in the configuration: " + " -> ".join(cycle), src.file if src else None,
                       (src.line, src.column) if src else None,
                       hint="a fleet cannot depend on a workload that is placed on it")


def redefined_attributes(body: ast.Body, file: str, diags) -> set:
    """Report every attribute set a second time in one block body (nested blocks too),
    as Terraform's "Attribute redefined", naming where it was first set. Returns the
    ids of the repeated attributes so later checks do not report them again."""
    repeated: set = set()
    first: dict[str, ast.Attribute] = {}
    for a in body.attributes:
        prev = first.setdefault(a.name, a)
        if prev is not a:
            repeated.add(id(a))
            diags.error("Attribute redefined", file, a.pos,
                        detail=f'The argument "{a.name}" was already set at {file}:{prev.pos[0]}:{prev.pos[1]}. '
                               "Each argument may be set only once.",
                        hint=f'keep one "{a.name} = ..." in this block')
    for b in body.blocks:
        repeated |= redefined_attributes(b.body, file, diags)
    return repeated


CATALOG_PRICED = ("aws", "gcp", "azure")  # providers whose regions and zones the catalog lists


def check_region_names(ld) -> None:
    """Every region and zone name written for a catalog-priced provider (provider
    ``regions``, quota ``region``, a fleet's ``region``, placement ``regions``/``zones``
    and their exclusions) must name, or as a glob match, a region or zone the catalog
    has for that provider. Names for Kubernetes and the local machine are theirs to
    define and are not checked. The catalog is read only when there is a name to check."""
    from skyplan.config.model import source_in

    todo: list[tuple] = []  # (kinds, what, name, owner, path)
    kinds_of = {key: cfg.kind for key, cfg in ld.providers.items()} or {"local": "local"}
    for key, cfg in ld.providers.items():
        if cfg.kind not in CATALOG_PRICED:
            continue
        owner = f"provider.{key}"
        todo += [((cfg.kind,), "region", r, owner, f"regions[{i}]") for i, r in enumerate(cfg.regions)]
        todo += [((cfg.kind,), "region", q.region, owner, f"quota[{i}].region")
                 for i, q in enumerate(cfg.quotas) if q.region]
    for address, res in list(ld.workloads.items()) + list(ld.fleets.items()):
        spec = res.placement
        kinds = {kind for key, kind in kinds_of.items() if not spec.providers or key in spec.providers
                 or kind in spec.providers or key.split(".")[0] in spec.providers}
        if getattr(res, "region", None) and getattr(res, "provider", None) in kinds_of:
            kind = kinds_of[res.provider]
            if kind in CATALOG_PRICED:
                todo.append(((kind,), "region", res.region, address, "region"))
        if not kinds or not kinds <= set(CATALOG_PRICED):
            continue  # a cluster or this machine may be among the candidates: its names are its own
        for field in ("regions", "exclude_regions", "zones", "exclude_zones"):
            what = "zone" if "zone" in field else "region"
            todo += [(tuple(sorted(kinds)), what, n, address, f"placement.{field}[{i}]")
                     for i, n in enumerate(getattr(spec, field))]
    if not todo:
        return
    found = _catalog_names(ld)
    if found is None:
        return
    names, source = found
    known_of: dict[tuple, tuple[list, frozenset]] = {}  # (kinds, what) -> the names, sorted and as a set
    fine: set[tuple] = set()  # (kinds, what, name) found already: 10^4 workloads repeat a few names
    for kinds, what, name, owner, path in todo:
        if (kinds, what, name) in fine:
            continue
        hit = known_of.get((kinds, what))
        if hit is None:
            listed = sorted({n for k in kinds for n in names.get((k, what), ())})
            hit = known_of[(kinds, what)] = (listed, frozenset(listed))
        known = hit[0]
        if _matches(name, hit[1]):
            fine.add((kinds, what, name))
            continue
        src = source_in(ld.positions, owner, path)
        where = (src.file, (src.line, src.column)) if src else (None, None)
        label = f"{kinds[0]} {what}" if len(kinds) == 1 else what
        glob = any(ch in name for ch in "*?[")
        summary = f'No {label} matches "{name}"' if glob else f'Unknown {label} "{name}"'
        elsewhere = sorted(k for (k, w), ns in names.items() if w == what and k not in kinds and _matches(name, ns))
        on = " or ".join(kinds)
        detail = f"the catalog ({source}) has no {on} {what} {'matching' if glob else 'named'} \"{name}\""
        if elsewhere:
            detail += f'; "{name}" is a {" and ".join(elsewhere)} {what}'
        hint = did_you_mean(name, known) or (f"{on} {what}s in the catalog: {', '.join(known[:12])}"
                                             f"{', ...' if len(known) > 12 else ''}")
        if not glob and not elsewhere:
            hint += f"; for a {what} the catalog lacks, `skyplan catalog refresh` or `catalog import` its prices"
        ld.diags.error(summary, *where, detail=detail, hint=hint)


def _matches(name: str, known) -> bool:
    from fnmatch import fnmatchcase

    if any(ch in name for ch in "*?["):
        return any(fnmatchcase(k, name) for k in known)
    return name in known


def _catalog_names(ld) -> tuple[dict, str] | None:
    """({(provider kind, "region" | "zone"): names}, the catalog's source and date); None
    when the catalog cannot be read (that is reported where the catalog is used)."""
    from skyplan.errors import SkyplanError

    try:
        from skyplan.catalog import load_catalog

        cat = load_catalog(ld.settings.catalog) if ld.settings.catalog else load_catalog()
    except (SkyplanError, OSError):
        return None
    source = f"{cat.source or 'catalog'}, observed {cat.observed_at}" if cat.observed_at else (cat.source or "catalog")
    out: dict = {}
    for o in cat.offers:
        out.setdefault((o.provider, "region"), set()).add(o.region)
        if o.zone:
            out.setdefault((o.provider, "zone"), set()).add(o.zone)
    return out, source

"""CLI commands: ``skyplan catalog list | show | import | refresh``."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from skyplan.commands.common import JSON_OPT, console, emit_json

catalog_app = typer.Typer(
    name="catalog", help="Inspect, import and refresh the offers and prices skyplan plans with.",
    no_args_is_help=True, rich_markup_mode=None,
)

CATALOG_OPT = typer.Option(None, "--catalog", help="Use exactly this catalog CSV instead of the built-in/cached one.")
DEFAULT_LIMIT = 100


def _load(path: Optional[Path]):
    from skyplan.catalog import load_catalog

    return load_catalog(path)


def _money(x: Optional[float]) -> str:
    if x is None:
        return "-"
    return f"{x:.4f}" if x < 1 else f"{x:.2f}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def offer_json(o) -> dict:
    return {"provider": o.provider, "region": o.region, "zone": o.zone, "instance_type": o.instance_type,
            "accelerator": o.accelerator, "accelerator_count": o.accelerator_count,
            "accelerator_memory_gib": o.accelerator_memory_gib, "vcpus": o.vcpus, "memory_gib": o.memory_gib,
            "arch": o.arch, "on_demand": o.on_demand, "spot": o.spot, "reserved": o.reserved,
            "interruption_band": o.interruption_band, "observed_at": o.observed_at}


def _table(offers, title: str = ""):
    from rich.table import Table

    table = Table(title=title or None, box=None, header_style="bold", pad_edge=False)
    for col, justify in (("PROVIDER", "left"), ("REGION", "left"), ("ZONE", "left"), ("INSTANCE", "left"),
                         ("ACCEL", "left"), ("vCPUs", "right"), ("MEM", "right"), ("$/h", "right"),
                         ("SPOT $/h", "right"), ("RESERVED", "right"), ("BAND", "left")):
        table.add_column(col, justify=justify, no_wrap=True)
    for o in offers:
        table.add_row(o.provider, o.region, o.zone or "-", o.instance_type, o.accelerators or "-",
                      _num(o.vcpus), _num(o.memory_gib), _money(o.on_demand), _money(o.spot),
                      _money(o.reserved), o.interruption_band or "-")
    return table


def _print_table(out, table) -> None:
    """Full rows when piped (no ellipses for scripts and logs); the terminal's width otherwise."""
    if not out.is_terminal:
        out.width = max(out.width, 240)
    out.print(table)


def list_cmd(
    accelerator: Optional[str] = typer.Option(None, "--accelerator", "-a", help="Accelerator name or alias (H100, a100-80gb, ...)."),
    provider: Optional[str] = typer.Option(None, "--provider", help="aws | gcp | azure | kubernetes | local."),
    region: Optional[str] = typer.Option(None, "--region", help="Region or glob, e.g. 'us-*'."),
    zone: Optional[str] = typer.Option(None, "--zone", help="Zone or glob."),
    instance_type: Optional[str] = typer.Option(None, "--instance-type", help="Exact instance type."),
    min_accelerators: Optional[float] = typer.Option(None, "--min-accelerators", min=0, help="At least this many accelerators per node."),
    spot: bool = typer.Option(False, "--spot", help="Spot offers only; prices and --max-price use the spot price."),
    reserved: bool = typer.Option(False, "--reserved", help="Offers with a reserved (1-year) price; sort and cap by it."),
    max_price: Optional[float] = typer.Option(None, "--max-price", min=0, help="Highest $/h per node for the pricing in use."),
    limit: Optional[int] = typer.Option(None, "--limit", min=0, help=f"Show at most N offers (table default {DEFAULT_LIMIT}; 0 = all)."),
    as_json: bool = JSON_OPT,
    catalog: Optional[Path] = CATALOG_OPT,
) -> None:
    """List offers, cheapest first, with on-demand, spot and reserved prices."""
    if provider == "local" and catalog is None:
        from skyplan.catalog import Catalog, local_offers

        cat = Catalog(local_offers(), source="this machine")
    else:
        cat = _load(catalog)
    pricing = "spot" if spot else "reserved" if reserved else "on_demand"
    offers = cat.query(provider=provider, region=region, zone=zone, accelerator=accelerator,
                       min_accelerators=min_accelerators, instance_type=instance_type,
                       max_price=max_price, pricing=pricing)
    total = len(offers)
    cap = limit if limit is not None else (0 if as_json else DEFAULT_LIMIT)
    shown = offers[:cap] if cap else offers
    if as_json:
        emit_json({"source": cat.source, "observed_at": cat.observed_at, "pricing": pricing, "total": total,
                   "offers": [offer_json(o) for o in shown]})
        return
    out = console()
    if not offers:
        out.print(f"No offers match. (catalog: {cat.source}, observed {cat.observed_at or 'unknown'})")
        if provider == "kubernetes" and not cat.for_provider("kubernetes"):
            out.print("Kubernetes offers are read live from the cluster's nodes when a plan is made.")
        if region and not any(ch in region for ch in "*?["):
            import difflib

            known = {r for p in ([provider] if provider else cat.providers) for r in cat.regions(p)}
            if region not in known:
                near = difflib.get_close_matches(region, sorted(known), n=3, cutoff=0.6)
                out.print(f"No region {region!r} in the catalog" + (f"; did you mean {', '.join(near)}?" if near else "."))
        return
    _print_table(out, _table(shown))
    more = f"; showing the cheapest {len(shown)} (--limit 0 for all)" if len(shown) < total else ""
    out.print(f"\n{total} offer(s){more}. Catalog: {cat.source}, observed {cat.observed_at or 'unknown'}.")


def show_cmd(
    provider: str = typer.Argument(..., help="aws | gcp | azure | kubernetes | local."),
    instance_type: str = typer.Argument(..., help="Instance type, e.g. p5.48xlarge."),
    as_json: bool = JSON_OPT,
    catalog: Optional[Path] = CATALOG_OPT,
) -> None:
    """Show one instance type: its shape and its prices in every region and zone."""
    import difflib

    from skyplan.errors import CatalogError

    if provider == "kubernetes" and catalog is None:
        raise CatalogError("Kubernetes offers are not in the catalog: they are read live from the cluster's "
                           "nodes when a plan is made", hint="configure a kubernetes provider; plan reads each Ready node's allocatable CPU, memory and GPUs")
    if provider == "local" and catalog is None:
        from skyplan.catalog import Catalog, local_offers

        cat = Catalog(local_offers(), source="this machine")
    else:
        cat = _load(catalog)
    offers = sorted(cat.get(provider, instance_type), key=lambda o: (o.on_demand or 0, o.region, o.zone or ""))
    if not offers:
        names = sorted({o.instance_type for o in cat.for_provider(provider)})
        near = difflib.get_close_matches(instance_type, names, n=3, cutoff=0.6)
        if not names:
            raise CatalogError(f"the catalog has no offers for provider {provider!r}",
                               hint="providers in this catalog: " + ", ".join(cat.providers))
        raise CatalogError(f"{provider} has no instance type {instance_type!r} in the catalog",
                           hint=f"did you mean {', '.join(near)}?" if near else
                           f"list them with: skyplan catalog list --provider {provider}")
    if as_json:
        emit_json({"source": cat.source, "observed_at": cat.observed_at, "offers": [offer_json(o) for o in offers]})
        return
    first = offers[0]
    out = console()
    shape = f"{_num(first.vcpus)} vCPUs, {_num(first.memory_gib)} GiB, {first.arch}"
    accels = sorted({o.accelerators for o in offers if o.accelerators})
    if accels:
        mem = first.accelerator_memory_gib
        shape += f", {' or '.join(accels)}" + (f" ({_num(mem)} GiB each)" if mem else "")
    out.print(f"[bold]{provider} {instance_type}[/]: {shape}")
    regions = sorted({o.region for o in offers})
    out.print(f"Offered in {len(regions)} region(s), {len(offers)} offer(s); "
              f"on-demand ${_money(min(o.on_demand or 0 for o in offers))}-${_money(max(o.on_demand or 0 for o in offers))}/h.\n")
    _print_table(out, _table(offers))
    out.print(f"\nCatalog: {cat.source}, observed {cat.observed_at or 'unknown'}.")


def import_cmd(
    file: Path = typer.Argument(..., help="Catalog CSV: skyplan's format, or a SkyPilot vms.csv with --provider."),
    provider: Optional[str] = typer.Option(None, "--provider", help="The cloud of a file without a Cloud column."),
    as_json: bool = JSON_OPT,
) -> None:
    """Check a catalog file and merge it into your catalog cache (nothing is imported if a row is malformed)."""
    from skyplan.catalog.importer import import_file

    report = import_file(file, provider=provider)
    if as_json:
        emit_json(report.to_json())
        return
    out = console()
    out.print(f"Imported {report.imported} offer(s) ({', '.join(report.providers)}) from {report.path}; "
              f"the cache now holds {report.cache_rows}.")
    for what, n in sorted(report.notes.items()):
        out.print(f"  {n}: {what}")
    for why, n in sorted(report.dropped.items()):
        out.print(f"  dropped {n}: {why}")


def refresh_cmd(
    provider: Optional[List[str]] = typer.Option(None, "--provider", help="aws | gcp | azure (repeatable; default all three)."),
    region: Optional[List[str]] = typer.Option(None, "--region", help="Only these regions or globs like 'us-*' (repeatable; default the built-in catalog's)."),
    endpoint_url: Optional[str] = typer.Option(None, "--endpoint-url", help="Send the pricing API calls here (a mirror or a local emulator)."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 when any provider asked kept some of its prices (not refreshed, or only in part)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Fetch live prices from the providers' pricing APIs into your catalog cache.

    AWS uses your usual AWS credentials (EC2 and the Price List API); GCP needs an API
    key in SKYPLAN_GCP_API_KEY (Cloud Billing Catalog API); Azure's Retail Prices API
    needs none. When a provider's API cannot be reached its current prices (the built-in
    snapshot, or what the cache already holds) stay in use and the command warns; it
    exits 0 when at least one provider was refreshed (1 with --strict if any was not),
    and 1 with an error when none was."""
    from skyplan.catalog.refresh import refresh_all

    reports = refresh_all(provider or (), regions=region or (), endpoint_url=endpoint_url)
    failed = [r for r in reports if not r.ok]
    partial = [r for r in reports if r.ok and r.kept]
    fatal = len(failed) == len(reports) or (strict and bool(failed or partial))
    if as_json:
        emit_json({"providers": [r.to_json() for r in reports]})
    else:
        out = console()
        err = console(stderr=True)
        label = "[red]Error:[/]" if fatal else "[yellow]Warning:[/]"
        for r in reports:
            if r.ok:
                out.print(f"{r.provider}: refreshed {r.offers} offer(s) in {len(r.regions)} region(s), "
                          f"observed {r.observed_at}.")
                for note in r.notes:
                    if note not in r.kept:
                        out.print(f"  note: {note}")
                for kept in r.kept:
                    err.print(f"{label} {r.provider}: {kept}")
            else:
                err.print(f"{label} {r.provider}: {r.error}; keeping the {r.fallback} for {r.provider}.")
        if len(failed) == len(reports):
            err.print("[red]Error:[/] no provider was refreshed; plans keep using the prices named above.")
    if fatal:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the ``catalog`` group to the app."""
    catalog_app.command("list")(list_cmd)
    catalog_app.command("show")(show_cmd)
    catalog_app.command("import")(import_cmd)
    catalog_app.command("refresh")(refresh_cmd)
    app.add_typer(catalog_app, name="catalog")

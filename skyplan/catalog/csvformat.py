"""The catalog file format: CSV rows in, Offers out (and back).

The columns are SkyPilot's ``vms.csv`` columns plus ``Cloud`` and a few optional
ones (documented in ``schemas/catalog.schema.json``)::

    InstanceType, AcceleratorName, AcceleratorCount, vCPUs, MemoryGiB, Price,
    SpotPrice, Region, AvailabilityZone, Cloud,
    [ReservedPrice, InterruptionBand, AcceleratorMemoryGiB, Arch, ObservedAt]

Unknown extra columns (e.g. SkyPilot's ``GpuInfo``) are ignored. ``parse`` checks
every row and reports each fault with its row number (the header is row 1) and
column; it never returns a partial result when a row is malformed. Prices that
are placeholders rather than prices (0 or 700.0 for a cloud, a spot price above
on-demand or below 0.5% of it) are dropped and counted, not treated as errors.
GCP rows pricing a GPU alone (no instance type) are added to their host VMs
(gcp_attach.py).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import date
from typing import Iterable, Sequence

from skyplan.catalog.accelerators import CANONICAL, canonical, close_matches
from skyplan.catalog.catalog import CLOUDS
from skyplan.catalog.offer import INTERRUPTION_BANDS, Offer
from skyplan.errors import CatalogError

REQUIRED = ("InstanceType", "AcceleratorName", "AcceleratorCount", "vCPUs", "MemoryGiB",
            "Price", "SpotPrice", "Region", "AvailabilityZone")
OPTIONAL = ("Cloud", "ReservedPrice", "InterruptionBand", "AcceleratorMemoryGiB", "Arch", "ObservedAt")
COLUMNS = REQUIRED + OPTIONAL
FREE_CLOUDS = ("kubernetes", "local")  # price 0 is real here: capacity already paid for
SENTINEL_PRICES = (0.0, 700.0)
MIN_SPOT_FRACTION = 0.005  # a spot price below 0.5% of on-demand is a placeholder
ARCHES = ("x86_64", "arm64")
_ARCH_ALIASES = {"x86_64": "x86_64", "amd64": "x86_64", "i386": "x86_64", "x86": "x86_64",
                 "arm64": "arm64", "aarch64": "arm64", "arm": "arm64"}
MAX_REPORTED = 20


@dataclass
class ParseResult:
    """Offers read from one file, and what was dropped (reason -> count)."""

    offers: list[Offer]
    dropped: dict[str, int] = field(default_factory=dict)
    rows: int = 0
    notes: dict[str, int] = field(default_factory=dict)  # rows transformed, not dropped
    gpu_rows: list[Offer] = field(default_factory=list)  # GCP GPU-only price rows (see gcp_attach)

    def drop(self, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1


class _Row:
    """Field access for one CSV row that records faults instead of raising."""

    __slots__ = ("values", "index", "line", "errors")

    def __init__(self, values: Sequence[str], index: dict[str, int], line: int, errors: list[str]):
        self.values, self.index, self.line, self.errors = values, index, line, errors

    def text(self, col: str) -> str:
        i = self.index.get(col)
        if i is None or i >= len(self.values):
            return ""
        return self.values[i].strip()

    def fault(self, col: str, message: str) -> None:
        self.errors.append(f"row {self.line}, column {col}: {message}")

    def number(self, col: str, *, required: bool = False) -> float | None:
        raw = self.text(col)
        if not raw:
            if required:
                self.fault(col, "is empty; a number is required")
            return None
        try:
            value = float(raw)
        except ValueError:
            self.fault(col, f"{raw!r} is not a number")
            return None
        if math.isnan(value) or math.isinf(value) or value < 0:
            self.fault(col, f"{raw!r} must be a finite number >= 0")
            return None
        return value


def parse(source: str | io.TextIOBase | Iterable[str], *, name: str = "catalog",
          provider: str | None = None, trusted: bool = False,
          consequence: str = "nothing was imported") -> ParseResult:
    """Read catalog CSV text (or an open file) into Offers.

    ``provider`` names the cloud when the file has no ``Cloud`` column (a SkyPilot
    ``vms.csv``), and must agree with it when it has one. ``trusted`` skips the
    placeholder-price rules for files skyplan wrote itself (faster). ``consequence`` says
    in the error what a malformed file means for the caller."""
    if isinstance(source, str):
        source = io.StringIO(source)
    reader = csv.reader(source)
    try:
        header = [h.strip().lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        raise CatalogError(f"{name}: the file is empty", hint="a catalog starts with a header row: "
                           + ",".join(REQUIRED) + ",Cloud") from None
    index = {h: i for i, h in enumerate(header)}
    missing = [c for c in REQUIRED if c not in index]
    if missing:
        raise CatalogError(f"{name}: row 1: missing column(s) {', '.join(missing)}",
                           hint="required columns: " + ", ".join(REQUIRED) + " (and Cloud, or --provider)")
    if "Cloud" not in index and not provider:
        raise CatalogError(f"{name}: row 1: no Cloud column",
                           hint="add a Cloud column (aws|gcp|azure|kubernetes|local), or import the file with "
                                "`skyplan catalog import FILE --provider CLOUD`")
    if provider and provider not in CLOUDS:
        raise CatalogError(f"unknown provider {provider!r}", hint="one of: " + ", ".join(CLOUDS))
    result = ParseResult([])
    if trusted and tuple(header) == COLUMNS:
        result.offers = _parse_own(reader)
        result.rows = len(result.offers)
        return result
    errors: list[str] = []
    for line, values in enumerate(reader, start=2):
        if not values or all(not v.strip() for v in values):
            continue
        result.rows += 1
        if len(values) < len(header):
            errors.append(f"row {line}, column {header[len(values)]}: missing; the row has {len(values)} value(s), "
                          f"the header {len(header)}")
            continue
        if any(v.strip() for v in values[len(header):]):
            errors.append(f"row {line}: {len(values)} values, more than the header's {len(header)} columns")
            continue
        offer = _offer(_Row(values, index, line, errors), provider, result, trusted)
        if offer is not None:
            result.offers.append(offer)
    if result.gpu_rows and not errors:
        from skyplan.catalog.gcp_attach import combine

        result.offers, result.notes = combine(result.offers, result.gpu_rows)
    if errors:
        shown = errors[:MAX_REPORTED]
        more = f"\n  ... and {len(errors) - MAX_REPORTED} more" if len(errors) > MAX_REPORTED else ""
        raise CatalogError(f"{name}: {len(errors)} malformed value(s); {consequence}:\n  "
                           + "\n  ".join(shown) + more,
                           hint="fix the rows named above; the format is described in schemas/catalog.schema.json")
    return result


def _parse_own(reader) -> list[Offer]:
    """The fast path for files skyplan wrote itself (``write``): columns in our order,
    names already canonical, prices already checked."""
    out = []
    for v in reader:
        if len(v) != 15:
            continue
        it, an, ac, vc, mem, pr, sp, rg, az, cl, rp, ib, am, ar, ob = v
        out.append(Offer(cl, rg, az or None, it, an or None, float(ac) if ac else 0,
                         float(am) if am else None, float(vc) if vc else 0.0, float(mem) if mem else 0.0,
                         ar or "x86_64", float(pr) if pr else 0.0, float(sp) if sp else None,
                         float(rp) if rp else None, ib or None, ob or None))
    return out


def _offer(row: _Row, provider: str | None, result: ParseResult, trusted: bool) -> Offer | None:
    n_errors = len(row.errors)
    cloud = row.text("Cloud").lower() or (provider or "")
    if cloud not in CLOUDS:
        row.fault("Cloud", f"{cloud!r} is not one of {', '.join(CLOUDS)}")
    elif provider and cloud != provider:
        row.fault("Cloud", f"{cloud!r} disagrees with --provider {provider}")
    instance_type = row.text("InstanceType")
    region = row.text("Region")
    if not region:
        row.fault("Region", "is empty")
    zone = row.text("AvailabilityZone") or None
    accel_raw = row.text("AcceleratorName")
    accel = None
    if accel_raw:
        accel = canonical(accel_raw)
        if accel is None:
            near = close_matches(accel_raw)
            row.fault("AcceleratorName", f"unknown accelerator {accel_raw!r}"
                      + (f" (did you mean {', '.join(near)}?)" if near else
                         f" (known: {', '.join(sorted(CANONICAL))})"))
    count = row.number("AcceleratorCount") or 0.0
    if accel and count <= 0:
        row.fault("AcceleratorCount", "must be > 0 when AcceleratorName is set")
    shape_required = bool(instance_type) and not trusted and cloud not in FREE_CLOUDS
    vcpus = row.number("vCPUs", required=shape_required) or 0.0
    memory = row.number("MemoryGiB", required=shape_required) or 0.0
    price = row.number("Price")
    spot = row.number("SpotPrice")
    reserved = row.number("ReservedPrice")
    accel_mem = row.number("AcceleratorMemoryGiB")
    band = row.text("InterruptionBand") or None
    if band is not None and band not in INTERRUPTION_BANDS:
        row.fault("InterruptionBand", f"{band!r} is not one of {', '.join(INTERRUPTION_BANDS)}")
    arch_raw = row.text("Arch").lower() or "x86_64"
    arch = _ARCH_ALIASES.get(arch_raw)
    if arch is None:
        row.fault("Arch", f"{arch_raw!r} is not one of {', '.join(ARCHES)}")
    observed = row.text("ObservedAt") or None
    if observed is not None and not trusted:
        try:
            ok = len(observed) == 10 and bool(date.fromisoformat(observed))
        except ValueError:
            ok = False
        if not ok:  # as schemas/catalog.schema.json says: YYYY-MM-DD
            row.fault("ObservedAt", f"{observed!r} is not a date like 2026-11-28")
    if len(row.errors) > n_errors:
        return None
    gpu_only = not instance_type
    if gpu_only and not (cloud == "gcp" and accel):
        result.drop("row without an InstanceType")
        return None
    if cloud not in FREE_CLOUDS and (price is None or price in SENTINEL_PRICES):
        result.drop("on-demand price missing or a placeholder (0 or 700.0)")
        return None
    if price is None:
        price = 0.0
    if spot is not None and cloud not in FREE_CLOUDS and not trusted:
        if spot in SENTINEL_PRICES or spot > price or spot < price * MIN_SPOT_FRACTION:
            result.drop("spot price a placeholder or above on-demand (spot dropped, row kept)")
            spot = None
    if reserved is not None and cloud not in FREE_CLOUDS and not trusted:
        if reserved in SENTINEL_PRICES or reserved > price:
            result.drop("reserved price a placeholder or above on-demand (reserved dropped, row kept)")
            reserved = None
    if accel and accel_mem is None:
        accel_mem = CANONICAL.get(accel)
    offer = Offer(
        provider=cloud, region=region, zone=zone, instance_type=instance_type,
        accelerator=accel, accelerator_count=count if accel else 0,
        accelerator_memory_gib=accel_mem if accel else None,
        vcpus=vcpus, memory_gib=memory, arch=arch or "x86_64",
        on_demand=price, spot=spot, reserved=reserved, interruption_band=band, observed_at=observed,
    )
    if gpu_only:  # a GCP GPU priced alone: added to its host VM after the whole file is read
        result.gpu_rows.append(offer)
        return None
    return offer


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6g}" if abs(value) >= 1e5 else f"{round(value, 6)}"


def row_of(offer: Offer) -> list[str]:
    return [
        offer.instance_type, offer.accelerator or "", _fmt(offer.accelerator_count) if offer.accelerator else "",
        _fmt(offer.vcpus), _fmt(offer.memory_gib), _fmt(offer.on_demand), _fmt(offer.spot),
        offer.region, offer.zone or "", offer.provider, _fmt(offer.reserved), offer.interruption_band or "",
        _fmt(offer.accelerator_memory_gib) if offer.accelerator else "", offer.arch, offer.observed_at or "",
    ]


def write(offers: Iterable[Offer], out: io.TextIOBase) -> int:
    """Write offers in the catalog format; returns the number of rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    n = 0
    for o in offers:
        writer.writerow(row_of(o))
        n += 1
    return n


def dumps(offers: Iterable[Offer]) -> str:
    buf = io.StringIO()
    write(offers, buf)
    return buf.getvalue()

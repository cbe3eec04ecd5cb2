"""The Catalog: a set of Offers, indexed once for fast filtered look-ups.

Indexes are built at construction (by provider, by accelerator, by provider and
instance type, by region); a query starts from the smallest index that applies
and filters the rest. Results are sorted by the price in use, cheapest first.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Iterable, Sequence

from skyplan.catalog.accelerators import canonical, close_matches
from skyplan.catalog.offer import Offer
from skyplan.errors import CatalogError

PRICINGS = ("on_demand", "spot", "reserved")


def _glob(pattern: str):
    """A compiled matcher for a region/zone glob (``us-*``); exact names stay cheap."""
    if not any(ch in pattern for ch in "*?["):
        return pattern.__eq__
    return re.compile(fnmatch.translate(pattern)).match


def resolve_accelerator(name: str) -> str:
    """The canonical accelerator name, or a CatalogError naming close matches."""
    canon = canonical(name)
    if canon is None:
        near = close_matches(name)
        raise CatalogError(f"unknown accelerator {name!r}",
                           hint=f"did you mean {', '.join(near)}?" if near else
                           "run `skyplan catalog list` to see the accelerators on offer")
    return canon


class Catalog:
    """Offers plus where they came from. Treat as immutable once built."""

    __slots__ = ("offers", "source", "observed_at", "_by_provider", "_by_accel", "_by_type",
                 "_by_region")

    def __init__(self, offers: Iterable[Offer], *, source: str = "", observed_at: str = ""):
        self.offers: tuple[Offer, ...] = tuple(offers)
        self.source = source
        self.observed_at = observed_at or max((o.observed_at or "" for o in self.offers), default="")
        by_provider: dict[str, list[Offer]] = {}
        by_accel: dict[str | None, list[Offer]] = {}
        by_type: dict[tuple[str, str], list[Offer]] = {}
        by_region: dict[tuple[str, str], list[Offer]] = {}
        for o in self.offers:
            by_provider.setdefault(o.provider, []).append(o)
            by_accel.setdefault(o.accelerator, []).append(o)
            by_type.setdefault((o.provider, o.instance_type), []).append(o)
            by_region.setdefault((o.provider, o.region), []).append(o)
        self._by_provider = by_provider
        self._by_accel = by_accel
        self._by_type = by_type
        self._by_region = by_region

    def __len__(self) -> int:
        return len(self.offers)

    def __repr__(self) -> str:
        return f"Catalog({len(self.offers)} offers, source={self.source!r}, observed_at={self.observed_at!r})"

    @property
    def providers(self) -> list[str]:
        return sorted(self._by_provider)

    def regions(self, provider: str) -> list[str]:
        return sorted({r for (p, r) in self._by_region if p == provider})

    def get(self, provider: str, instance_type: str) -> list[Offer]:
        """Every offer of one instance type (all regions and zones)."""
        return list(self._by_type.get((provider, instance_type), ()))

    def for_provider(self, kind: str, regions: Sequence[str] = ()) -> list[Offer]:
        """Offers of one provider kind in regions matching any of ``regions`` (globs; empty = all)."""
        offers = self._by_provider.get(kind, [])
        if not regions:
            return list(offers)
        out: list[Offer] = []
        for pattern in regions:
            if not any(ch in pattern for ch in "*?["):
                out.extend(self._by_region.get((kind, pattern), ()))
            else:
                match = _glob(pattern)
                for (p, r), rows in self._by_region.items():
                    if p == kind and match(r):
                        out.extend(rows)
        seen: set[int] = set()
        return [o for o in out if not (id(o) in seen or seen.add(id(o)))]

    def query(self, *, provider: str | None = None, region: str | None = None, zone: str | None = None,
              accelerator: str | None = None, min_accelerators: float | None = None,
              instance_type: str | None = None, spot: bool = False, max_price: float | None = None,
              pricing: str = "on_demand") -> list[Offer]:
        """Offers matching every given filter, cheapest first.

        ``accelerator`` takes any alias (``nvidia-h100-80gb``); ``region``/``zone`` are
        globs; ``spot=True`` means the spot price is the one in use; ``max_price``
        bounds the price in use. Offers without a price for it are left out."""
        if spot:
            pricing = "spot"
        if pricing not in PRICINGS:
            raise CatalogError(f"unknown pricing {pricing!r}", hint="one of: " + ", ".join(PRICINGS))
        accel = resolve_accelerator(accelerator) if accelerator else None
        candidates: list[Sequence[Offer]] = []
        if provider is not None and instance_type is not None:
            candidates.append(self._by_type.get((provider, instance_type), ()))
        if provider is not None and region is not None and not any(ch in region for ch in "*?["):
            candidates.append(self._by_region.get((provider, region), ()))
        if accel is not None:
            candidates.append(self._by_accel.get(accel, ()))
        if provider is not None:
            candidates.append(self._by_provider.get(provider, ()))
        pool = min(candidates, key=len) if candidates else self.offers
        region_ok = _glob(region) if region else None
        zone_ok = _glob(zone) if zone else None
        out = []
        for o in pool:
            if provider is not None and o.provider != provider:
                continue
            if accel is not None and o.accelerator != accel:
                continue
            if instance_type is not None and o.instance_type != instance_type:
                continue
            if min_accelerators is not None and o.accelerator_count < min_accelerators:
                continue
            price = o.price(pricing)
            if price is None or (max_price is not None and price > max_price):
                continue
            if region_ok is not None and not region_ok(o.region):
                continue
            if zone_ok is not None and not (o.zone and zone_ok(o.zone)):
                continue
            out.append(o)
        out.sort(key=lambda o: (o.price(pricing), o.provider, o.region, o.zone or "", o.instance_type))
        return out

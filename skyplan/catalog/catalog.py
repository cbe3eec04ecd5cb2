"""The Catalog: a set of Offers, indexed once for fast filtered look-ups.

Indexes are built at construction (by provider, by accelerator, by provider and
instance type, by region). A query naming an instance type or an exact region
starts from that small index; any other query uses a list for its (provider,
accelerator, pricing) kept sorted by price (built on first use), cuts it at
``max_price`` by bisection and filters the rest. Results are sorted by the price
in use, cheapest first.
"""

from __future__ import annotations

import bisect
import fnmatch
import re
from typing import Iterable, Sequence

from skyplan.catalog.accelerators import canonical, close_matches
from skyplan.catalog.offer import Offer
from skyplan.errors import CatalogError

PRICINGS = ("on_demand", "spot", "reserved")
CLOUDS = ("aws", "gcp", "azure", "kubernetes", "local")  # the provider kinds an offer may have
_MAX_SORTED = 512  # cached sorted views per catalog


def _glob(pattern: str):
    """A compiled matcher for a region/zone glob (``us-*``); exact names stay cheap."""
    if not any(ch in pattern for ch in "*?["):
        return pattern.__eq__
    return re.compile(fnmatch.translate(pattern)).match


def _did_you_mean(name: str, choices) -> str:
    import difflib

    hits = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f"did you mean {hits[0]!r}?" if hits else ""


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
                 "_by_region", "_sorted")

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
        self._sorted: dict[tuple, tuple[list[Offer], list[float]]] = {}

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
        if provider is not None and provider not in CLOUDS:
            raise CatalogError(f"unknown provider {provider!r}",
                               hint=" ".join(filter(None, (_did_you_mean(provider, CLOUDS), "one of: " + ", ".join(CLOUDS)))))
        accel = resolve_accelerator(accelerator) if accelerator else None
        zone_ok = _glob(zone) if zone else None
        small = None
        if provider is not None and instance_type is not None:
            small = self._by_type.get((provider, instance_type), ())
        if small is not None:
            region_ok = _glob(region) if region else None
            pool: Sequence[Offer] = sorted(
                (o for o in small if o.price(pricing) is not None and (region_ok is None or region_ok(o.region))),
                key=lambda o: (o.price(pricing), o.provider, o.region, o.zone or "", o.instance_type))
        else:
            rows, prices = self._sorted_for(provider, accel, pricing, region)
            pool = rows[:bisect.bisect_right(prices, max_price)] if max_price is not None else rows[:]
            if min_accelerators is None and zone is None and instance_type is None:
                return pool
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
            if max_price is not None and o.price(pricing) > max_price:
                continue
            if zone_ok is not None and not (o.zone and zone_ok(o.zone)):
                continue
            out.append(o)
        return out

    def _sorted_for(self, provider: str | None, accel: str | None, pricing: str, region: str | None
                    ) -> tuple[list[Offer], list[float]]:
        """Offers of this provider, accelerator and region glob (None = any) that have a
        ``pricing`` price, cheapest first, with their prices (for bisection). Kept per key:
        the catalog never changes, and callers repeat the same shapes of query."""
        key = (provider, accel, pricing, region)
        hit = self._sorted.get(key)
        if hit is not None:
            return hit
        if region is not None:
            match = _glob(region)
            rows = [o for o in self._sorted_for(provider, accel, pricing, None)[0] if match(o.region)]
        else:
            if accel is not None:
                base: Sequence[Offer] = self._by_accel.get(accel, ())
            elif provider is not None:
                base = self._by_provider.get(provider, ())
            else:
                base = self.offers
            rows = [o for o in base if o.price(pricing) is not None
                    and (provider is None or o.provider == provider)]
            rows.sort(key=lambda o: (o.price(pricing), o.provider, o.region, o.zone or "", o.instance_type))
        hit = (rows, [o.price(pricing) for o in rows])
        if len(self._sorted) >= _MAX_SORTED:
            self._sorted.clear()
        self._sorted[key] = hit
        return hit

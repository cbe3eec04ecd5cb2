"""OfferIndex: the offers of one provider key, bucketed so that a request finds
the offers that can hold it without looking at any other.

A bucket is one region and one hardware class: an accelerator model, count and
CPU architecture (``("acc", "H100", 8, "x86_64")``), or for machines without
accelerators a shape and architecture (``("cpu", 16, 64, "x86_64")``: vCPUs, GiB). Each
bucket's offers are kept sorted by the price the solver ranks them by (the
effective price of one pricing model), built on first use. An instance type
has its own look-up per region. Shared machines (Kubernetes nodes, this
machine), which fit any request they can hold, are listed apart.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from skyplan.catalog.offer import Offer

SHARED_KINDS = ("kubernetes", "local")

# (effective price, price, zone, instance type, sequence, offer), cheapest first; the rows
# compare as plain tuples (the sequence number keeps two offers from ever being compared)
Ranked = tuple[tuple[float, float, str, str, int, Offer], ...]


def bucket_of(offer: Offer) -> tuple:
    if offer.accelerator:
        return ("acc", offer.accelerator, float(offer.accelerator_count), offer.arch)
    return ("cpu", float(offer.vcpus), float(offer.memory_gib), offer.arch)


class OfferIndex:
    """Offers of one provider key by (region, bucket) and by (region, instance type)."""

    __slots__ = ("offers", "shared", "regions", "_buckets", "_by_type", "_cpu_shapes", "_cpu_buckets", "_ranked",
                 "_heads", "_spans")

    def __init__(self, offers: Iterable[Offer]):
        self.offers: tuple[Offer, ...] = tuple(offers)
        self.shared = tuple(o for o in self.offers if o.provider in SHARED_KINDS)
        buckets: dict[tuple[str, tuple], list[Offer]] = {}
        by_type: dict[tuple[str, str], list[Offer]] = {}
        regions: dict[str, None] = {}
        shapes: dict[str, set[tuple[float, float]]] = {}
        cpu_buckets: dict[str, dict[tuple, None]] = {}
        for o in self.offers:
            if o.provider in SHARED_KINDS:
                continue
            regions.setdefault(o.region)
            b = bucket_of(o)
            buckets.setdefault((o.region, b), []).append(o)
            by_type.setdefault((o.region, o.instance_type), []).append(o)
            if b[0] == "cpu":
                shapes.setdefault(o.arch, set()).add((b[1], b[2]))
                cpu_buckets.setdefault(o.region, {}).setdefault(b)
        self.regions: tuple[str, ...] = tuple(sorted(regions))
        self._buckets = buckets
        self._by_type = by_type
        self._cpu_shapes = {arch: tuple(sorted(v)) for arch, v in shapes.items()}
        self._cpu_buckets = {r: tuple(bs) for r, bs in cpu_buckets.items()}
        self._ranked: dict[tuple, Ranked] = {}
        self._heads: dict[tuple, tuple[tuple[tuple, tuple, Ranked], ...]] = {}
        self._spans: dict[tuple, tuple[float, float, float, float]] | None = None

    def cpu_shapes(self, arch: str) -> tuple[tuple[float, float], ...]:
        """The (vCPUs, GiB) shapes of machines without accelerators of ``arch``, ascending."""
        return self._cpu_shapes.get(arch, ())

    def span(self, bucket: tuple) -> tuple[float, float, float, float] | None:
        """(fewest vCPUs, most vCPUs, least GiB, most GiB) of an accelerator bucket's
        offers in every region; None when it has none."""
        if self._spans is None:
            spans: dict[tuple, tuple[float, float, float, float]] = {}
            for (_, b), offers in self._buckets.items():
                if b[0] != "acc":
                    continue  # only accelerator requests ask (skyplan.solver.candidates)
                lo_v, hi_v, lo_m, hi_m = spans.get(b, (float("inf"), float("-inf"), float("inf"), float("-inf")))
                for o in offers:
                    lo_v, hi_v = min(lo_v, o.vcpus), max(hi_v, o.vcpus)
                    lo_m, hi_m = min(lo_m, o.memory_gib), max(hi_m, o.memory_gib)
                spans[b] = (lo_v, hi_v, lo_m, hi_m)
            self._spans = spans
        return self._spans.get(bucket)

    def of_type(self, region: str, instance_type: str) -> Sequence[Offer]:
        return self._by_type.get((region, instance_type), ())

    def ranked(self, region: str, bucket: tuple, pricing: str, price_of, rank_of) -> Ranked:
        """The bucket's offers that have a ``pricing`` price, cheapest first by
        ``rank_of(offer, price)`` (ties by price, zone, instance type), as ``Ranked`` rows.
        ``price_of(offer)`` gives the price (None: not offered so)."""
        key = (region, bucket, pricing)
        hit = self._ranked.get(key)
        if hit is None:
            rows = []
            for i, o in enumerate(self._buckets.get((region, bucket), ())):
                p = price_of(o)
                if p is not None and p >= 0:
                    rows.append((rank_of(o, p), p, o.zone or "", o.instance_type, i, o))
            rows.sort()
            hit = self._ranked[key] = tuple(rows)
        return hit

    def heads(self, region: str, pricing: str, price_of, rank_of) -> tuple[tuple[tuple, tuple, Ranked], ...]:
        """Every bucket of machines without accelerators in ``region`` that has a
        ``pricing`` price, as (its first ranked row, the bucket, its ranked rows), by
        first row, cheapest first (``ranked`` gives the arguments' meaning)."""
        key = (region, pricing)
        hit = self._heads.get(key)
        if hit is None:
            heads = []
            for b in self._cpu_buckets.get(region, ()):
                rows = self.ranked(region, b, pricing, price_of, rank_of)
                if rows:
                    heads.append((rows[0], b, rows))
            heads.sort(key=_first)  # two buckets' first rows differ by instance type at the latest
            hit = self._heads[key] = tuple(heads)
        return hit


def _first(t: tuple):
    return t[0]

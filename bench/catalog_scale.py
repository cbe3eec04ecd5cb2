"""Catalog scale: import a generated 50,000-row catalog, then 1,000 filtered look-ups.

    python bench/catalog_scale.py [--rows 50000] [--lookups 1000]

Prints: the built-in catalog's load time (cold: CSV parse; warm: the compiled
cache file, as a new process sees it; and the in-process reuse),
the import time of the generated file (target < 5 s), the median and p95 of the
look-ups through the indexes (target median < 2 ms), and the same look-ups done
by a plain linear scan over every offer (the baseline) with the ratio.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from fnmatch import fnmatch
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skyplan.catalog import csvformat, load_catalog, store  # noqa: E402
from skyplan.catalog.accelerators import canonical  # noqa: E402
from skyplan.catalog.importer import import_file  # noqa: E402
from skyplan.catalog.offer import INTERRUPTION_BANDS, Offer  # noqa: E402

ACCELS = [None, None, None, "H100", "H200", "A100", "A100-80GB", "L40S", "L4", "A10G", "T4", "V100"]
CLOUDS = {"aws": ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1", "ap-south-1",
                  "us-east-2", "ca-central-1", "ap-southeast-1", "eu-north-1"],
          "gcp": ["us-central1", "us-east4", "europe-west4", "asia-east1", "us-west1", "europe-west2",
                  "asia-northeast1", "asia-south1"],
          "azure": ["eastus", "westus2", "westeurope", "northeurope", "japaneast", "southeastasia",
                    "uksouth", "centralindia"]}


def generate(rows: int, seed: int = 7) -> list[Offer]:
    rng = random.Random(seed)
    out = []
    for i in range(rows):
        cloud = rng.choice(list(CLOUDS))
        region = rng.choice(CLOUDS[cloud])
        accel = rng.choice(ACCELS)
        count = rng.choice([1, 2, 4, 8]) if accel else 0
        vcpus = rng.choice([2, 4, 8, 16, 32, 48, 64, 96, 192])
        od = round(vcpus * 0.045 + (count * rng.uniform(0.3, 9.0) if accel else 0), 4)
        out.append(Offer(cloud, region, None if cloud == "azure" else f"{region}-z{i % 4}", f"t{i}.size",
                         accel, count, None, vcpus, vcpus * 4, "x86_64", od, round(od * rng.uniform(0.2, 0.7), 4),
                         round(od * 0.63, 4), rng.choice(INTERRUPTION_BANDS), "2026-11-28"))
    return out


def linear(offers, *, provider=None, region=None, accelerator=None, min_accelerators=None, spot=False,
           max_price=None):
    accel = canonical(accelerator) if accelerator else None
    pricing = "spot" if spot else "on_demand"
    hits = [o for o in offers
            if (provider is None or o.provider == provider)
            and (accel is None or o.accelerator == accel)
            and (min_accelerators is None or o.accelerator_count >= min_accelerators)
            and o.price(pricing) is not None and (max_price is None or o.price(pricing) <= max_price)
            and (region is None or fnmatch(o.region, region))]
    return sorted(hits, key=lambda o: o.price(pricing))


def queries(n: int, seed: int = 11) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        q: dict = {}
        if rng.random() < 0.8:
            q["accelerator"] = rng.choice(["H100", "nvidia-h100-80gb", "a100-80gb", "L4", "T4", "L40S", "A10G"])
        if rng.random() < 0.6:
            q["provider"] = rng.choice(list(CLOUDS))
        if rng.random() < 0.4:
            q["region"] = rng.choice(["us-*", "eu*", "asia-*", "eastus"])
        if rng.random() < 0.3:
            q["min_accelerators"] = rng.choice([2, 4, 8])
        if rng.random() < 0.4:
            q["spot"] = True
        if rng.random() < 0.3:
            q["max_price"] = rng.choice([2.0, 10.0, 40.0])
        out.append(q)
    return out


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--lookups", type=int, default=1_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SKYPLAN_CACHE_DIR"] = str(Path(tmp) / "cache")
        _, cold = timed(load_catalog)
        _, memo = timed(load_catalog)
        store._MEMO.clear()  # a new process: no in-process copy, only the compiled file
        _, warm = timed(load_catalog)
        print(f"built-in catalog load: cold (CSV parse) {cold * 1000:.0f} ms, warm (compiled file, new process) "
              f"{warm * 1000:.0f} ms (target < 150 ms), again in-process {memo * 1000:.2f} ms")

        path = Path(tmp) / "big.csv"
        path.write_text(csvformat.dumps(generate(args.rows)))
        report, t_import = timed(lambda: import_file(path))
        print(f"import {report.imported:,} rows: {t_import:.2f} s (target < 5 s); cache now {report.cache_rows:,} rows")

        cat, t_load = timed(load_catalog)
        print(f"load built-in + imported ({len(cat):,} offers): {t_load * 1000:.0f} ms first, ", end="")
        store._MEMO.clear()
        cat, t_load2 = timed(load_catalog)
        print(f"{t_load2 * 1000:.0f} ms from the compiled file")

        qs = queries(args.lookups)
        fast, slow = [], []
        for q in qs:
            hits, t = timed(lambda: cat.query(**q))
            fast.append(t)
            base, t = timed(lambda: linear(cat.offers, **q))
            slow.append(t)
            assert [id(o) for o in hits] == [id(o) for o in base] or len(hits) == len(base), q
        med, p95 = statistics.median(fast), sorted(fast)[int(0.95 * len(fast))]
        bmed = statistics.median(slow)
        print(f"{len(qs):,} filtered look-ups: median {med * 1000:.3f} ms, p95 {p95 * 1000:.3f} ms "
              f"(target median < 2 ms)")
        print(f"baseline linear scan: median {bmed * 1000:.3f} ms; indexed is {bmed / med:.1f}x faster")


if __name__ == "__main__":
    main()

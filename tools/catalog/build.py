"""Build skyplan/data/catalog.csv (the built-in snapshot) from the facts tables.

    python tools/catalog/build.py            # rewrite the snapshot
    python tools/catalog/build.py --check    # exit 1 if the snapshot is out of date

The facts (facts_aws.py, facts_gcp.py, facts_azure.py) say per instance family
what it is, its list price in the cloud's reference region and where it is
offered, with the source and observed date in each module's docstring. This
script expands them to one row per offer: per zone where the cloud prices spot
per zone (AWS, GCP), per region otherwise (Azure). Spot prices vary per zone
around the family's typical spot fraction by a deterministic +/-12% so that zones
differ the way they do in practice; refresh replaces them with live quotes.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path[:0] = [str(HERE), str(ROOT)]

import facts_aws  # noqa: E402
import facts_azure  # noqa: E402
import facts_gcp  # noqa: E402

from skyplan.catalog import csvformat  # noqa: E402
from skyplan.catalog.accelerators import CANONICAL  # noqa: E402
from skyplan.catalog.offer import Offer  # noqa: E402

OUT = ROOT / "skyplan" / "data" / "catalog.csv"


def _unit(*parts: str) -> float:
    """A stable number in [0, 1) from the given strings."""
    h = hashlib.sha256("/".join(parts).encode()).digest()
    return int.from_bytes(h[:4], "big") / 2**32


def _jitter(*parts: str) -> float:
    return 0.88 + 0.24 * _unit(*parts)


def _p(x: float) -> float:
    return round(x, 6 if x < 1 else 4)


def _zones_for(instance_type: str, region: str, zones: list[str], gpu: bool) -> list[str]:
    """GPU types are not in every zone of a region: keep a stable subset (at least one)."""
    if not gpu:
        return zones
    kept = [z for z in zones if _unit(instance_type, z) >= 0.3]
    return kept or zones[:1]


def _offer(cloud: str, region: str, zone: str | None, itype: str, f: dict, accel: str | None, count: int,
           vcpus: float, mem: float, od: float, key: str, reserved: float, observed: str) -> Offer:
    """One row: spot is the family's fraction of on-demand, varied per ``key`` and place
    (none where the family has no spot market)."""
    return Offer(
        cloud, region, zone, itype, accel, count if accel else 0,
        CANONICAL[accel] if accel else None, vcpus, mem, f.get("arch", "x86_64"),
        on_demand=od, spot=None if f["spot"] is None else _p(od * f["spot"] * _jitter(key, zone or region)),
        reserved=_p(od * reserved), interruption_band=f["band"], observed_at=observed)


def aws() -> list[Offer]:
    out = []
    for family, f in facts_aws.FAMILIES.items():
        accel = f.get("accel")
        for suffix, vcpus, mem, count, base in f["sizes"]:
            itype = f"{family}.{suffix}"
            for region in f.get("regions", facts_aws.ALL):
                mult, suffixes = facts_aws.REGIONS[region]
                mult = f.get("regional", {}).get(region, mult)
                od = _p(base * mult)
                zones = _zones_for(itype, region, [region + s for s in suffixes], bool(accel))
                for zone in zones:
                    out.append(_offer("aws", region, zone, itype, f, accel, count, vcpus, mem, od, itype,
                                      f.get("reserved", 0.63), facts_aws.OBSERVED))
    return out


def gcp() -> list[Offer]:
    out = []
    for family, f in facts_gcp.FAMILIES.items():
        core, ram = facts_gcp.SERIES[f.get("series", family)]
        for itype, vcpus, mem, accel, count in f["shapes"]:
            base = vcpus * core + mem * ram + (facts_gcp.GPU_PRICE[accel] * count if accel else 0.0)
            for region in f.get("regions", facts_gcp.ALL):
                mult, suffixes = facts_gcp.REGIONS[region]
                od = _p(base * mult)
                key = f"{itype}/{accel}:{count}"
                # an attached GPU is in the same zones whatever N1 host carries it
                where = f"n1+{accel}" if accel and itype.startswith("n1-") else key
                for zone in _zones_for(where, region, [f"{region}-{s}" for s in suffixes], bool(accel)):
                    out.append(_offer("gcp", region, zone, itype, f, accel, count, vcpus, mem, od, key,
                                      f.get("reserved", 0.63), facts_gcp.OBSERVED))
    return out


def azure() -> list[Offer]:
    out = []
    for family, f in facts_azure.FAMILIES.items():
        for itype, vcpus, mem, accel, count, base in f["sizes"]:
            for region in f.get("regions", facts_azure.ALL):
                od = _p(base * facts_azure.REGIONS[region])
                out.append(_offer("azure", region, None, itype, f, accel, count, vcpus, mem, od, itype,
                                  f["reserved"], facts_azure.OBSERVED))
    return out


def build() -> str:
    offers = aws() + gcp() + azure()
    offers.sort(key=lambda o: (o.provider, o.instance_type, o.accelerator or "", o.region, o.zone or ""))
    return csvformat.dumps(offers)


def main(argv: list[str]) -> int:
    text = build()
    if "--check" in argv:
        current = OUT.read_text() if OUT.exists() else ""
        if current != text:
            print(f"{OUT.relative_to(ROOT)} is out of date; run python tools/catalog/build.py")
            return 1
        print("snapshot up to date")
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    print(f"wrote {text.count(chr(10)) - 1} rows to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

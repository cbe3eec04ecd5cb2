"""GCP prices from the Cloud Billing Catalog API (an API key from the environment).

``GET {endpoint}?key=KEY&pageSize=5000[&pageToken=T]`` on service
``6F81-5844-456A`` (Compute Engine) answers ``{"skus": [...], "nextPageToken":
""}``. Each SKU has a ``description`` (``N2 Instance Core running in Americas``,
``Spot Preemptible N2 Instance Ram running in ...``, ``Nvidia L4 GPU running in
...``, ``Commitment v1: N2 Cpu in Americas for 1 Year``), ``category.usageType``
(``OnDemand`` | ``Preemptible`` | ``Commit1Yr``), ``serviceRegions`` and
``pricingInfo[0].pricingExpression.tieredRates[].unitPrice`` (units + nanos, per
hour for cores and GPUs, per GiB-hour for memory). GCP bills vCPUs, memory and
GPUs separately; an offer's price is their sum for its machine shape (shapes
come from the built-in snapshot). GCP's spot prices are regional, so every
zone of a region gets the same spot price.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from datetime import date
from typing import Sequence

from skyplan.catalog.offer import Offer
from skyplan.catalog.refresh import Fetched, PricingUnavailable
from skyplan.catalog.refresh.http import get_json, with_params

SERVICE = "6F81-5844-456A"
ENDPOINT = f"https://cloudbilling.googleapis.com/v1/services/{SERVICE}/skus"
KEY_VARS = ("SKYPLAN_GCP_API_KEY", "GOOGLE_API_KEY")
USAGE = {"OnDemand": "on_demand", "Preemptible": "spot", "Commit1Yr": "reserved"}
MAX_PAGES = 200

# description -> (component, series or accelerator)
_GPUS = (  # most specific first
    ("GB200", "GB200"), ("B200", "B200"), ("H100 80GB Mega", "H100-MEGA"), ("H200", "H200"), ("H100", "H100"), ("A100 80GB", "A100-80GB"),
    ("A100", "A100"), ("L4", "L4"), ("T4", "T4"), ("V100", "V100"),
)
_CPU = re.compile(r"^(?:Spot Preemptible |Preemptible )?(?:Commitment v1: )?(?P<series>[A-Z][A-Z0-9]*)"
                  r"(?: (?:AMD|Intel|Arm))?(?: Predefined)?(?: Instance)? (?P<part>Core|Cpu|Ram)\b")


def component(description: str) -> tuple[str, str] | None:
    """``("core"|"ram", series)`` or ``("gpu", accelerator)`` for a Compute SKU description."""
    if "GPU" in description and "Nvidia" in description:
        for needle, accel in _GPUS:
            if needle in description:
                return "gpu", accel
        return None
    if description.startswith(("Compute optimized", "Spot Preemptible Compute optimized",
                               "Commitment v1: Compute optimized")):
        part = "ram" if " Ram " in f" {description} " else "core"
        return part, "c2"
    m = _CPU.match(description)
    if not m:
        return None
    return ("ram" if m["part"] == "Ram" else "core"), m["series"].lower()


def unit_price(sku: dict) -> float | None:
    try:
        rates = sku["pricingInfo"][0]["pricingExpression"]["tieredRates"]
        price = rates[-1]["unitPrice"]
        return int(price.get("units") or 0) + int(price.get("nanos") or 0) / 1e9
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def price_table(skus: list[dict]) -> dict[tuple[str, str, str, str], float]:
    """(region, pricing, component, series|accelerator) -> $/h (per GiB-hour for ram)."""
    table: dict[tuple[str, str, str, str], float] = {}
    for sku in skus:
        cat = sku.get("category") or {}
        if cat.get("resourceFamily") != "Compute":
            continue
        pricing = USAGE.get(cat.get("usageType", ""))
        if pricing is None or (pricing == "reserved" and "1 Year" not in sku.get("description", "1 Year")):
            continue
        what = component(sku.get("description", ""))
        price = unit_price(sku)
        if what is None or price is None or price <= 0:
            continue
        for region in sku.get("serviceRegions") or ():
            table[(region, pricing, what[0], what[1])] = price
    return table


def fetch_skus(endpoint: str, key: str) -> list[dict]:
    skus: list[dict] = []
    token = ""
    for _ in range(MAX_PAGES):
        params = {"key": key, "pageSize": "5000"}
        if token:
            params["pageToken"] = token
        page = get_json(with_params(endpoint, params), what="the Cloud Billing Catalog API")
        skus.extend(page.get("skus") or [])
        token = page.get("nextPageToken") or ""
        if not token:
            break
    return skus


def node_price(table, region: str, pricing: str, o: Offer) -> float | None:
    series = o.instance_type.split("-")[0]
    core = table.get((region, pricing, "core", series))
    ram = table.get((region, pricing, "ram", series))
    if core is None or ram is None:
        return None
    total = o.vcpus * core + o.memory_gib * ram
    if o.accelerator:
        gpu = table.get((region, pricing, "gpu", o.accelerator))
        if gpu is None:
            return None
        total += gpu * o.accelerator_count
    return round(total, 6)


def fetch(base: list[Offer], *, regions: Sequence[str] = (), endpoint_url: str | None = None,
          api_key: str | None = None) -> Fetched:
    """Re-price the snapshot's GCP shapes (and zones) in ``regions`` (default: all of them)."""
    key = api_key or next((os.environ[v] for v in KEY_VARS if os.environ.get(v)), "")
    if not key:
        raise PricingUnavailable("the Cloud Billing Catalog API needs an API key",
                                 hint="set SKYPLAN_GCP_API_KEY (or GOOGLE_API_KEY) to a key with the "
                                      "Cloud Billing API enabled")
    table = price_table(fetch_skus(endpoint_url or ENDPOINT, key))
    today = date.today().isoformat()
    wanted = set(regions) if regions else None
    offers: list[Offer] = []
    unpriced = 0
    for o in base:
        if wanted is not None and o.region not in wanted:
            continue
        on_demand = node_price(table, o.region, "on_demand", o)
        if on_demand is None:
            unpriced += 1
            continue
        spot = node_price(table, o.region, "spot", o)
        reserved = node_price(table, o.region, "reserved", o)
        offers.append(replace(o, on_demand=on_demand,
                              spot=spot if spot is not None and spot < on_demand else None,
                              reserved=reserved if reserved is not None and reserved < on_demand else None,
                              observed_at=today))
    notes = [f"{unpriced} machine/zone offer(s) had no on-demand price for a component"] if unpriced else []
    return Fetched(offers, notes)

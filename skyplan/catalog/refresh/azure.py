"""Azure prices from the public Retail Prices API (no credentials needed).

``GET {endpoint}?api-version=2023-01-01-preview&$filter=serviceName eq 'Virtual
Machines' and armRegionName eq '{region}'`` answers ``{"Items": [...],
"NextPageLink": url-or-null}``. Per item we use ``armSkuName``, ``skuName``
(``... Spot`` / ``... Low Priority``), ``productName`` (``... Windows``),
``type`` (``Consumption`` | ``Reservation`` | ``DevTestConsumption``),
``reservationTerm`` and ``retailPrice`` with ``unitOfMeasure``. A reservation's
price is for the whole term, so the hourly figure is price / hours in the term.
Shapes (vCPUs, memory, GPUs) come from the built-in snapshot: a refresh re-prices
the VM sizes skyplan knows, in every region it asks about.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Sequence

from skyplan.catalog.offer import Offer
from skyplan.catalog.refresh import Fetched
from skyplan.catalog.refresh.http import get_json, with_params

ENDPOINT = "https://prices.azure.com/api/retail/prices"
API_VERSION = "2023-01-01-preview"
TERM_HOURS = {"1 Year": 365 * 24, "3 Years": 3 * 365 * 24}
MAX_PAGES = 500


def _hourly(item: dict) -> float | None:
    try:
        price = float(item.get("retailPrice"))
    except (TypeError, ValueError):
        return None
    unit = str(item.get("unitOfMeasure", "")).strip()
    if item.get("type") == "Reservation":
        hours = TERM_HOURS.get(str(item.get("reservationTerm")))
        return price / hours if hours else None
    if unit in ("1 Hour", "1 Hours"):
        return price
    if unit == "100 Hours":
        return price / 100
    return None


def region_prices(items: list[dict]) -> dict[str, dict[str, float]]:
    """armSkuName -> {"on_demand"|"spot"|"reserved": $/h} for Linux VMs in these items."""
    out: dict[str, dict[str, float]] = {}
    for item in items:
        sku = item.get("armSkuName")
        sku_name = str(item.get("skuName", ""))
        product = str(item.get("productName", ""))
        if not sku or "Windows" in product or "Low Priority" in sku_name or item.get("currencyCode", "USD") != "USD":
            continue
        kind = item.get("type")
        if kind == "Consumption":
            model = "spot" if sku_name.endswith("Spot") else "on_demand"
        elif kind == "Reservation" and item.get("reservationTerm") == "1 Year":
            model = "reserved"
        else:
            continue
        hourly = _hourly(item)
        if hourly is None or hourly <= 0:
            continue
        prices = out.setdefault(sku, {})
        prices[model] = min(hourly, prices.get(model, hourly))
    return out


def fetch_region(endpoint: str, region: str) -> list[dict]:
    url = with_params(endpoint, {
        "api-version": API_VERSION,
        "$filter": f"serviceName eq 'Virtual Machines' and armRegionName eq '{region}'",
    })
    items: list[dict] = []
    for _ in range(MAX_PAGES):
        page = get_json(url, what=f"the Azure Retail Prices API ({region})")
        items.extend(page.get("Items") or [])
        url = page.get("NextPageLink")
        if not url:
            break
    return items


def fetch(base: list[Offer], *, regions: Sequence[str] = (), endpoint_url: str | None = None) -> Fetched:
    """Re-price the known Azure VM sizes in ``regions`` (default: the snapshot's regions)."""
    endpoint = endpoint_url or ENDPOINT
    today = date.today().isoformat()
    shapes: dict[str, Offer] = {}
    for o in base:
        shapes.setdefault(o.instance_type, o)
    wanted = list(regions) or sorted({o.region for o in base})
    offers: list[Offer] = []
    notes: list[str] = []
    unpriced = 0
    for region in wanted:
        prices = region_prices(fetch_region(endpoint, region))
        for sku, shape in shapes.items():
            p = prices.get(sku)
            if not p or "on_demand" not in p:
                unpriced += 1
                continue
            spot = p.get("spot")
            if spot is not None and spot > p["on_demand"]:
                spot = None
            offers.append(replace(shape, region=region, zone=None, on_demand=round(p["on_demand"], 6),
                                  spot=round(spot, 6) if spot is not None else None,
                                  reserved=round(p["reserved"], 6) if "reserved" in p else None,
                                  observed_at=today))
    if unpriced:
        notes.append(f"{unpriced} size/region pair(s) had no Linux pay-as-you-go price (not offered there)")
    return Fetched(offers, notes)

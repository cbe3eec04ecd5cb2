"""AWS prices through boto3: EC2 for shapes, zones and spot; the Price List API for the rest.

Per region: ``describe_instance_types`` (vCPUs, memory, GPUs, architectures),
``describe_instance_type_offerings`` with ``LocationType=availability-zone`` (which
zones offer which type), ``describe_spot_price_history`` (the latest Linux/UNIX
spot price per type and zone). On-demand and 1-year no-upfront reserved prices
come from the Price List API (``pricing.get_products``, JSON price documents,
served from us-east-1). When the Price List API cannot be reached, on-demand and
reserved prices for types the built-in snapshot knows are taken from it and the
report says so. Only the snapshot's families and types with accelerators are
kept, so a refresh stays the size of the snapshot rather than every EC2 type.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timezone
from typing import Sequence

from skyplan.catalog.accelerators import CANONICAL, canonical
from skyplan.catalog.csvformat import MIN_SPOT_FRACTION
from skyplan.catalog.offer import Offer
from skyplan.catalog.refresh import Fetched, PricingUnavailable

PRICING_REGION = "us-east-1"
GPU_FAMILY_PATTERNS = ("p*", "g*")  # EC2's GPU families; others are kept only if the snapshot knows them


def _client(service: str, region: str, endpoint_url: str | None):
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"})
    return boto3.session.Session().client(service, region_name=region, endpoint_url=endpoint_url, config=config)


def _unavailable(e: Exception, what: str) -> PricingUnavailable:
    return PricingUnavailable(f"{what} failed: {type(e).__name__}: {e}",
                              hint="check AWS credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID) and network access")


def shape_of(info: dict, observed: str, region: str) -> Offer | None:
    """An Offer shape (no prices yet) from one describe_instance_types entry."""
    itype = info.get("InstanceType")
    if not itype:
        return None
    vcpus = float((info.get("VCpuInfo") or {}).get("DefaultVCpus") or 0)
    mem = round(float((info.get("MemoryInfo") or {}).get("SizeInMiB") or 0) / 1024, 2)
    arches = (info.get("ProcessorInfo") or {}).get("SupportedArchitectures") or ["x86_64"]
    accel, count, accel_mem = None, 0.0, None
    for gpu in (info.get("GpuInfo") or {}).get("Gpus") or ():
        name = canonical(str(gpu.get("Name", "")))
        mem_gib = round(float((gpu.get("MemoryInfo") or {}).get("SizeInMiB") or 0) / 1024, 1) or None
        if name == "V100" and mem_gib and mem_gib >= 30:
            name = "V100-32GB"
        if name == "A100" and mem_gib and mem_gib >= 70:
            name = "A100-80GB"
        if name:
            accel, count, accel_mem = name, float(gpu.get("Count") or 0), mem_gib or CANONICAL.get(name)
            break
    if accel is None:  # Trainium / Inferentia report as Neuron devices, not GPUs
        for dev in (info.get("NeuronInfo") or {}).get("NeuronDevices") or ():
            name = canonical(str(dev.get("Name", "")))
            if name:
                mem_gib = round(float((dev.get("MemoryInfo") or {}).get("SizeInMiB") or 0) / 1024, 1) or None
                accel, count, accel_mem = name, float(dev.get("Count") or 0), mem_gib or CANONICAL.get(name)
                break
    return Offer("aws", region, None, itype, accel, count if accel else 0, accel_mem if accel else None,
                 vcpus, mem, "arm64" if "arm64" in arches else "x86_64", observed_at=observed)


def _pages(client, op: str, key: str, **kwargs):
    paginator = client.get_paginator(op)
    for page in paginator.paginate(**kwargs):
        yield from page.get(key) or ()


def parse_price_document(doc: str | dict) -> tuple[str, float | None, float | None] | None:
    """(instance type, on-demand $/h, 1-year no-upfront standard reserved $/h) from one PriceList entry."""
    data = json.loads(doc) if isinstance(doc, str) else doc
    attrs = (data.get("product") or {}).get("attributes") or {}
    itype = attrs.get("instanceType")
    if not itype:
        return None
    terms = data.get("terms") or {}

    def hourly(term: dict) -> float | None:
        for dim in (term.get("priceDimensions") or {}).values():
            if str(dim.get("unit", "")).lower().startswith("hr"):
                try:
                    return float((dim.get("pricePerUnit") or {}).get("USD"))
                except (TypeError, ValueError):
                    return None
        return None

    on_demand = next((hourly(t) for t in (terms.get("OnDemand") or {}).values()), None)
    reserved = None
    for t in (terms.get("Reserved") or {}).values():
        ta = t.get("termAttributes") or {}
        if (ta.get("LeaseContractLength"), ta.get("PurchaseOption"), ta.get("OfferingClass")) == \
                ("1yr", "No Upfront", "standard"):
            reserved = hourly(t)
    return itype, on_demand, reserved


def list_prices(region: str, pricing_endpoint: str | None) -> dict[str, tuple[float | None, float | None]]:
    """instance type -> (on-demand, reserved) for Linux, shared tenancy, no pre-installed software."""
    client = _client("pricing", PRICING_REGION, pricing_endpoint)
    filters = [{"Type": "TERM_MATCH", "Field": f, "Value": v} for f, v in (
        ("regionCode", region), ("operatingSystem", "Linux"), ("tenancy", "Shared"),
        ("preInstalledSw", "NA"), ("capacitystatus", "Used"))]
    out: dict[str, tuple[float | None, float | None]] = {}
    for doc in _pages(client, "get_products", "PriceList", ServiceCode="AmazonEC2", Filters=filters):
        parsed = parse_price_document(doc)
        if parsed and parsed[1]:
            out[parsed[0]] = (parsed[1], parsed[2])
    return out


def fetch(base: list[Offer], *, regions: Sequence[str] = (), endpoint_url: str | None = None,
          pricing_endpoint_url: str | None = None) -> Fetched:
    """Re-price AWS in ``regions`` (default: the snapshot's regions); see the module docstring."""
    from botocore.exceptions import BotoCoreError, ClientError

    today = date.today().isoformat()
    families = {o.instance_type.split(".")[0] for o in base}
    known = {(o.instance_type, o.region): o for o in base}
    bands = {o.instance_type: o.interruption_band for o in base}
    wanted = list(regions) or sorted({o.region for o in base})
    offers: list[Offer] = []
    notes: list[str] = []
    pricing_down = ""
    placeholder_spot = unpriced = 0
    region_errors: list[str] = []
    for region in wanted:
        try:
            ec2 = _client("ec2", region, endpoint_url)
            shapes = {}
            patterns = sorted({f"{f}.*" for f in families} | set(GPU_FAMILY_PATTERNS))
            for info in _pages(ec2, "describe_instance_types", "InstanceTypes",
                               Filters=[{"Name": "instance-type", "Values": patterns}]):
                shape = shape_of(info, today, region)
                if shape and (shape.instance_type.split(".")[0] in families or shape.accelerator):
                    shapes[shape.instance_type] = shape
            zones: dict[str, list[str]] = {}
            for off in _pages(ec2, "describe_instance_type_offerings", "InstanceTypeOfferings",
                              LocationType="availability-zone"):
                if off.get("InstanceType") in shapes:
                    zones.setdefault(off["InstanceType"], []).append(off["Location"])
            spot: dict[tuple[str, str], tuple[datetime, float]] = {}
            for h in _pages(ec2, "describe_spot_price_history", "SpotPriceHistory",
                            ProductDescriptions=["Linux/UNIX"], InstanceTypes=sorted(shapes),
                            StartTime=datetime.now(timezone.utc)):
                k = (h.get("InstanceType"), h.get("AvailabilityZone"))
                ts = h.get("Timestamp") or datetime.min.replace(tzinfo=timezone.utc)
                if k not in spot or ts > spot[k][0]:
                    spot[k] = (ts, float(h.get("SpotPrice") or 0))
        except ClientError as e:  # this region refused (not enabled for the account, ...): the others may answer
            region_errors.append(f"EC2 in {region}: {e.response.get('Error', {}).get('Code') or type(e).__name__}")
            if len(region_errors) == len(wanted):
                raise _unavailable(e, f"EC2 in {region}") from None
            continue
        except BotoCoreError as e:  # no credentials, no connection: no region will answer
            raise _unavailable(e, f"EC2 in {region}") from None
        prices: dict[str, tuple[float | None, float | None]] = {}
        if not pricing_down:
            try:
                prices = list_prices(region, pricing_endpoint_url or endpoint_url)
            except (BotoCoreError, ClientError) as e:
                pricing_down = f"{type(e).__name__}: {e}"
        for itype, shape in sorted(shapes.items()):
            od, rsv = prices.get(itype, (None, None))
            snap = known.get((itype, region))
            if od is None and snap is not None:
                od, rsv = snap.on_demand, snap.reserved
            if not od:
                unpriced += 1
                continue
            if shape.accelerator is None and snap is not None and snap.accelerator:
                # EC2 did not name the accelerator (an older API or emulator): keep the snapshot's
                shape = replace(shape, accelerator=snap.accelerator, accelerator_count=snap.accelerator_count,
                                accelerator_memory_gib=snap.accelerator_memory_gib)
            for zone in sorted(zones.get(itype, ())):
                sp = spot.get((itype, zone), (None, None))[1]
                if sp is not None and (sp > od or sp < od * MIN_SPOT_FRACTION):
                    placeholder_spot += 1
                    sp = None
                offers.append(replace(shape, zone=zone, on_demand=od, spot=sp, reserved=rsv,
                                      interruption_band=bands.get(itype)))
    kept: list[str] = []
    if region_errors:
        kept.append(f"{len(region_errors)} region(s) skipped, their prices unchanged: " + "; ".join(region_errors))
    if pricing_down:
        kept.append("the Price List API was unreachable (" + pricing_down.splitlines()[0][:160]
                    + "); on-demand and reserved prices come from the built-in snapshot")
    notes.extend(kept)
    if placeholder_spot:
        notes.append(f"{placeholder_spot} spot quote(s) dropped as placeholders (above on-demand or below "
                     f"{MIN_SPOT_FRACTION:.1%} of it)")
    if unpriced:
        notes.append(f"{unpriced} instance type/region pair(s) skipped: no on-demand price")
    return Fetched(offers, notes, kept)

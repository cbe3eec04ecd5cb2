"""Turn evaluated block bodies (plain dicts) into the frozen values of model.py.

The dicts already passed their JSON Schema, so shapes are right; this module
normalises meaning: accelerator names to canonical spellings, ``"8+"`` to
Quantity, pricing spellings, references to addresses. Problems go to ``report``
as (summary, attribute path, hint).
"""

from __future__ import annotations

import re
from typing import Any, Callable

from skyplan.addrs import Address
from skyplan.catalog.accelerators import canonical, close_matches
from skyplan.config.model import (
    UNKNOWN, AcceleratorReq, Fleet, FleetCapacity, Lifecycle, PlacementSpec, ProviderConfig, Quantity,
    Quota, Resources, Workload,
)
from skyplan.config import deadline, service
from skyplan.config.values import format_number

Report = Callable[..., None]  # report(summary, path, hint="")

_PRICING = {"on_demand": "on_demand", "on-demand": "on_demand", "ondemand": "on_demand", "spot": "spot",
            "reserved": "reserved", "preemptible": "spot"}
_QTY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(\+?)\s*$")


class Invalid(Exception):
    """A value cannot be used; already reported."""


def _known(v, path: str, report: Report):
    if v is UNKNOWN:
        report(f"\"{path}\" must be known when planning, but depends on a value known only after apply", path,
               "use a variable or a constant here, not an attribute of another workload")
        raise Invalid()
    return v


def _list(v) -> list:
    if v is None:
        return []
    return list(v) if isinstance(v, list) else [v]


def accelerators(v, path: str, report: Report) -> tuple:
    out = []
    if isinstance(v, dict):
        items = [f"{k}:{format_number(n) if not isinstance(n, str) else n}" for k, n in v.items()]
    else:
        items = _list(v)
    for item in items:
        item = _known(item, path, report)
        name, _, count = str(item).partition(":")
        canon = canonical(name)
        if canon is None:
            near = close_matches(name)
            report(f"Unknown accelerator \"{name}\"", path,
                   f"did you mean {' or '.join(repr(n) for n in near)}?" if near else "use a name such as H100, A100-80GB, L4 or T4")
            continue
        try:
            n = int(count) if count else 1
            if n < 1:
                raise ValueError
        except ValueError:
            report(f"Invalid accelerator count in \"{item}\"", path, "write NAME:COUNT with a whole count, e.g. \"H100:8\"")
            continue
        out.append(AcceleratorReq(canon, n))
    return tuple(out)


_ARCHES = {"x86_64": "x86_64", "amd64": "x86_64", "x86": "x86_64", "arm64": "arm64", "aarch64": "arm64",
           "any": "any"}


def quantity(v, path: str, report: Report) -> Quantity | None:
    if v is None:
        return None
    v = _known(v, path, report)
    if isinstance(v, bool):
        report(f"\"{path}\" must be a number or a string like \"8+\"", path)
        return None
    if isinstance(v, (int, float)):
        return Quantity(float(v), at_least=False)
    m = _QTY.match(str(v))
    if not m:
        report(f"Invalid quantity {v!r} for \"{path}\"", path, "write a number (exact) or \"N+\" (at least N)")
        return None
    return Quantity(float(m.group(1)), at_least=bool(m.group(2)))


def resources(d: dict | None, path: str, report: Report) -> Resources:
    d = d or {}
    return Resources(
        accelerators=accelerators(d.get("accelerators"), f"{path}.accelerators", report) if d.get("accelerators") is not None else (),
        cpus=quantity(d.get("cpus"), f"{path}.cpus", report),
        memory=quantity(d.get("memory"), f"{path}.memory", report),
        disk_gb=int(_known(d["disk_gb"], f"{path}.disk_gb", report)) if d.get("disk_gb") is not None else None,
        instance_type=str(_known(d["instance_type"], f"{path}.instance_type", report)) if d.get("instance_type") is not None else None,
        arch=arch(d.get("arch"), f"{path}.arch", report),
    )


def arch(v, path: str, report: Report) -> str | None:
    if v is None:
        return None
    value = str(_known(v, path, report)).strip().lower()
    found = _ARCHES.get(value)
    if found is None:
        report(f"Unknown CPU architecture {v!r} for \"{path}\"", path, 'use "x86_64", "arm64" or "any"')
    return found


def pricing(v, path: str, report: Report, default: tuple) -> tuple:
    if v is None:
        return default
    out = []
    for p in _list(_known(v, path, report)):
        key = str(_known(p, path, report)).strip().lower().replace(" ", "_")
        if key not in _PRICING:
            report(f"Unknown pricing model \"{p}\"", path, "use on_demand, spot or reserved")
            continue
        if _PRICING[key] not in out:
            out.append(_PRICING[key])
    return tuple(out) or default


def address_of(v, kind: str, path: str, report: Report, module: tuple) -> str | None:
    """A fleet/workload given as a reference object, "kind.name" or "name" -> address string."""
    if v is None:
        return None
    v = _known(v, path, report)
    if isinstance(v, dict) and isinstance(v.get("address"), str):
        return v["address"]
    if isinstance(v, str):
        text = v if v.startswith(f"{kind}.") or v.startswith("module.") else f"{kind}.{v}"
        try:
            a = Address.parse(text)
        except ValueError as e:
            report(str(e), path)
            return None
        if not text.startswith("module.") and module:
            a = Address(a.kind, a.name, a.key, module)
        return str(a)
    report(f"\"{path}\" must name a {kind} (e.g. {kind}.pool)", path)
    return None


def placement(d: dict | None, path: str, report: Report, module: tuple) -> PlacementSpec:
    d = _known(d or {}, path, report)
    strs = lambda k: tuple(str(_known(x, f"{path}.{k}", report)) for x in _list(d.get(k)))  # noqa: E731
    return PlacementSpec(
        providers=strs("providers"), regions=strs("regions"), zones=strs("zones"),
        exclude_regions=strs("exclude_regions"), exclude_zones=strs("exclude_zones"),
        fleet=address_of(d.get("fleet"), "fleet", f"{path}.fleet", report, module),
        spread=d.get("spread"),
        colocate_with=address_of(d.get("colocate_with"), "workload", f"{path}.colocate_with", report, module),
    )


def lifecycle(d: dict | None) -> Lifecycle:
    d = d or {}
    return Lifecycle(prevent_destroy=bool(d.get("prevent_destroy", False)),
                     ignore_changes=tuple(str(x) for x in _list(d.get("ignore_changes"))),
                     create_before_destroy=bool(d.get("create_before_destroy", False)),
                     retry_failed=bool(d.get("retry_failed", True)))


def tags(v, path: str, report: Report) -> dict[str, str]:
    """A ``tags = { team = "vision" }`` map: string keys, values as strings."""
    if v is None:
        return {}
    v = _known(v, path, report)
    if not isinstance(v, dict):
        report(f"\"{path}\" must be a map of strings", path, 'e.g. tags = { team = "vision", cost_center = "ml-42" }')
        return {}
    out = {}
    for k, x in v.items():
        x = _known(x, f"{path}.{k}", report)
        if str(k).lower().startswith(("skyplan:", "skyplan-")):
            report(f"Tag \"{k}\" uses the prefix skyplan reserves for its own tags", f"{path}.{k}",
                   "rename the tag: skyplan:* tags (address, lineage, ...) are set by skyplan and cannot be overridden")
            continue
        if isinstance(x, (dict, list)) or x is None:
            report(f"Tag \"{k}\" must be a string, number or bool", f"{path}.{k}", "tags are flat key = value pairs")
            continue
        out[str(k)] = ("true" if x else "false") if isinstance(x, bool) else (
            format_number(x) if isinstance(x, (int, float)) else str(x))
    return out


def _num(v, path, report, cast=float):
    if v is None:
        return None
    return cast(_known(v, path, report))


MAY_WAIT = ("image", "setup", "run", "env")  # may hold values known only after apply


def _all_known(d: dict, report: Report, prefix: str = "") -> None:
    """Report every plan-time attribute that waits for apply, then give up on the resource."""
    bad: list[str] = []

    def walk(v, path: str) -> None:
        if v is UNKNOWN:
            bad.append(path)
        elif isinstance(v, dict):
            if isinstance(v.get("address"), str):
                return  # a reference to a workload or fleet: only its address is used
            for k, x in v.items():
                walk(x, f"{path}.{k}" if path else k)
        elif isinstance(v, list):
            for x in v:
                walk(x, path)
    for k, v in d.items():
        if k not in MAY_WAIT:
            walk(v, prefix + k)
    for path in dict.fromkeys(bad):
        report(f"\"{path}\" must be known when planning, but depends on a value known only after apply", path,
               "use a variable or a constant here, not an attribute of another workload")
    if bad:
        raise Invalid()


def workload(address: Address, d: dict, report: Report, *, depends_on: tuple, source, sensitive_paths: tuple) -> Workload:
    _all_known(d, report)
    env = {}
    for k, v in (d.get("env") or {}).items():
        env[k] = v if v is UNKNOWN or isinstance(v, str) else (format_number(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else ("true" if v is True else "false" if v is False else str(v)))
    ports = tuple(int(_known(p, "ports", report)) for p in _list(d.get("ports")))
    kind = d.get("kind") or "job"
    replicas = int(d["replicas"]) if d.get("replicas") is not None else 1
    prices = pricing(d.get("pricing"), "pricing", report, ("on_demand",))
    duration = _num(d.get("duration_hours"), "duration_hours", report)
    return Workload(
        address=address,
        kind=kind,
        resources=resources(_known(d.get("resources"), "resources", report), "resources", report),
        num_nodes=int(d.get("num_nodes") or 1),
        replicas=replicas,
        pricing=prices,
        duration_hours=duration, deadline=deadline.spec(d, kind, duration, report),
        max_hourly_cost=_num(d.get("max_hourly_cost"), "max_hourly_cost", report),
        data_gb=_num(d.get("data_gb"), "data_gb", report) or 0.0,
        placement=placement(d.get("placement"), "placement", report, address.module),
        image=d.get("image"), setup=d.get("setup"), run=d.get("run"),
        env=env, ports=ports, autostop=autostop(d, report), depends_on=depends_on,
        lifecycle=lifecycle(d.get("lifecycle")), sensitive_paths=sensitive_paths, source=source,
        readiness=service.readiness(d.get("readiness"), kind, ports, report),
        update=service.update(d.get("update"), kind, replicas, report),
        spot=service.spot(d.get("spot"), kind, replicas, prices, report), tags=tags(d.get("tags"), "tags", report),
        start_by=rfc3339(d, "start_by", report),
    )


def rfc3339(d: dict, name: str, report: Report) -> str | None:
    """``name = "2026-12-24T11:30:00Z"``: an RFC 3339 time with its zone, kept as
    written; None when unset. Anything else is reported at the attribute."""
    value = d.get(name)
    if value is None:
        return None
    text = _known(value, name, report)
    import datetime as _dt

    try:
        when = _dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if isinstance(text, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        report(f'{name} = "{value}" is not an RFC 3339 time', name,
               f'write it with its zone, e.g. {name} = "2026-12-24T11:30:00Z"')
        return None
    return text


AUTOSTOP_MIN_SECONDS = 1


def autostop(d: dict, report: Report) -> str | None:
    """``autostop = "2h"``: the idle time after which a service's node stops itself,
    written with a unit (``90s``, ``30m``, ``2h``, ``1h30m``). None when unset."""
    text = d.get("autostop")
    if text is None:
        return None
    from skyplan.planner.options import parse_duration

    how = 'write an idle time with its unit, e.g. autostop = "2h", "30m" or "90s"'
    try:
        seconds = parse_duration(text) if re.search(r"[a-z]\s*$", str(text).lower()) else None
    except ValueError:
        seconds = None
    if seconds is None or "ms" in str(text).lower():
        report(f'autostop = "{text}" is not an idle time', "autostop", how)
        raise Invalid()
    if seconds < AUTOSTOP_MIN_SECONDS:
        report(f'autostop = "{text}" is shorter than {AUTOSTOP_MIN_SECONDS}s', "autostop", how)
        raise Invalid()
    if (d.get("kind") or "job") != "service":
        report("autostop applies to a service: a job's node already powers itself off when its run ends",
               "autostop", 'set kind = "service" (an interactive or serving node), or drop autostop')
        raise Invalid()
    return str(text).strip()


def fleet(address: Address, d: dict, report: Report, *, depends_on: tuple, source) -> Fleet:
    _all_known(d, report)
    caps = []
    for i, c in enumerate(_list(d.get("capacity"))):
        c = _known(c, "capacity", report)
        acc = c.get("accelerator")
        name = None
        if acc is not None:
            found = accelerators(acc, "capacity.accelerator", report)
            name = found[0].name if found else None
        caps.append(FleetCapacity(
            accelerator=name, per_node=int(_known(c.get("per_node", 1 if acc else 0), "capacity.per_node", report)),
            nodes=int(_known(c.get("nodes", 1), "capacity.nodes", report)),
            cpus_per_node=_num(c.get("cpus_per_node"), "capacity.cpus_per_node", report),
            memory_per_node=_num(c.get("memory_per_node"), "capacity.memory_per_node", report)))
    existing = bool(_known(d.get("existing", False), "existing", report))
    provider_key = str(_known(d["provider"], "provider", report)) if d.get("provider") is not None else None
    kind = (provider_key or "").split(".")[0]
    if existing and not caps and d.get("reservation_id") is None and kind != "kubernetes":
        report("An existing fleet needs at least one capacity block", "existing",
               "describe what it has: capacity { accelerator = \"A100\", per_node = 8, nodes = 4 } "
               "(a kubernetes fleet without one is the cluster's nodes, read live)")
    if not existing and not d.get("nodes") and not caps:
        report("A provisioned fleet needs nodes = N (or existing = true with capacity blocks)", "nodes")
    reservation = _known(d.get("reservation"), "reservation", report)
    reservation_id = _known(d.get("reservation_id"), "reservation_id", report)
    native = RESERVATION_KINDS.get(kind)  # the cloud's own reservation mechanism
    if reservation not in (None, "none") and reservation != native and (kind, reservation) not in ALSO_RESERVED:
        what = {"odcr": "an EC2 capacity reservation", "specific": "a Compute Engine specific reservation",
                "capacity_reservation": "an Azure capacity reservation"}
        report(f"reservation = \"{reservation}\" is {what.get(reservation, reservation)}; this fleet's provider is "
               f"{provider_key or 'not set'}", "reservation",
               f'use reservation = "{native}" on this provider' if native else
               'reservations are made on aws (odcr), gcp (specific) and azure (capacity_reservation) fleets; '
               'drop reservation')
        reservation = None
    if reservation_id is not None and native is None:
        report(f"reservation_id names a cloud reservation; this fleet's provider is {provider_key or 'not set'}",
               "reservation_id", "bring one on an aws, gcp or azure fleet, or describe the fleet with capacity blocks")
    if reservation == "none":
        reservation = None
    elif reservation is None and not existing and native:
        reservation = native  # a provisioned cloud fleet is capacity the cloud holds for the team
    if existing and reservation is not None:
        report("reservation applies to a provisioned fleet; an existing one names its reservation_id",
               "reservation", 'drop reservation, or set existing = false to provision one')
    if reservation == "capacity_block" and not existing and not d.get("duration_hours"):
        report("A Capacity Block is bought for a fixed time", "reservation",
               "set duration_hours (whole hours, as EC2 sells blocks) on the fleet")
    if d.get("start") is not None and reservation != "capacity_block":
        report("start is the earliest start of a Capacity Block", "start",
               'set reservation = "capacity_block", or drop start')
    elif d.get("start") is not None:
        rfc3339(d, "start", report)
    if reservation_id is not None and not existing:
        report("reservation_id names a reservation that already exists", "reservation_id",
               "set existing = true to bring it, or drop reservation_id to provision one")
    return Fleet(
        address=address,
        provider=provider_key, existing=existing, capacity=tuple(caps),
        hourly_cost=float(_known(d.get("hourly_cost") or 0.0, "hourly_cost", report)),
        region=str(_known(d["region"], "region", report)) if d.get("region") is not None else None,
        nodes=int(_known(d.get("nodes") or 0, "nodes", report)),
        resources=resources(_known(d.get("resources"), "resources", report), "resources", report),
        pricing=pricing(d.get("pricing"), "pricing", report, ("reserved",) if existing else ("on_demand",)),
        placement=placement(d.get("placement"), "placement", report, address.module),
        depends_on=depends_on, lifecycle=lifecycle(d.get("lifecycle")), source=source,
        reservation=str(reservation) if reservation else None,
        reservation_id=str(reservation_id) if reservation_id else None,
        duration_hours=_num(d.get("duration_hours"), "duration_hours", report),
        start=str(_known(d["start"], "start", report)) if d.get("start") is not None else None,
        keep=bool(_known(d.get("keep", False), "keep", report)),
        tags=tags(d.get("tags"), "tags", report),
    )


PROVIDER_FIELDS = ("alias", "regions", "quota")
ALSO_RESERVED = {("aws", "capacity_block")}  # (provider kind, reservation) besides the native one
RESERVATION_KINDS = {"aws": "odcr", "gcp": "specific", "azure": "capacity_reservation"}  # provider kind -> what holds a provisioned fleet


def provider(kind: str, d: dict, report: Report, source) -> ProviderConfig:
    quotas = []
    for q in _list(d.get("quota")):
        q = _known(q, "quota", report)
        region = q.get("region")
        if q.get("accelerator") is not None:
            found = accelerators(q["accelerator"], "quota.accelerator", report)
            if not found:
                continue
            if q.get("max") is None:
                report("A quota on an accelerator needs max = N", "quota.max")
                continue
            quotas.append(Quota(found[0].name, float(_known(q["max"], "quota.max", report)), region))
        elif q.get("vcpus") is not None:
            quotas.append(Quota("vcpus", float(_known(q["vcpus"], "quota.vcpus", report)), region))
        else:
            report("A quota block needs accelerator and max, or vcpus", "quota",
                   'e.g. quota { accelerator = "H100", region = "us-*", max = 16 }')
    settings = {k: v for k, v in d.items() if k not in PROVIDER_FIELDS}
    if "default_tags" in settings:
        settings["default_tags"] = tags(settings["default_tags"], "default_tags", report)
    return ProviderConfig(kind=kind, alias=d.get("alias"),
                          regions=tuple(str(_known(r, "regions", report)) for r in _list(d.get("regions"))),
                          quotas=tuple(quotas), settings=settings, source=source)


__all__ = ["workload", "fleet", "provider", "tags", "Invalid", "Report", "Any"]

"""What a ``kind = "service"`` workload says about serving: how a replica is found
ready (``readiness``), how many replicas stay on on-demand capacity under spot
ones (``spot``) and how replicas are replaced (``update``).

Each block becomes a frozen value on ``Workload``; ``service_attributes`` is the
part of ``Workload.attributes()`` they add (only the blocks written, so a
workload without them diffs as before). Problems go to ``report`` as
(summary, attribute path, hint), so they are shown at the block's file:line:col.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from typing import Any, Callable

Report = Callable[..., None]

SKYPLAN_ONLY = ("readiness", "update", "spot",  # attributes skyplan reads and no node is told of
                "deadline", "deadline_hours", "changeover_hours", "recovery")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def seconds(value: Any) -> float:
    """``"10m"`` -> 600.0, ``"500ms"`` -> 0.5, ``30`` -> 30.0 (the schema checked the shape)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(f"not a duration: {value!r}")
    return float(m.group(1)) * _UNIT[m.group(2)]


@dataclass(frozen=True)
class Readiness:
    """A replica is ready when an HTTP GET of ``path`` on its first port answers 2xx/3xx,
    or when ``command`` run on its node exits 0. Probes start ``initial_delay`` seconds
    after the replica started, every ``period`` seconds; ``failure_threshold`` failed
    probes in a row past the delay make it unhealthy."""

    path: str | None = None
    command: str | None = None
    initial_delay: float = 0.0
    period: float = 10.0
    timeout: float = 2.0
    failure_threshold: int = 3

    @property
    def deadline(self) -> float:
        """Seconds after start by which a healthy replica has answered."""
        return self.initial_delay + self.period * self.failure_threshold

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: Any) -> "Readiness | None":
        if not isinstance(d, dict):
            return None
        return _from_fields(cls, d)


@dataclass(frozen=True)
class SpotBase:
    """``base_on_demand_replicas`` replicas run on on-demand capacity and the rest on
    spot; with ``fallback_on_demand`` a preempted spot replica comes back on on-demand
    while the zone it was lost in is remembered as blocked, and returns to spot after."""

    base_on_demand_replicas: int = 0
    fallback_on_demand: bool = False

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: Any) -> "SpotBase | None":
        if not isinstance(d, dict):
            return None
        return _from_fields(cls, d)


@dataclass(frozen=True)
class UpdateStrategy:
    """``rolling``: a replacement creates up to ``max_surge`` new replicas at a time, waits
    for them to be ready, then removes old ones, never leaving fewer than
    ``replicas - max_unavailable`` ready; ``recreate``: delete, then create."""

    strategy: str = "rolling"
    max_unavailable: int = 1
    max_surge: int = 1

    @property
    def rolling(self) -> bool:
        return self.strategy == "rolling"

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: Any) -> "UpdateStrategy | None":
        if not isinstance(d, dict):
            return None
        return _from_fields(cls, d)


def _from_fields(cls, d: dict):
    """``cls`` from the keys of ``d`` that are its fields (a record's JSON)."""
    return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})


def readiness(d: dict | None, kind: str, ports: tuple, report: Report) -> Readiness | None:
    if d is None:
        return None
    if kind != "service":
        report("readiness applies to a service; a job runs to completion", "readiness",
               'set kind = "service", or drop the readiness block')
    path, command = d.get("path"), d.get("command")
    if (path is None) == (command is None):
        report("readiness needs exactly one of path (an HTTP GET on the first port) or command", "readiness",
               'e.g. path = "/health", or command = "test -f /tmp/ready"')
    if path is not None and not ports:
        report("readiness.path is probed on the service's first port, but it declares no ports", "readiness.path",
               "add ports = [8000], or probe with command = \"...\"")
    r = Readiness(
        path=str(path) if path is not None else None, command=str(command) if command is not None else None,
        initial_delay=seconds(d.get("initial_delay", 0)), period=seconds(d.get("period", 10)),
        timeout=seconds(d.get("timeout", 2)), failure_threshold=int(d.get("failure_threshold", 3)))
    if r.period <= 0:
        report("readiness.period must be longer than zero", "readiness.period", 'e.g. period = "30s"')
    return r


def spot(d: dict | None, kind: str, replicas: int, pricing: tuple, report: Report) -> SpotBase | None:
    if d is None:
        return None
    if kind != "service":
        report("spot applies to a service's replicas; a job lists spot in pricing", "spot",
               'set kind = "service", or drop the spot block and write pricing = ["spot"]')
    base = int(d.get("base_on_demand_replicas", 0))
    if base > replicas:
        report(f"spot.base_on_demand_replicas = {base} is more than the {replicas} replica(s) declared",
               "spot.base_on_demand_replicas", f"use at most {replicas}, or raise replicas")
    if "spot" not in pricing or "on_demand" not in pricing:
        report("a spot block places replicas on both spot and on-demand capacity; pricing must allow both",
               "spot", 'set pricing = ["spot", "on_demand"]')
    return SpotBase(base_on_demand_replicas=base, fallback_on_demand=bool(d.get("fallback_on_demand", False)))


def update(d: dict | None, kind: str, replicas: int, report: Report) -> UpdateStrategy | None:
    if d is None:
        return None
    if kind != "service":
        report("update applies to a service; a job is replaced when it changes", "update",
               'set kind = "service", or drop the update block')
    u = UpdateStrategy(strategy=str(d.get("strategy", "rolling")), max_unavailable=int(d.get("max_unavailable", 1)),
                       max_surge=int(d.get("max_surge", 1)))
    if u.max_unavailable >= replicas and u.rolling and replicas > 1:
        report(f"update.max_unavailable = {u.max_unavailable} lets a rolling update stop every one of the "
               f"{replicas} replicas", "update.max_unavailable", f"use at most {replicas - 1}")
    return u


def service_attributes(w) -> dict:
    """The attributes the service blocks add to ``Workload.attributes()``."""
    out: dict = {}
    if w.readiness is not None:
        out["readiness"] = w.readiness.to_json()
    if w.update is not None:
        out["update"] = w.update.to_json()
    if w.spot is not None:
        out["spot"] = w.spot.to_json()
    return out

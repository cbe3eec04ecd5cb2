"""JSON encoding of state rows, and a fast decoder for ResourceRecord.

``snapshot()`` decodes every resource of a state at once (100,000 in a large
one). The dataclass constructors of the frozen value types cost most of that
time, so ``decode_record`` builds the same frozen objects directly from their
field dicts: defaults filled in, unknown keys dropped, the result equal to
``ResourceRecord.from_json``.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Mapping

from skyplan.providers.base import Instance
from skyplan.solver.model import Placement
from skyplan.state.model import GroupRecord, ResourceRecord

_encoder = json.JSONEncoder(separators=(",", ":"), default=str, ensure_ascii=False)


def dumps(value: Any) -> str:
    """Compact JSON; values JSON cannot hold (an unknown, a path) become strings."""
    return _encoder.encode(value)


def _defaults(cls) -> tuple[dict, tuple[str, ...], dict]:
    """(plain defaults, required field names, default factories) of a dataclass."""
    plain, factories, required = {}, {}, []
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            plain[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            factories[f.name] = f.default_factory  # type: ignore[misc]
        else:
            required.append(f.name)
    return plain, tuple(required), factories


def _maker(cls):
    plain, required, factories = _defaults(cls)
    names = frozenset(f.name for f in dataclasses.fields(cls))
    new = object.__new__

    def make(d: Mapping, **fixed: Any):
        missing = [r for r in required if r not in d and r not in fixed]
        if missing:
            raise KeyError(missing[0])
        obj = new(cls)
        values = dict(plain)
        for k, f in factories.items():
            if k not in d:
                values[k] = f()
        if len(d) + len(fixed) and not names.issuperset(d):
            d = {k: v for k, v in d.items() if k in names}
        values.update(d)
        values.update(fixed)
        obj.__dict__.update(values)
        return obj

    return make


_placement = _maker(Placement)
_instance = _maker(Instance)
_group = _maker(GroupRecord)
_record = _maker(ResourceRecord)


def decode_record(d: Mapping) -> ResourceRecord:
    """``ResourceRecord.from_json(d)``, without calling the dataclass constructors."""
    groups = tuple(
        _group({}, placement=_placement(g["placement"]),
               instances=tuple(_instance(i) for i in g.get("instances", ())))
        for g in d.get("groups", ())
    )
    return _record(d, groups=groups, tainted=bool(d.get("tainted", False)),
                   depends_on=tuple(d.get("depends_on", ())))


RESOURCE_COLUMNS = ("address, kind, provider, region, zone, instance_type, pricing, hourly_price, provider_ids,"
                    " attributes, config_hash, status, tainted, sensitive_paths, record, created_at, updated_at")


def resource_row(rec: ResourceRecord, paths: list[str], data: dict | None = None) -> tuple:
    """The ``resources`` table row of one record (columns as RESOURCE_COLUMNS)."""
    p = rec.placement
    data = rec.to_json() if data is None else data
    return (rec.address, rec.kind, p.provider if p else None, p.region if p else None, p.zone if p else None,
            p.instance_type if p else None, p.pricing if p else None, rec.hourly_cost,
            dumps([i.id for i in rec.instances]), dumps(data["attributes"]), rec.config_hash, rec.status,
            int(rec.tainted), dumps(paths), dumps(data), rec.created_at, rec.updated_at)

"""How a ResourceRecord is stored in the ``record`` column, and read back fast.

``snapshot()`` decodes every resource of a state at once (100,000 in a large
one), so the stored form is packed JSON: positional arrays in a fixed field
order instead of objects with repeated keys, about 40% smaller and quicker to
parse. Decoding builds the frozen value objects directly from their field
dicts, without running the dataclass constructors, and gives records equal to
``ResourceRecord.from_json(rec.to_json())``.

Packed form, version 1::

    [1, address, kind, status, attributes, config_hash, tainted, depends_on,
     created_at, updated_at, [[placement], [[instance], ...]], ...]]

with ``placement`` and ``instance`` the values of PLACEMENT_FIELDS and
INSTANCE_FIELDS in order. A field a later version of those classes adds is
kept in a trailing object, so nothing is lost; fields missing on read take
their defaults. ``to_json()`` (the portable, readable form) is what the journal
and ``state pull`` use.
"""

from __future__ import annotations

import dataclasses
import gc
import json
from contextlib import contextmanager
from typing import Any, Iterator, Mapping

from skyplan.providers.base import Instance
from skyplan.solver.model import Placement
from skyplan.state.model import GroupRecord, ResourceRecord

PACKED_VERSION = 1
PLACEMENT_FIELDS = ("provider", "region", "zone", "instance_type", "pricing", "hourly_price", "nodes", "fleet",
                    "accelerators", "vcpus", "memory_gib")
INSTANCE_FIELDS = ("provider", "id", "address", "lineage", "group", "rank", "region", "zone", "instance_type",
                   "pricing", "state", "tags", "attributes")
RECORD_FIELDS = ("address", "kind", "status", "attributes", "config_hash", "tainted", "depends_on", "created_at",
                 "updated_at")

_encoder = json.JSONEncoder(separators=(",", ":"), default=str, ensure_ascii=False)
_new = object.__new__
_set = object.__setattr__


def dumps(value: Any) -> str:
    """Compact JSON; values JSON cannot hold (an unknown, a path) become strings."""
    return _encoder.encode(value)


def _extra(cls, fixed: tuple[str, ...]) -> tuple[str, ...]:
    """Fields of ``cls`` a later version added beyond the packed ``fixed`` order."""
    return tuple(f.name for f in dataclasses.fields(cls) if f.name not in fixed)


_P_EXTRA = _extra(Placement, PLACEMENT_FIELDS)
_I_EXTRA = _extra(Instance, INSTANCE_FIELDS)
_R_EXTRA = _extra(ResourceRecord, RECORD_FIELDS + ("groups",))
_NP, _NI = len(PLACEMENT_FIELDS), len(INSTANCE_FIELDS)


def _values(obj, fields: tuple[str, ...], extra: tuple[str, ...]) -> list:
    d = obj.__dict__
    out = [d[f] for f in fields]
    if extra:
        out.append({f: d[f] for f in extra})
    return out


def pack(rec: ResourceRecord) -> list:
    """The packed (positional) JSON value of one record."""
    groups = [[_values(g.placement, PLACEMENT_FIELDS, _P_EXTRA),
               [_values(i, INSTANCE_FIELDS, _I_EXTRA) for i in g.instances]] for g in rec.groups]
    out = [PACKED_VERSION, rec.address, rec.kind, rec.status, dict(rec.attributes), rec.config_hash,
           int(rec.tainted), list(rec.depends_on), rec.created_at, rec.updated_at, groups]
    if _R_EXTRA:
        out.append({f: getattr(rec, f) for f in _R_EXTRA})
    return out


def encode_record(rec: ResourceRecord) -> str:
    return _encoder.encode(pack(rec))


def _build(cls, fields: tuple[str, ...], n: int, values: list):
    d = dict(zip(fields, values))
    obj = _new(cls)
    _set(obj, "__dict__", d)
    if len(values) != n:  # written by another version of the class: extras kept, defaults filled
        if len(values) > n and isinstance(values[n], dict):
            d.update(values[n])
        _fill(obj, cls)
    return obj


def unpack(p: list) -> ResourceRecord:
    """A ResourceRecord from its packed value."""
    if isinstance(p, dict):  # the readable form
        return ResourceRecord.from_json(p)
    if p[0] != PACKED_VERSION:
        raise ValueError(f"unknown packed record version {p[0]!r}")
    groups = []
    for pv, ivs in p[10]:
        placement = _build(Placement, PLACEMENT_FIELDS, _NP, pv)
        insts = tuple(_build(Instance, INSTANCE_FIELDS, _NI, iv) for iv in ivs)
        g = _new(GroupRecord)
        _set(g, "__dict__", {"placement": placement, "instances": insts})
        groups.append(g)
    d = dict(zip(RECORD_FIELDS, p[1:10]))
    d["tainted"] = bool(d["tainted"])
    d["depends_on"] = tuple(d["depends_on"])
    d["groups"] = tuple(groups)
    if len(p) > 11 and isinstance(p[11], dict):
        d.update(p[11])
    rec = _new(ResourceRecord)
    _set(rec, "__dict__", d)
    if len(p) != 11:
        _fill(rec, ResourceRecord)
    return rec


def _fill(obj, cls):
    """Give fields the stored value lacks their defaults (factory defaults too)."""
    d = obj.__dict__
    for f in dataclasses.fields(cls):
        if f.name not in d:
            if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
                d[f.name] = f.default_factory()  # type: ignore[misc]
            elif f.default is not dataclasses.MISSING:
                d[f.name] = f.default
    return obj


def decode_record(text: str | Mapping) -> ResourceRecord:
    """A ResourceRecord from the ``record`` column (packed) or a ``to_json()`` dict."""
    value = json.loads(text) if isinstance(text, str) else text
    return unpack(value) if isinstance(value, list) else ResourceRecord.from_json(value)


@contextmanager
def bulk_decoding() -> Iterator[None]:
    """Pause the cyclic garbage collector while many acyclic objects are built.

    Decoding 100,000 records creates millions of containers; each allocation
    burst triggers collections that rescan the growing heap, which costs more
    than the decoding itself. The decoded values hold no reference cycles, so
    afterwards everything is moved to the oldest generation (freeze then
    unfreeze) instead of being scanned again by the young ones; anything else
    still pending is collected at the next full collection as usual."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:  # leave a caller's own frozen objects alone
            gc.freeze()
            gc.unfreeze()
        if was:
            gc.enable()


RESOURCE_COLUMNS = ("address, kind, provider, region, zone, instance_type, pricing, hourly_price, provider_ids,"
                    " attributes, config_hash, status, tainted, sensitive_paths, record, created_at, updated_at")


def resource_row(rec: ResourceRecord, paths: list[str]) -> tuple:
    """The ``resources`` table row of one record (columns as RESOURCE_COLUMNS)."""
    p = rec.placement
    return (rec.address, rec.kind, p.provider if p else None, p.region if p else None, p.zone if p else None,
            p.instance_type if p else None, p.pricing if p else None, rec.hourly_cost,
            dumps([i.id for i in rec.instances]), dumps(dict(rec.attributes)), rec.config_hash, rec.status,
            int(rec.tainted), dumps(paths), encode_record(rec), rec.created_at, rec.updated_at)

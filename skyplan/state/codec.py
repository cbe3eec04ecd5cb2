"""How a ResourceRecord is stored in the ``record`` column, and read back fast.

``snapshot()`` decodes every resource of a state at once (100,000 in a large
one), so the stored form is packed JSON: positional arrays in a fixed field
order instead of objects with repeated keys, and a node's provider, address,
lineage, region, zone, instance type and pricing are not repeated when they
equal its group's placement (the usual case). That makes the text about 45%
smaller and quicker to parse. Decoding builds the frozen value objects directly
from their field dicts, without running the dataclass constructors, and gives
records equal to ``ResourceRecord.from_json(rec.to_json())``.

Packed form, version 1::

    [1, address, kind, status, attributes, config_hash, tainted, depends_on,
     created_at, updated_at, groups, lineage, {other record fields}?]
    group    = [placement, [node, ...]]
    placement = [PLACEMENT_FIELDS values..., {other fields}?]
    node     = [id, group, rank, state, tags, attributes, {fields that differ}?]

A node's fields default to its placement's (provider, region, zone,
instance_type, pricing), the record's address and the record-level lineage;
the trailing object holds those that differ and any field a later version of
the class adds, so nothing is lost; fields missing on read take their defaults.
``to_json()`` (the portable, readable form) is what the journal and
``state pull`` use.
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
NODE_FIELDS = ("id", "group", "rank", "state", "tags", "attributes")  # stored positionally
INHERITED = ("provider", "address", "lineage", "region", "zone", "instance_type", "pricing")  # from group/record
RECORD_FIELDS = ("address", "kind", "status", "attributes", "config_hash", "tainted", "depends_on", "created_at",
                 "updated_at")

_encoder = json.JSONEncoder(separators=(",", ":"), default=str, ensure_ascii=False)
_new = object.__new__
_set = object.__setattr__


def dumps(value: Any) -> str:
    """Compact JSON; values JSON cannot hold (an unknown, a path) become strings."""
    return _encoder.encode(value)


def _extra(cls, known: tuple[str, ...]) -> tuple[str, ...]:
    """Fields of ``cls`` beyond the packed layout (added by a later version)."""
    return tuple(f.name for f in dataclasses.fields(cls) if f.name not in known)


_P_EXTRA = _extra(Placement, PLACEMENT_FIELDS)
_I_EXTRA = _extra(Instance, NODE_FIELDS + INHERITED)
_R_EXTRA = _extra(ResourceRecord, RECORD_FIELDS + ("groups",))
_R_DEFAULTS = {f.name: f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
               for f in dataclasses.fields(ResourceRecord) if f.name in _R_EXTRA and (
                   f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING)}  # not stored when default
_NP = len(PLACEMENT_FIELDS)
_NI = len(dataclasses.fields(Instance))
_NR = len(dataclasses.fields(ResourceRecord))


def pack(rec: ResourceRecord) -> list:
    """The packed (positional) JSON value of one record."""
    insts = rec.instances
    lineage = insts[0].lineage if insts else ""
    groups = []
    for g in rec.groups:
        pd = g.placement.__dict__
        pv = [pd[f] for f in PLACEMENT_FIELDS]
        if _P_EXTRA:
            pv.append({f: pd[f] for f in _P_EXTRA})
        base = {"provider": pd["provider"], "address": rec.address, "lineage": lineage, "region": pd["region"],
                "zone": pd["zone"], "instance_type": pd["instance_type"], "pricing": pd["pricing"]}
        nodes = []
        for inst in g.instances:
            d = inst.__dict__
            node = [d["id"], d["group"], d["rank"], d["state"], dict(d["tags"]), dict(d["attributes"])]
            other = {k: d[k] for k in INHERITED if d[k] != base[k]}
            other.update((k, d[k]) for k in _I_EXTRA)
            if other:
                node.append(other)
            nodes.append(node)
        groups.append([pv, nodes])
    out = [PACKED_VERSION, rec.address, rec.kind, rec.status, dict(rec.attributes), rec.config_hash,
           int(rec.tainted), list(rec.depends_on), rec.created_at, rec.updated_at, groups, lineage]
    extra = {f: getattr(rec, f) for f in _R_EXTRA if getattr(rec, f) != _R_DEFAULTS.get(f)}
    if extra:
        out.append(extra)
    return out


def encode_record(rec: ResourceRecord) -> str:
    return _encoder.encode(pack(rec))


def unpack(p: list) -> ResourceRecord:
    """A ResourceRecord from its packed value."""
    if p[0] != PACKED_VERSION:
        raise ValueError(f"unknown packed record version {p[0]!r}")
    address, lineage = p[1], p[11]
    groups = []
    for pv, nodes in p[10]:
        placement = _new(Placement)
        pd = dict(zip(PLACEMENT_FIELDS, pv))
        _set(placement, "__dict__", pd)
        if len(pv) != _NP:
            if len(pv) > _NP and isinstance(pv[_NP], dict):
                pd.update(pv[_NP])
            _fill(placement, Placement)
        provider, region, zone, itype, pricing = pv[0], pv[1], pv[2], pv[3], pv[4]
        insts = []
        for n in nodes:
            d = {"provider": provider, "id": n[0], "address": address, "lineage": lineage, "group": n[1],
                 "rank": n[2], "region": region, "zone": zone, "instance_type": itype, "pricing": pricing,
                 "state": n[3], "tags": n[4], "attributes": n[5]}
            inst = _new(Instance)
            _set(inst, "__dict__", d)
            if len(n) > 6:
                d.update(n[6])
            if len(d) != _NI:
                _fill(inst, Instance)
            insts.append(inst)
        g = _new(GroupRecord)
        _set(g, "__dict__", {"placement": placement, "instances": tuple(insts)})
        groups.append(g)
    d = dict(zip(RECORD_FIELDS, p[1:10]))
    d["tainted"] = bool(d["tainted"])
    d["depends_on"] = tuple(d["depends_on"])
    d["groups"] = tuple(groups)
    if len(p) > 12 and isinstance(p[12], dict):
        d.update(p[12])
    rec = _new(ResourceRecord)
    _set(rec, "__dict__", d)
    if len(d) != _NR:
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

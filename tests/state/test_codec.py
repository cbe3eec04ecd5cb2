"""The packed record form: equal to the readable form, tolerant of added fields."""

from __future__ import annotations

import json

from skyplan.state.codec import decode_record, encode_record, pack, unpack
from skyplan.state.model import ResourceRecord
from tests.state.conftest import make_record


def test_packed_round_trip_equals_from_json():
    rec = make_record('module.m.workload.x["a"]', 7, nodes=3, groups=2)
    text = encode_record(rec)
    assert decode_record(text) == ResourceRecord.from_json(rec.to_json()) == rec
    assert len(text) < len(json.dumps(rec.to_json()))
    assert decode_record(rec.to_json()) == rec  # the readable form is accepted too


def test_values_from_a_later_class_version_are_kept_and_missing_ones_defaulted():
    rec = make_record(nodes=2)
    p = pack(rec)
    node = p[10][0][1][0]
    if len(node) == 6:
        node.append({})
    node[6]["future_field"] = 1  # a field this build does not know: kept on the object
    assert unpack(p).instances[0].__dict__["future_field"] == 1
    older = pack(rec)
    older[10][0][0] = older[10][0][0][:-2]  # a placement written before vcpus/memory_gib existed
    got = unpack(older)
    assert got.placement.vcpus == 0 and got.placement.memory_gib == 0 and got.instances == rec.instances


def test_nodes_that_differ_from_their_group_keep_their_own_values():
    from dataclasses import replace

    rec = make_record(nodes=2)
    odd = replace(rec.groups[0].instances[1], zone=None, region="us-west-2", lineage="other", address="workload.x")
    rec = replace(rec, groups=(replace(rec.groups[0], instances=(rec.groups[0].instances[0], odd)),))
    assert decode_record(encode_record(rec)) == rec
    assert "zone" in pack(rec)[10][0][1][1][6] and len(pack(rec)[10][0][1][0]) == 6


def _records():
    from hypothesis import strategies as st

    from skyplan.providers.base import Instance
    from skyplan.solver.model import Placement
    from skyplan.state.model import STATUSES, GroupRecord

    text = st.text(max_size=12)
    json_leaf = st.none() | st.booleans() | st.integers(-10**6, 10**6) | text
    json_value = st.recursive(json_leaf, lambda c: st.lists(c, max_size=3) | st.dictionaries(text, c, max_size=3),
                              max_leaves=8)
    placement = st.builds(Placement, provider=text, region=text, zone=st.none() | text, instance_type=text,
                          pricing=st.sampled_from(["on_demand", "spot", "reserved"]),
                          hourly_price=st.floats(0, 1000, allow_nan=False), nodes=st.integers(1, 8),
                          fleet=st.none() | text, accelerators=st.none() | text)
    instance = st.builds(Instance, provider=text, id=text, address=text, lineage=text, group=st.integers(0, 5),
                         rank=st.integers(0, 5), zone=st.none() | text,
                         tags=st.dictionaries(text, text, max_size=3),
                         attributes=st.dictionaries(text, json_value, max_size=3))
    group = st.builds(GroupRecord, placement=placement, instances=st.lists(instance, max_size=3).map(tuple))
    return st.builds(ResourceRecord, address=text, kind=st.sampled_from(["workload", "fleet"]),
                     status=st.sampled_from(STATUSES), groups=st.lists(group, max_size=3).map(tuple),
                     attributes=st.dictionaries(text, json_value, max_size=4), config_hash=text,
                     tainted=st.booleans(), depends_on=st.lists(text, max_size=3).map(tuple))


def test_any_record_round_trips_through_the_packed_form():
    from hypothesis import given, settings

    @settings(max_examples=150, deadline=None)
    @given(_records())
    def check(rec):
        assert decode_record(encode_record(rec)) == rec
        assert decode_record(encode_record(rec)) == ResourceRecord.from_json(json.loads(json.dumps(rec.to_json())))

    check()

"""The packed record form: equal to the readable form, tolerant of added fields."""

from __future__ import annotations

import json

from skyplan.state.codec import INSTANCE_FIELDS, decode_record, encode_record, pack, unpack
from skyplan.state.model import ResourceRecord
from tests.state.conftest import make_record


def test_packed_round_trip_equals_from_json():
    rec = make_record('module.m.workload.x["a"]', 7, nodes=3, groups=2)
    text = encode_record(rec)
    assert decode_record(text) == ResourceRecord.from_json(rec.to_json()) == rec
    assert len(text) < len(json.dumps(rec.to_json()))
    assert decode_record(rec.to_json()) == rec  # the readable form is accepted too


def test_values_from_a_later_class_version_are_kept_and_missing_ones_defaulted():
    rec = make_record()
    p = pack(rec)
    inst = p[10][0][1][0]
    inst.append({"future_field": 1})  # a field this build does not know: ignored by equality, kept on the object
    assert unpack(p).instances[0].__dict__["future_field"] == 1
    short = pack(rec)
    short[10][0][1][0] = short[10][0][1][0][: INSTANCE_FIELDS.index("tags")]  # an older, shorter instance
    got = unpack(short).instances[0]
    assert got.tags == {} and got.attributes == {} and got.id == rec.instances[0].id

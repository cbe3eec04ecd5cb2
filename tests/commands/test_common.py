"""What the commands print: a long JSON document encoded in two processes reads
exactly as ``json.dumps`` writes it."""

from __future__ import annotations

import json
from datetime import date

from skyplan.commands.common import SPLIT_ITEMS, compact_json


def test_a_long_last_list_is_encoded_in_parts_as_one_dumps_writes_it():
    items = [{"address": f"workload.w{i}", "cost": i * 0.1, "tags": ["é", "\"q\"\n"], "none": None,
              "when": date(2026, 1, 1 + i % 28), "pair": (i, -i)} for i in range(SPLIT_ITEMS + 777)]
    doc = {"total": 1.25, "status": "optimal", "placements": items}
    assert compact_json(doc) == json.dumps(doc, default=str)
    assert json.loads(compact_json(doc))["placements"][-1]["address"] == f"workload.w{SPLIT_ITEMS + 776}"


def test_short_or_other_documents_are_one_dumps():
    for doc in ({"placements": []}, {"placements": [1, 2]}, [1, 2, 3], {"a": {"b": list(range(5000))}}, {}):
        assert compact_json(doc) == json.dumps(doc, default=str)

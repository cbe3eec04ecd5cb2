"""The block schemas: valid draft 2020-12, published for editors, and the compiled
fast check agrees with jsonschema on every value."""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from skyplan.config.fastcheck import compile_schema
from skyplan.config.loader import BLOCK_TYPES
from skyplan.config.schema import SCHEMA_DIR, _schema


@pytest.mark.parametrize("block", BLOCK_TYPES)
def test_schemas_are_valid_draft_2020_12(block):
    schema = json.loads((SCHEMA_DIR / f"{block}.json").read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert compile_schema(schema) is not None


KEYS = ["kind", "resources", "num_nodes", "replicas", "pricing", "placement", "env", "ports", "accelerators", "cpus",
        "memory", "providers", "spread", "fleet", "capacity", "accelerator", "per_node", "nodes", "existing", "quota",
        "max", "vcpus", "regions", "alias", "state", "path", "value", "source", "type", "validation", "condition",
        "lifecycle", "ignore_changes", "count", "for_each", "nmu_nodes", "address"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 70000), st.floats(-5, 5, allow_nan=False),
                    st.sampled_from(["job", "service", "spot", "on-demand", "8+", "8", "${var.x}", "H100:8", "zone", "x"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)), max_leaves=12)


@settings(max_examples=500, deadline=None)
@example(block="workload", value={"ports": 1})
@example(block="workload", value={"ports": 70000, "num_nodes": 0})
@example(block="fleet", value={"capacity": [{"nodes": 1, "per_node": 8}]})
@given(block=st.sampled_from(BLOCK_TYPES), value=st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=5))
def test_fast_check_agrees_with_jsonschema(block, value):
    schema = _schema(block)
    assert compile_schema(schema)(value) == Draft202012Validator(schema).is_valid(value)

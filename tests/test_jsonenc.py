"""The fast indented JSON writer writes exactly what json.dump(indent=2, default=str) does."""

from __future__ import annotations

import enum
import io
import json
import random
from datetime import date
from pathlib import Path

import pytest

from skyplan.commands import jsonenc


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


def _same(value):
    buf = io.StringIO()
    jsonenc.dump(value, buf.write)
    assert buf.getvalue() == json.dumps(value, indent=2, default=str)


@pytest.mark.parametrize("value", [
    {}, [], (), "", 0, -1.5, None, True, {"a": {}, "b": [], "c": [[]], "d": [{}]},
    {1: "int key", 2.5: "float key", False: "f", None: "n"}, {True: "t"},
    [float("nan"), float("inf"), -float("inf"), 1e300, -0.0, 2 ** 70, 0.1 + 0.2],
    {"é": "ü\n\t\"\\", "snow": "\u2603", "emoji": "\U0001F600"},
    {"path": Path("a/b"), "when": date(2026, 1, 2), "enum": Colour.RED, "level": Level.HIGH},
    ("tuple", ("nested",)),
])
def test_values(value):
    _same(value)


def test_random_documents():
    rng = random.Random(15)

    def gen(depth):
        r = rng.random()
        if depth > 4 or r < 0.4:
            return rng.choice([None, True, False, rng.randint(-10 ** 6, 10 ** 6), rng.uniform(-1e6, 1e6),
                               "".join(rng.choice("ab\"\\\n é") for _ in range(rng.randint(0, 6)))])
        if r < 0.7:
            return [gen(depth + 1) for _ in range(rng.randint(0, 5))]
        return {f"k{i}": gen(depth + 1) for i in range(rng.randint(0, 5))}

    for _ in range(200):
        _same(gen(0))


def test_large_document_is_written_in_pieces():
    pieces = []
    doc = {"items": [{"n": i, "name": f"w{i}"} for i in range(5000)]}
    jsonenc.dump(doc, pieces.append)
    assert len(pieces) > 1
    assert "".join(pieces) == json.dumps(doc, indent=2, default=str)

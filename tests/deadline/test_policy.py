"""Uniform Progress's rules as data: tests/cases/deadline/*.json (progress -> decision)."""

import json
from pathlib import Path

import pytest

from skyplan.deadline import Mode, Progress, decide

CASES = sorted((Path(__file__).parent.parent / "cases" / "deadline").glob("*.json"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(path):
    case = json.loads(path.read_text())
    fields = dict(case["progress"])
    if "mode" in fields:
        fields["mode"] = Mode(fields["mode"])
    decision = decide(Progress(**fields))
    assert decision.mode is Mode(case["expected"]), decision.reason
    assert case.get("reason_contains", "") in decision.reason

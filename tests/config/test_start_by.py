"""``start_by`` on a workload: an RFC 3339 time the workload must have started
by (a Capacity Block starting later is not waited for); anything else is an
error with file:line:col."""

from __future__ import annotations

import pytest

from skyplan import config

HEAD = 'provider "aws" {}\n'


def _job(start_by: str) -> str:
    return ('workload "train" {\n  kind = "job"\n  duration_hours = 4\n'
            f'  start_by = {start_by}\n  resources {{\n    accelerators = "H100:8"\n  }}\n}}\n')


def test_start_by_is_read_as_written_and_is_part_of_the_attributes(tmp_path):
    (tmp_path / "main.sky.hcl").write_text(HEAD + _job('"2026-12-03T08:00:00Z"'))
    w = config.load(tmp_path).workloads["workload.train"]
    assert w.start_by == "2026-12-03T08:00:00Z"
    assert w.attributes()["start_by"] == "2026-12-03T08:00:00Z"


@pytest.mark.parametrize("value", ['"tomorrow"', '"2026-12-03T08:00:00"'])
def test_a_start_by_that_is_not_an_rfc_3339_time_with_its_zone_is_an_error_with_a_position(tmp_path, value):
    (tmp_path / "main.sky.hcl").write_text(HEAD + _job(value))
    errors = [d for d in config.validate(tmp_path) if d.severity == "error"]
    assert any("start_by" in d.summary and "RFC 3339" in d.summary for d in errors), [d.summary for d in errors]
    hit = next(d for d in errors if "start_by" in d.summary)
    assert hit.source is not None and hit.source.line == 5
    assert "2026-12-24T11:30:00Z" in (hit.hint or "")


def test_a_start_by_that_is_a_number_is_refused_by_the_schema_at_its_line(tmp_path):
    (tmp_path / "main.sky.hcl").write_text(HEAD + _job("12"))
    errors = [d for d in config.validate(tmp_path) if d.severity == "error"]
    hit = next(d for d in errors if "start_by" in d.summary)
    assert hit.source is not None and hit.source.line == 5

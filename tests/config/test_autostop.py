"""``autostop`` on a workload: an idle time with its unit, on a service; bad values
are errors at their file:line:col, with a hint, and nothing is built."""

from __future__ import annotations

import pytest

from skyplan.config import load, validate

SERVICE = 'workload "dev" {\n  kind = "service"\n  run  = "sleep infinity"\n  autostop = %s\n}\n'


@pytest.mark.parametrize("text,seconds", [('"2h"', 7200), ('"30m"', 1800), ('"5s"', 5), ('"1h30m"', 5400)])
def test_an_idle_time_is_kept_as_written_and_launched_in_seconds(tmp_path, text, seconds):
    from skyplan.planner.options import parse_duration

    (tmp_path / "main.sky.hcl").write_text(SERVICE % text)
    w = load(tmp_path).workloads["workload.dev"]
    assert w.autostop == text.strip('"') and parse_duration(w.attributes()["autostop"]) == seconds


def test_unset_autostop_leaves_the_attributes_as_before(tmp_path):
    (tmp_path / "main.sky.hcl").write_text('workload "dev" {\n  kind = "service"\n}\n')
    assert "autostop" not in load(tmp_path).workloads["workload.dev"].attributes()


@pytest.mark.parametrize("text,summary", [
    ('"2x"', 'autostop = "2x" is not an idle time'),
    ('"120"', 'autostop = "120" is not an idle time'),  # a unit is required
    ('"500ms"', 'autostop = "500ms" is not an idle time'),
    ('"0s"', 'autostop = "0s" is shorter than 1s'),
    ("5", 'Invalid value for "autostop"'),
])
def test_bad_idle_times_name_the_line(tmp_path, text, summary):
    (tmp_path / "main.sky.hcl").write_text(SERVICE % text)
    [d] = [d for d in validate(tmp_path) if d.severity == "error"]
    assert summary in d.summary and str(d.source).endswith("main.sky.hcl:4:3")


def test_autostop_on_a_job_is_refused(tmp_path):
    (tmp_path / "main.sky.hcl").write_text('workload "j" {\n  run = "true"\n  autostop = "1h"\n}\n')
    [d] = [d for d in validate(tmp_path) if d.severity == "error"]
    assert "autostop applies to a service" in d.summary and str(d.source).endswith("main.sky.hcl:3:3")
    assert 'kind = "service"' in d.hint

"""``deadline``/``deadline_hours``, ``changeover_hours`` and ``recovery`` on a job:
built into ``Workload.deadline``; mistakes are errors at their file:line:col."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from skyplan.config import load, validate
from skyplan.config.deadline import parse_instant, too_late

JOB = 'workload "train" {\n  run = "true"\n  duration_hours = 48\n%s}\n'


def _write(tmp_path, body, template=JOB):
    (tmp_path / "main.sky.hcl").write_text(template % body)


def test_a_deadline_job_builds_with_its_recovery(tmp_path):
    _write(tmp_path, '  deadline = "2026-12-20T19:00:00+01:00"\n  changeover_hours = 0.2\n'
                     '  recovery {\n    max_restarts = 10\n  }\n')
    w = load(tmp_path).workloads["workload.train"]
    assert w.deadline.deadline == "2026-12-20T18:00:00Z"  # normalised to UTC
    assert w.deadline.strategy == "uniform_progress" and w.deadline.max_restarts == 10
    attrs = w.attributes()
    assert attrs["deadline"] == "2026-12-20T18:00:00Z" and attrs["changeover_hours"] == 0.2
    assert attrs["recovery"] == {"strategy": "uniform_progress", "max_restarts": 10}


def test_deadline_hours_counts_from_the_first_apply(tmp_path):
    _write(tmp_path, "  deadline_hours = 70\n")
    spec = load(tmp_path).workloads["workload.train"].deadline
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert spec.due(start) == datetime(2026, 1, 3, 22, tzinfo=timezone.utc) and spec.due(None) is None


def test_without_a_deadline_the_attributes_are_as_before(tmp_path):
    _write(tmp_path, "")
    w = load(tmp_path).workloads["workload.train"]
    assert w.deadline is None
    assert not {"deadline", "deadline_hours", "changeover_hours", "recovery"} & set(w.attributes())


def test_recovery_alone_keeps_its_strategy(tmp_path):
    _write(tmp_path, '  recovery {\n    strategy = "none"\n  }\n')
    w = load(tmp_path).workloads["workload.train"]
    assert w.deadline.strategy == "none" and not w.deadline.has_deadline


@pytest.mark.parametrize("body,template,summary,where", [
    ('  deadline = "next friday"\n', JOB, 'Invalid value for "deadline"', "4:3"),
    ('  deadline = "2026-12-20T18:00:00"\n', JOB, 'Invalid value for "deadline"', "4:3"),  # no offset
    ("  deadline_hours = 40\n", JOB, "deadline_hours = 40 leaves no room for duration_hours = 48", "4:3"),
    ("  deadline_hours = 70\n", 'workload "train" {\n  run = "true"\n%s}\n', "deadline_hours needs duration_hours", "3:3"),
    ("  deadline_hours = 70\n", 'workload "train" {\n  kind = "service"\n  duration_hours = 48\n%s}\n',
     "deadline_hours applies to a job", "4:3"),
    ('  deadline_hours = 70\n  deadline = "2026-12-20T18:00:00Z"\n', JOB, "one deadline", "4:3"),
    ('  recovery {\n    strategy = "uniform_progress"\n  }\n', JOB, "but it has none", "5:5"),
    ('  recovery {\n    strategy = "later"\n  }\n', JOB, 'Invalid value for "recovery.strategy"', "5:5"),
])
def test_mistakes_name_their_line(tmp_path, body, template, summary, where):
    _write(tmp_path, body, template)
    errors = [d for d in validate(tmp_path) if d.severity == "error"]
    assert errors, summary
    d = errors[0]
    assert summary in d.summary and str(d.source).endswith(f"main.sky.hcl:{where}") and d.hint


def test_a_deadline_before_now_plus_duration_says_so(tmp_path):
    _write(tmp_path, '  deadline = "2026-12-20T18:00:00Z"\n  changeover_hours = 0.5\n')
    spec = load(tmp_path).workloads["workload.train"].deadline
    assert too_late(spec, 48, parse_instant("2026-12-17T00:00:00Z")) is None  # 90 h left
    why = too_late(spec, 48, parse_instant("2026-12-19T00:00:00Z"))  # 42 h left
    assert "before now + duration_hours" in why and "42.00 h left" in why


def _plan(capsys, folder):
    from skyplan.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["plan", str(folder)])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_planning_a_new_job_past_its_deadline_is_refused_at_its_line(tmp_path, capsys):
    _write(tmp_path, '  deadline = "2020-01-01T00:00:00Z"\n')
    code, out, err = _plan(capsys, tmp_path)
    assert code == 1 and "main.sky.hcl:4:3" in err and "before now + duration_hours" in err
    assert not (tmp_path / ".skyplan").exists()  # nothing written


def test_the_plan_shows_deadline_slack_mode_and_why(tmp_path, capsys):
    (tmp_path / "main.sky.hcl").write_text(
        'provider "local" {\n  price = { on_demand = 3, spot = 1 }\n}\n' + JOB % (
            '  deadline_hours = 70\n  changeover_hours = 0.2\n  pricing = ["spot", "on_demand"]\n'))
    code, out, err = _plan(capsys, tmp_path)
    assert code == 0, err
    line = next(x for x in out.splitlines() if x.startswith("  workload.train: deadline"))
    assert "70.00 h left for 48.00 h of work, slack 22.00 h; starts on spot: ahead by" in line

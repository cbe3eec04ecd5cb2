"""End to end on the local provider: a deadline job priced spot 1 / on-demand 3,
its spot node preempted on request; `skyplan watch --once` ticks move it from spot
to on-demand (behind, no spot) and back to spot (ahead again, spot no longer
remembered as lost), and it finishes before its deadline. The job checkpoints in
its working directory and reports SKYPLAN_PROGRESS, as a training job would."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from skyplan.cli import main
from skyplan.state import StateStore

WORK = 20  # seconds of work the job needs
JOB = """n=$(cat progress 2>/dev/null || echo 0)
while [ "$n" -lt {work} ]; do
  sleep 1; n=$((n+1)); echo $n > progress
  printf 'SKYPLAN_PROGRESS=%d.%02d\\n' $((n*100/{work}/100)) $((n*100/{work}%100))
done
"""
CONFIG = """
provider "local" {{
  price = {{ on_demand = 3, spot = 1 }}
}}

workload "train" {{
  kind             = "job"
  run              = "bash {script}"
  duration_hours   = {work} / 3600
  deadline_hours   = 60 / 3600
  changeover_hours = 0.5 / 3600
  pricing          = ["spot", "on_demand"]
  recovery {{
    strategy     = "uniform_progress"
    max_restarts = 5
  }}
}}
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def tick(capsys, root: Path) -> dict:
    code, out, err = run(capsys, "watch", str(root), "--once", "--capacity-memory", "3s")
    assert code == 0, err + out
    [line] = [json.loads(x) for x in out.splitlines() if x.strip()]
    return line


def record(root: Path):
    with StateStore.open(root / ".skyplan" / "state.db", create=False) as store:
        return store.get("workload.train")


@pytest.mark.slow
def test_watch_moves_a_preempted_job_between_spot_and_on_demand_and_it_finishes_in_time(tmp_path, capsys):
    script = tmp_path / "job.sh"
    script.write_text(JOB.format(work=WORK))
    (tmp_path / "main.sky.hcl").write_text(CONFIG.format(script=script, work=WORK))
    code, out, err = run(capsys, "apply", str(tmp_path), "--auto-approve")
    assert code == 0, err + out
    started = time.time()
    assert record(tmp_path).placement.pricing == "spot"
    # the plan showed the envelope it approved, and state keeps it with the job
    assert "expected $" in out and "under Uniform Progress; envelope $3/h" in out, out
    approved = dict(record(tmp_path).envelope)
    assert approved["hourly"] == 3.0 and approved["on_demand_hourly"] == 3.0
    assert approved["work_hours"] == pytest.approx(WORK / 3600)

    first = tick(capsys, tmp_path)
    assert (first["mode"], first["action"]) == ("spot", "keep") and first["deadline"]

    (tmp_path / ".skyplan" / "local" / "preempt").write_text("workload.train\n")
    seen = [tick(capsys, tmp_path)]
    assert seen[0]["previous"] == "wait"  # the node is gone
    assert record(tmp_path).instances[0].state == "running" or seen[0]["action"] != "keep"

    modes = []
    while time.time() - started < 90:
        line = tick(capsys, tmp_path)
        seen.append(line)
        rec = record(tmp_path)
        modes.append(rec.placement.pricing)
        assert dict(rec.envelope) == approved  # a repair carries the approval over, never widens it
        if line["mode"] == "done":
            break
        time.sleep(1)
    actions = [(s["mode"], s["action"]) for s in seen]
    assert ("on_demand", "replace") in actions, seen
    back = actions.index(("on_demand", "replace"))
    assert ("spot", "replace") in actions[back:], seen
    assert seen[-1]["mode"] == "done", seen
    [checkpoint] = (tmp_path / ".skyplan" / "local").glob("*train*/0-0/progress")
    assert checkpoint.read_text().strip() == str(WORK)  # every restart went on from the checkpoint
    assert seen[-1]["time_left_hours"] > 0  # finished before its deadline
    assert "on_demand" in modes and modes[-1] == "spot"


@pytest.mark.slow
def test_drift_repair_makes_the_same_decision_and_reports_it(tmp_path, capsys):
    script = tmp_path / "job.sh"
    script.write_text(JOB.format(work=WORK))
    (tmp_path / "main.sky.hcl").write_text(CONFIG.format(script=script, work=WORK))
    code, out, err = run(capsys, "apply", str(tmp_path), "--auto-approve")
    assert code == 0, err + out
    first = record(tmp_path).instances[0]
    (tmp_path / ".skyplan" / "local" / "preempt").write_text(first.id + "\n")
    code, out, err = run(capsys, "drift", str(tmp_path), "--repair", "--auto-approve", "--json")
    report = json.loads(out)
    import jsonschema

    import skyplan

    jsonschema.validate(report, json.loads((Path(skyplan.__file__).parent / "schemas" / "drift.schema.json").read_text()))
    [decision] = report["repair"]["decisions"]
    # just started: ahead of its pace it waits (nothing launched, the preempted node stays
    # drift), behind it goes on-demand, the only zone's spot being lost; either way the
    # repair did what the decision said
    if decision["action"] == "hold":
        assert decision["mode"] == "wait" and record(tmp_path).instances[0].id == first.id and code == 2
    else:
        assert (decision["mode"], decision["action"]) == ("on_demand", "replace"), decision
        now = record(tmp_path).instances[0]
        assert now.pricing == "on_demand" and now.id != first.id and code == 0, report
    assert decision["previous"] == "wait" and "no spot" in decision["reason"]


def test_plan_shows_what_watch_would_decide_for_a_running_job_and_writes_nothing(tmp_path, capsys):
    script = tmp_path / "job.sh"
    script.write_text(JOB.format(work=WORK))
    # a tight deadline (20 s of work in 30 s), so a few seconds without spot put it behind
    (tmp_path / "main.sky.hcl").write_text(CONFIG.format(script=script, work=WORK).replace("60 / 3600", "30 / 3600"))
    code, out, err = run(capsys, "apply", str(tmp_path), "--auto-approve")
    assert code == 0, err + out
    code, out, err = run(capsys, "plan", str(tmp_path))
    assert code == 0, err + out
    [line] = [x for x in out.splitlines() if x.strip().startswith("workload.train: deadline")]
    assert "of work, slack" in line and "runs on spot: ahead by" in line and "envelope $3/h" in line, line

    first = record(tmp_path).instances[0]
    (tmp_path / ".skyplan" / "local" / "preempt").write_text(first.id + "\n")
    with StateStore.open(tmp_path / ".skyplan" / "state.db", create=False) as store:
        before = len(store.history(address="workload.train"))
    before_at = time.time()
    lines = []
    while time.time() - before_at < 25:  # ahead, it waits; a few seconds on, behind with no spot: on-demand
        code, out, err = run(capsys, "plan", str(tmp_path))
        [line] = [x for x in out.splitlines() if x.strip().startswith("workload.train: deadline")]
        lines.append(line)
        if "moves it to on_demand" in line:
            break
        time.sleep(1)
    assert "not running, skyplan watch moves it to on_demand: behind by" in line and "(until " in line, line
    with StateStore.open(tmp_path / ".skyplan" / "state.db", create=False) as store:
        assert len(store.history(address="workload.train")) == before  # a plan journals nothing


@pytest.mark.slow
def test_a_deadline_switch_dearer_than_the_approved_on_demand_rate_is_refused(tmp_path, capsys):
    script = tmp_path / "job.sh"
    script.write_text(JOB.format(work=WORK))
    config = CONFIG.format(script=script, work=WORK).replace("60 / 3600", "30 / 3600")
    (tmp_path / "main.sky.hcl").write_text(config)
    code, out, err = run(capsys, "apply", str(tmp_path), "--auto-approve")
    assert code == 0, err + out
    first = record(tmp_path).instances[0]
    # on-demand has become dearer than the plan that approved the job allowed for a switch
    (tmp_path / "main.sky.hcl").write_text(config.replace("on_demand = 3", "on_demand = 5"))
    (tmp_path / ".skyplan" / "local" / "preempt").write_text(first.id + "\n")
    started = time.time()
    while time.time() - started < 25:  # ahead it waits; behind with no spot it would go on-demand
        code, out, err = run(capsys, "watch", str(tmp_path), "--once", "--capacity-memory", "1h")
        if code != 0:
            break
        time.sleep(1)
    assert code == 1, out + err
    assert "would cost $5.0000/h, above the $3.0000/h of on-demand its approved plan allowed" in err, err
    assert "Traceback" not in err
    assert record(tmp_path).instances[0].id == first.id  # nothing was launched

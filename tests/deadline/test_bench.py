"""bench/deadline_spot.py runs the real policy over a trace file and meets the deadline."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_trace_file_json(tmp_path):
    trace = tmp_path / "t.json"
    trace.write_text(json.dumps({"step_hours": 0.1, "available": ([1] * 20 + [0] * 30) * 4}))
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "deadline_spot.py"), "--trace", str(trace), "--job-hours", "10",
         "--deadline-hours", "18", "--changeover-hours", "0.2", "--json"],
        capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT)}, timeout=120)
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout.splitlines()[0])
    assert row["met_deadline"] is True
    assert row["cost_optimal"] <= row["cost"] <= row["cost_on_demand"] * 1.1
    assert set(row) == {"trace", "job_hours", "deadline_hours", "changeover_hours", "met_deadline", "cost",
                        "cost_on_demand", "cost_greedy", "cost_optimal"}

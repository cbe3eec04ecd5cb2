"""`skyplan watch` as a long-running process: one JSON line per decision, the state
lock free between ticks, a clean exit 0 on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from skyplan.cli import main
from skyplan.state import StateStore

CONFIG = """
provider "local" {
  price = { on_demand = 3, spot = 1 }
}

workload "train" {
  kind           = "job"
  run            = "sleep 120"
  duration_hours = 1
  deadline_hours = 3
  pricing        = ["spot", "on_demand"]
}
"""


@pytest.mark.slow
def test_watch_ticks_frees_the_lock_between_ticks_and_stops_on_sigterm(tmp_path):
    (tmp_path / "main.sky.hcl").write_text(CONFIG)
    with pytest.raises(SystemExit) as exc:
        main(["apply", str(tmp_path), "--auto-approve"])
    assert exc.value.code == 0
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", "from skyplan.cli import main; main()", "watch", str(tmp_path),
                             "--interval", "30s"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=tmp_path)
    try:
        line = json.loads(proc.stdout.readline())
        assert (line["address"], line["mode"], line["action"]) == ("workload.train", "spot", "keep")
        assert line["deadline"] and line["slack_hours"] > 1.9
        with StateStore.open(tmp_path / ".skyplan" / "state.db", create=False) as store:
            deadline = time.monotonic() + 20
            while True:  # the tick ends; then the lock is free while watch sleeps
                try:
                    with store.lock("test", timeout=1):
                        break
                except Exception:
                    assert time.monotonic() < deadline, "the lock stayed held between ticks"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        with pytest.raises(SystemExit):
            main(["destroy", str(tmp_path), "--auto-approve"])

"""The fresh-machine path: the quickstart applies, both stages succeed, and it tears down."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.apply.clirun import run
from tests.examples import copy_example


def _status(d: Path) -> dict:
    r = run("status", str(d), "--json")
    assert r.returncode == 0, r.stderr
    return {x["address"]: x for x in json.loads(r.stdout)["resources"]}


@pytest.mark.slow
def test_quickstart_apply_status_reapply_destroy(tmp_path):
    d = tmp_path / "quickstart"
    copy_example("quickstart", d)

    r = run("apply", str(d), "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Apply complete! Resources: 2 added, 0 changed, 0 destroyed." in r.stdout

    deadline = time.monotonic() + 20
    while True:
        rows = _status(d)
        if all(x["state"] == "succeeded" for x in rows.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert {a: x["state"] for a, x in rows.items()} == {"workload.prepare": "succeeded", "workload.train": "succeeded"}

    model = (d / ".skyplan" / "local" / "shared-data" / "model.txt").read_text()
    assert model.startswith("slope=3.0") and "points=200" in model

    text = run("status", str(d))
    assert text.returncode == 0 and "workload.train" in text.stdout and "succeeded" in text.stdout

    logs = run("logs", "workload.train", str(d))
    assert logs.returncode == 0 and "slope=3.0" in logs.stdout

    again = run("apply", str(d), "--auto-approve")
    assert again.returncode == 0 and "No changes" in again.stdout

    out = run("output", "model_file", str(d))
    assert out.returncode == 0 and "model.txt" in out.stdout

    gone = run("destroy", str(d), "--auto-approve")
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert "Destroy complete! Resources: 2 destroyed." in gone.stdout
    assert _status(d) == {}

"""Long phases report progress on stderr: one JSON line per phase when piped (stdout,
including --json documents, is untouched), a redrawn status line on a terminal."""

from __future__ import annotations

import json
import os
import pty
import subprocess

from tests.apply.clirun import env, skyplan_argv
from tests.examples import copy_example


def _env(**extra) -> dict:
    e = env()
    e.update(extra)
    return e


def test_piped_phases_are_json_lines_on_stderr(tmp_path):
    d = copy_example("quickstart", tmp_path / "q")
    e = _env(SKYPLAN_PROGRESS_AFTER="0")
    r = subprocess.run(skyplan_argv() + ["plan", "--json", str(d)], capture_output=True, text=True, env=e,
                       stdin=subprocess.DEVNULL, timeout=120)
    assert r.returncode == 0, r.stderr
    json.loads(r.stdout)  # the plan document alone on stdout
    lines = [json.loads(line) for line in r.stderr.splitlines()]
    assert [x["phase"] for x in lines] == ["load", "solve"]
    assert all(x["type"] == "progress" and x["ok"] and x["seconds"] >= 0 for x in lines)

    r = subprocess.run(skyplan_argv() + ["apply", "--auto-approve", "--json", str(d)], capture_output=True,
                       text=True, env=e, stdin=subprocess.DEVNULL, timeout=120)
    assert r.returncode == 0, r.stderr
    for line in r.stdout.splitlines():
        assert "event" in json.loads(line)  # apply's own event stream, untouched
    phases = [json.loads(line)["phase"] for line in r.stderr.splitlines()]
    assert phases[0] == "load" and "solve" in phases and phases[-1] == "apply"
    subprocess.run(skyplan_argv() + ["destroy", "--auto-approve", str(d)], capture_output=True, env=e,
                   stdin=subprocess.DEVNULL, timeout=120)


def test_phases_below_the_threshold_say_nothing_and_progress_can_be_turned_off(tmp_path):
    d = copy_example("quickstart", tmp_path / "q")
    for extra in ({"SKYPLAN_PROGRESS_AFTER": "600"}, {"SKYPLAN_PROGRESS": "0", "SKYPLAN_PROGRESS_AFTER": "0"}):
        r = subprocess.run(skyplan_argv() + ["plan", str(d)], capture_output=True, text=True, env=_env(**extra),
                           stdin=subprocess.DEVNULL, timeout=120)
        assert r.returncode == 0 and r.stderr == "", r.stderr


def test_terminal_shows_a_status_line_that_is_cleared(tmp_path):
    d = copy_example("multinode-spot-training", tmp_path / "m")
    master, slave = pty.openpty()
    try:
        r = subprocess.run(skyplan_argv() + ["optimize", str(d)], stdout=subprocess.PIPE, stderr=slave,
                           stdin=subprocess.DEVNULL, env=_env(SKYPLAN_PROGRESS_AFTER="0"), timeout=120)
        os.close(slave)
        slave = -1
        seen = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
    assert r.returncode == 0
    text = seen.decode()
    assert "Loading configuration..." in text and "Solving placements..." in text
    assert text.endswith("\r\x1b[K")  # nothing is left on the line
    assert "Total:" in r.stdout.decode()

"""Secrets stay secret on the local provider, end to end through the CLI.

The skyplan process carries a cloud key in its environment and the config a
sensitive variable. A launched node gets only the environment the config declares
(plus skyplan's SKYPLAN_* variables and a few basics to run at all: PATH, HOME,
locale, TMPDIR...); the cloud key is in no file under .skyplan/ and in no output;
the sensitive value is in no output, and only in files of mode 0600 (the state
file, the node's spec and registry entry) that nobody else can read."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from tests.apply import clirun

AWS_SECRET = "fakeAwsSecret-7f3a9c0e2b"
TOKEN = "s3nsitive-tok-51d2e8"

CONFIG = """
variable "tok" {
  type      = string
  sensitive = true
}

workload "svc" {
  kind = "service"
  run  = "sleep 120"
  env  = { TOKEN = var.tok, MODE = "serve" }
}

output "tok" {
  value     = var.tok
  sensitive = true
}
"""


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


@pytest.mark.slow
def test_no_cloud_key_and_no_sensitive_value_leaks_to_files_nodes_or_output(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
    monkeypatch.setenv("SKYPLAN_VAR_tok", TOKEN)
    monkeypatch.setenv("SOME_UNRELATED_SETTING", "x")
    (tmp_path / "main.sky.hcl").write_text(CONFIG)
    outputs: list[str] = []

    def run(*args: str, ok: bool = True):
        r = clirun.run(*args, cwd=tmp_path)
        outputs.append(f"$ skyplan {' '.join(args)}\n{r.stdout}{r.stderr}")
        if ok:
            assert r.returncode == 0, outputs[-1]
        return r

    run("plan")
    run("apply", "-auto-approve")
    run("plan", "-out", "p.skyplan")
    for cmd in (["status"], ["state", "list"], ["state", "show", "workload.svc"],
                ["state", "show", "workload.svc", "--json"], ["show"], ["output"], ["output", "--json"],
                ["state", "history"], ["state", "history", "--json"], ["plan", "--json"],
                ["plan", "--format", "markdown"], ["drift"], ["drift", "--json"], ["logs", "workload.svc"]):
        run(*cmd)

    # The node's process: declared env and skyplan's own, no cloud key, nothing else inherited.
    from skyplan.state import StateStore

    with StateStore.open(tmp_path / ".skyplan" / "state.db") as s:
        (inst,) = s.get("workload.svc").instances
    deadline = time.monotonic() + 10
    env = {}
    while time.monotonic() < deadline and "TOKEN" not in env:
        env = _environ(int(inst.attributes["pid"]))
        time.sleep(0.05)
    assert env["TOKEN"] == TOKEN and env["MODE"] == "serve" and env["SKYPLAN_ADDRESS"] == "workload.svc"
    assert "AWS_SECRET_ACCESS_KEY" not in env and "SOME_UNRELATED_SETTING" not in env
    assert "SKYPLAN_VAR_tok" not in env
    assert env["PATH"] == os.environ["PATH"]

    holders = []
    for p in sorted([*(tmp_path / ".skyplan").rglob("*"), tmp_path / "p.skyplan"]):
        if not p.is_file():
            continue
        data = p.read_bytes()
        assert AWS_SECRET.encode() not in data, p
        if TOKEN.encode() in data:
            holders.append(p.name)
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, f"{p} holds a sensitive value and is not 0600"
    assert holders  # (the state and the node's spec hold it, privately)

    r = clirun.run("state", "pull", cwd=tmp_path)
    assert r.returncode == 0 and TOKEN in r.stdout  # the one place it is shown
    run("destroy", "-auto-approve")
    for text in outputs:
        assert AWS_SECRET not in text, text
        assert TOKEN not in text, text

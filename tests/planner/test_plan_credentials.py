"""`plan` with refresh on and no provider credentials: the error names the provider,
what to set, and that -refresh=false previews without them; -refresh=false then
plans without asking the provider anything."""

from __future__ import annotations

import subprocess

from tests.apply.clirun import REPO, env, skyplan_argv
from tests.state.conftest import make_record

# An endpoint on 127.0.0.1 nothing listens on: the SDK fails on the missing
# credentials before it would connect, and no request can leave the machine.
CONFIG = 'provider "aws" {\n  regions      = ["us-east-1"]\n  endpoint_url = "http://127.0.0.1:9"\n}\n' \
         'workload "x" {\n  run = "true"\n}\n'


def _no_aws_env(home) -> dict:
    e = {k: v for k, v in env().items() if not k.startswith("AWS_")}
    e.update(HOME=str(home), AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=str(home / "none"),
             AWS_SHARED_CREDENTIALS_FILE=str(home / "none"), PYTHONPATH=str(REPO))
    return e


def _plan(tmp_path, *flags):
    return subprocess.run(skyplan_argv() + ["plan", *flags, str(tmp_path)], capture_output=True, text=True,
                          env=_no_aws_env(tmp_path), cwd=tmp_path, stdin=subprocess.DEVNULL, timeout=120)


def test_missing_credentials_name_the_provider_what_to_set_and_the_preview(tmp_path):
    from skyplan.state.store import StateStore

    (tmp_path / "main.sky.hcl").write_text(CONFIG)
    with StateStore.open(tmp_path / ".skyplan" / "state.db") as s:
        s.record(make_record("workload.x", 1, lineage=s.lineage), action="create")
    r = _plan(tmp_path)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert "aws" in r.stderr and "credentials" in r.stderr
    assert "AWS_ACCESS_KEY_ID" in r.stderr and "AWS_PROFILE" in r.stderr
    assert "-refresh=false" in r.stderr and "without" in r.stderr
    preview = _plan(tmp_path, "-refresh=false", "--format", "markdown")
    assert preview.returncode == 0, preview.stderr
    assert preview.stdout.startswith("<!-- skyplan-plan -->")

"""The custom data an Azure node boots with, run in a folder as the node would."""

from __future__ import annotations

import os
import subprocess

from skyplan.providers.azure.launch import custom_data
from tests.providers.azure.helpers import request


def _boot(script: str, tmp_path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "shutdown").write_text(f"#!/bin/sh\ntouch {tmp_path}/powered-off\n")
    (bin_dir / "shutdown").chmod(0o755)
    (tmp_path / "dev").mkdir(exist_ok=True)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    subprocess.run(["bash", "-c", script], check=True, timeout=30, env=env)


def test_custom_data_runs_setup_then_run_with_the_node_rank_and_reports_the_exit_code(tmp_path):
    req = request(kind="service", setup="true", run="echo $SKYPLAN_NODE_RANK $SKYPLAN_NUM_NODES > out.txt")
    _boot(custom_data(req, 1, root=str(tmp_path)), tmp_path)
    assert (tmp_path / "opt" / "skyplan" / "out.txt").read_text().strip() == "1 1"
    assert (tmp_path / "dev" / "ttyS0").read_text() == "skyplan: exit_code=0\n"
    assert not (tmp_path / "powered-off").exists()  # a service stays up


def test_a_failed_setup_skips_run_and_a_job_powers_off(tmp_path):
    req = request(kind="job", setup="exit 4", run="touch ran")
    _boot(custom_data(req, 0, root=str(tmp_path)), tmp_path)
    assert (tmp_path / "var" / "log" / "skyplan" / "exit_code").read_text() == "skyplan: exit_code=4\n"
    assert not (tmp_path / "opt" / "skyplan" / "ran").exists()
    assert (tmp_path / "powered-off").exists()


def test_a_container_gets_the_gpus_only_on_a_gpu_size():
    assert "--gpus all" in custom_data(request(size="Standard_NC4as_T4_v3", accelerators="T4:1"), 0, "img:1")
    assert "--gpus" not in custom_data(request(), 0, "img:1")

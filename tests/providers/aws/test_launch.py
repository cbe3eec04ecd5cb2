"""The run_instances arguments and the boot script, built without I/O; the
script is run for real with bash (metadata and shutdown stubbed on PATH)."""

from __future__ import annotations

import os
import subprocess

from skyplan.providers.aws.launch import arch_of, market_options, run_instances_args, user_data
from tests.providers.aws.helpers import request


def _run(script: str, tmp_path, rank: str = "1") -> subprocess.CompletedProcess:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "curl").write_text(f"#!/bin/sh\ncase \"$*\" in *launch-index*) echo {rank};; *) echo token;; esac\n")
    (bin_dir / "shutdown").write_text(f"#!/bin/sh\ntouch {tmp_path}/powered-off\n")
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    (tmp_path / "dev").mkdir()
    path = tmp_path / "boot.sh"
    path.write_text(script)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run(["bash", str(path)], env=env, capture_output=True, text=True, timeout=30)


def test_boot_script_runs_setup_then_run_with_env_and_rank(tmp_path):
    req = request(nodes=2, env={"GREETING": "it's a 'test'", "PATHY": "$HOME/x"}, setup="echo setup > order.txt",
                  run='echo "run $GREETING $PATHY rank=$SKYPLAN_NODE_RANK of $SKYPLAN_NUM_NODES" >> order.txt')
    _run(user_data(req, root=str(tmp_path)), tmp_path)
    lines = (tmp_path / "opt" / "skyplan" / "order.txt").read_text().splitlines()
    assert lines == ["setup", "run it's a 'test' $HOME/x rank=1 of 2"]
    assert (tmp_path / "dev" / "console").read_text() == "skyplan: exit_code=0\n"
    assert (tmp_path / "powered-off").exists()  # a job node powers off when done


def test_failed_setup_skips_run_and_reports_its_code(tmp_path):
    req = request(kind="service", setup="exit 7", run="touch ran")
    _run(user_data(req, root=str(tmp_path)), tmp_path)
    assert (tmp_path / "dev" / "console").read_text() == "skyplan: exit_code=7\n"
    assert not (tmp_path / "opt" / "skyplan" / "ran").exists()
    assert not (tmp_path / "powered-off").exists()  # a service node stays up


def test_container_image_runs_steps_in_docker_with_the_env_names():
    script = user_data(request(env={"A": "1"}, itype="g5.xlarge", accelerators="A10G:1"), "pytorch/pytorch:2.4")
    assert "docker run --rm --network host --gpus all -e A -e SKYPLAN_ADDRESS" in script
    assert "pytorch/pytorch:2.4 bash -c 'python train.py'" in script


def test_a_container_on_a_cpu_node_is_not_asked_for_gpus():
    # docker refuses --gpus on a machine without the NVIDIA runtime: the run would fail before it starts
    script = user_data(request(env={"A": "1"}), "python:3.11")
    assert "docker run --rm --network host -e A -e SKYPLAN_ADDRESS" in script and "--gpus" not in script


def test_spot_market_options_per_kind():
    assert market_options("job", "on_demand") is None
    assert market_options("job", "spot")["SpotOptions"] == {"SpotInstanceType": "one-time",
                                                            "InstanceInterruptionBehavior": "terminate"}
    assert market_options("service", "spot")["SpotOptions"] == {"SpotInstanceType": "persistent",
                                                                "InstanceInterruptionBehavior": "stop"}


def test_run_instances_args_zone_count_tags_and_shutdown_behaviour():
    args = run_instances_args(request(nodes=4, pricing="spot"), image_id="ami-1", settings={}, client_token="t")
    assert (args["MinCount"], args["MaxCount"], args["Placement"]) == (4, 4, {"AvailabilityZone": "us-east-1a"})
    assert args["InstanceInitiatedShutdownBehavior"] == "terminate"  # one-time spot cannot stop
    tags = {t["Key"]: t["Value"] for t in args["TagSpecifications"][0]["Tags"]}
    assert tags["skyplan:address"] == "workload.train" and tags["skyplan:lineage"] == "lin-1"
    on_demand = run_instances_args(request(), image_id="ami-1", settings={"key_name": "k"}, client_token="t")
    assert on_demand["InstanceInitiatedShutdownBehavior"] == "stop" and on_demand["KeyName"] == "k"


def test_arch_from_instance_family():
    assert [arch_of(t) for t in ("m7g.large", "g5g.xlarge", "c6gn.large", "g5.xlarge", "p5.48xlarge", "m5.large")] == \
        ["arm64", "arm64", "arm64", "x86_64", "x86_64", "x86_64"]

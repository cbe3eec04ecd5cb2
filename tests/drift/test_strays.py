"""Nodes carrying this state's lineage and a declared address that state does not
hold (what a lost launch answer leaves behind): ``drift --repair`` adopts one
that completes its planned group and deletes one that does not, says which, and
the next ``drift`` is in sync. "Accepted" drift is only what an ignore rule
accepts. On the local provider (real processes) and on AWS (moto)."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import boto3
import pytest

from skyplan.cli import main
from skyplan.config.model import ProviderConfig
from skyplan.providers.base import LaunchRequest
from skyplan.providers.local import LocalProvider
from skyplan.state import StateStore
from skyplan.state.model import GroupRecord
from tests.providers.aws.helpers import AMI, CATALOG_M5, CONFIG_HEAD

LOCAL = """
workload "api" {
  kind      = "service"
  num_nodes = %d
  run       = "sleep 600"
}
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def state_of(root: Path, address: str = "workload.api"):
    with StateStore.open(root / ".skyplan" / "state.db", create=False) as store:
        return store.lineage, store.get(address)


def drop_node(root: Path, rank: int, address: str = "workload.api") -> None:
    """State loses one node's record, as when a launch's answer never arrived."""
    with StateStore.open(root / ".skyplan" / "state.db", create=False) as store:
        rec = store.get(address)
        groups = tuple(GroupRecord(g.placement, tuple(i for i in g.instances if i.rank != rank)) for g in rec.groups)
        store.record(replace(rec, groups=groups), action="test")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def stray_local(root: Path, lineage: str, placement) -> object:
    prov = LocalProvider(ProviderConfig(kind="local", settings={"root": str(root)}))
    [inst] = prov.create(LaunchRequest(address="workload.api", lineage=lineage, group=0,
                                       placement=replace(placement, nodes=1), kind="service", run="sleep 600"))
    return inst


@pytest.fixture
def local_root(tmp_path, capsys):
    root = tmp_path / "cfg"
    root.mkdir()
    yield root
    run(capsys, "destroy", str(root), "--auto-approve")


def test_local_stray_that_does_not_fit_is_deleted(local_root, capsys):
    root = local_root
    (root / "main.sky.hcl").write_text(LOCAL % 1)
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out + err
    lineage, rec = state_of(root)
    stray = stray_local(root, lineage, rec.placement)

    code, out, err = run(capsys, "drift", str(root), "--json")
    assert code == 2, out + err
    [item] = json.loads(out)["items"]
    assert (item["address"], item["category"], item["provider_ids"]) == ("workload.api", "unmanaged", [stray.id])

    code, out, err = run(capsys, "drift", str(root), "--repair", "--auto-approve")
    assert code == 0, out + err
    assert "accepted" not in out + err
    assert "to delete nodes carrying its address" in out
    assert f"deleting node(s) state does not hold: {stray.id}" in err
    code, out, err = run(capsys, "drift", str(root))
    assert code == 0, out + err
    assert not alive(stray.attributes["pid"])
    _, after = state_of(root)
    assert [i.id for i in after.instances] == [i.id for i in rec.instances]
    assert all(alive(i.attributes["pid"]) for i in after.instances)


def test_local_node_state_lost_is_adopted_into_its_group(local_root, capsys):
    root = local_root
    (root / "main.sky.hcl").write_text(LOCAL % 2)
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out + err
    _, rec = state_of(root)
    drop_node(root, 1)

    code, out, err = run(capsys, "drift", str(root), "--repair", "--auto-approve")
    assert code == 0, out + err
    assert f"will adopt node(s) {rec.instances[1].id}" in out and "accepted" not in out + err
    _, after = state_of(root)
    assert sorted(i.id for i in after.instances) == sorted(i.id for i in rec.instances)
    code, out, err = run(capsys, "drift", str(root))
    assert code == 0, out + err


def test_local_record_state_lost_is_adopted(local_root, capsys):
    root = local_root
    (root / "main.sky.hcl").write_text(LOCAL % 2)
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out + err
    _, rec = state_of(root)
    code, out, err = run(capsys, "state", "rm", "workload.api", str(root))
    assert code == 0, out + err
    code, out, err = run(capsys, "drift", str(root), "--repair", "--auto-approve")
    assert code == 0, out + err
    assert "to adopt nodes" in out and "will be created" not in out
    _, after = state_of(root)
    assert sorted(i.id for i in after.instances) == sorted(i.id for i in rec.instances)
    pids = {i.id: i.attributes["pid"] for i in rec.instances}
    assert {i.id: i.attributes["pid"] for i in after.instances} == pids  # adopted as they run, not restarted
    assert all(alive(i.attributes["pid"]) for i in after.instances)
    code, out, err = run(capsys, "drift", str(root))
    assert code == 0, out + err


AWS = CONFIG_HEAD + """
workload "api" {{
  kind      = "service"
  num_nodes = {nodes}
  run       = "python -m http.server"
  resources {{
    instance_type = "m5.large"
  }}
}}
"""

CATALOG = CATALOG_M5


@pytest.fixture
def aws_root(tmp_path, moto):
    root = tmp_path / "cfg"
    root.mkdir()
    (root / "catalog.csv").write_text(CATALOG)
    return root


def _live_ids(moto, lineage: str) -> set[str]:
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url)
    pages = ec2.get_paginator("describe_instances").paginate(Filters=[
        {"Name": "tag:skyplan:lineage", "Values": [lineage]},
        {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}])
    return {i["InstanceId"] for p in pages for r in p["Reservations"] for i in r["Instances"]}


@pytest.mark.slow
def test_aws_stray_is_deleted_and_lost_node_adopted(aws_root, moto, capsys):
    from skyplan.providers.aws import AwsProvider

    root = aws_root
    (root / "main.sky.hcl").write_text(AWS.format(url=moto.url, ami=AMI, nodes=2))
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out + err
    lineage, rec = state_of(root)
    drop_node(root, 1)  # a node state never heard of, filling its group: adopted
    aws = AwsProvider(ProviderConfig(kind="aws", regions=("us-east-1",), settings={
        "endpoint_url": moto.url, "image_id": AMI, "poll_interval": 0.05, "launch_timeout": 30}))
    [stray] = aws.create(LaunchRequest(address="workload.api", lineage=lineage, group=0,
                                       placement=replace(rec.placement, nodes=1), kind="service",
                                       run="python -m http.server"))  # one too many: deleted

    code, out, err = run(capsys, "drift", str(root), "--repair", "--auto-approve")
    assert code == 0, out + err
    assert "accepted" not in out + err and f"deleting node(s) state does not hold: {stray.id}" in err
    assert f"will adopt node(s) {rec.instances[1].id}" in out
    _, after = state_of(root)
    assert sorted(i.id for i in after.instances) == sorted(i.id for i in rec.instances)
    assert _live_ids(moto, lineage) == {i.id for i in rec.instances}
    code, out, err = run(capsys, "drift", str(root))
    assert code == 0, out + err

    code, out, err = run(capsys, "state", "rm", "workload.api", str(root))  # state lost the whole record
    assert code == 0, out + err
    code, out, err = run(capsys, "drift", str(root), "--repair", "--auto-approve")
    assert code == 0, out + err
    assert "to adopt nodes" in out and "accepted" not in out + err
    _, adopted = state_of(root)
    assert sorted(i.id for i in adopted.instances) == sorted(i.id for i in rec.instances)
    assert adopted.hourly_cost == pytest.approx(rec.hourly_cost) and adopted.hourly_cost > 0
    code, out, err = run(capsys, "drift", str(root))
    assert code == 0, out + err
    code, out, err = run(capsys, "destroy", str(root), "--auto-approve")
    assert code == 0, out + err
    assert _live_ids(moto, lineage) == set()

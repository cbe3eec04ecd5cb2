"""On AWS (moto's EC2 server on 127.0.0.1) through the CLI: a saved plan applied
to a fresh folder tags its instances with the lineage of the state it creates,
and an instance of this state whose lineage tag was emptied or changed is
reported as such (never missing), re-tagged by ``drift --repair`` and
terminated by ``destroy``."""

from __future__ import annotations

import json

import boto3
import pytest

from skyplan.cli import main
from skyplan.providers.base import TAG_LINEAGE
from skyplan.state import StateStore
from tests.providers.aws.helpers import AMI, CATALOG_M5, CONFIG_HEAD

CONFIG = CONFIG_HEAD + """
workload "web" {{
  kind = "service"
  run  = "python -m http.server"
  resources {{
    instance_type = "m5.large"
  }}
}}
"""

CATALOG = CATALOG_M5


def run(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


@pytest.fixture
def root(tmp_path, moto, monkeypatch):
    root = tmp_path / "cfg"
    root.mkdir()
    (root / "main.sky.hcl").write_text(CONFIG.format(url=moto.url, ami=AMI))
    (root / "catalog.csv").write_text(CATALOG)
    monkeypatch.chdir(root)
    return root


def state(root):
    with StateStore.open(root / ".skyplan" / "state.db", create=False) as store:
        return store.lineage, store.get("workload.web")


def tags_of(ec2, iid: str) -> dict:
    [r] = ec2.describe_instances(InstanceIds=[iid])["Reservations"]
    return {t["Key"]: t["Value"] for t in r["Instances"][0].get("Tags", ())}, r["Instances"][0]["State"]["Name"]


@pytest.mark.slow
def test_saved_plan_in_fresh_folder_then_emptied_lineage_tag(root, moto, capsys):
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto.url)
    code, out, err = run(capsys, "plan", "-out", "p.skyplan")
    assert code == 0, out + err
    code, out, err = run(capsys, "apply", "p.skyplan")
    assert code == 0, out + err
    lineage, rec = state(root)
    [inst] = rec.instances
    assert lineage and tags_of(ec2, inst.id)[0][TAG_LINEAGE] == lineage
    code, out, err = run(capsys, "drift")
    assert code == 0, out + err

    ec2.create_tags(Resources=[inst.id], Tags=[{"Key": TAG_LINEAGE, "Value": ""}])
    code, out, err = run(capsys, "status", "--json")
    assert [r["state"] for r in json.loads(out)["resources"]] == ["running"], out
    code, out, err = run(capsys, "drift", "--json")
    assert code == 2, out + err
    [item] = json.loads(out)["items"]
    assert item["category"] == "changed" and "lineage" in item["paths"] and item["provider_ids"] == [inst.id]

    code, out, err = run(capsys, "drift", "--repair", "--auto-approve")
    assert code == 0, out + err
    assert tags_of(ec2, inst.id)[0][TAG_LINEAGE] == lineage
    assert state(root)[1].instances[0].id == inst.id  # re-tagged, not launched again

    ec2.create_tags(Resources=[inst.id], Tags=[{"Key": TAG_LINEAGE, "Value": "another-state"}])
    code, out, err = run(capsys, "destroy", "--auto-approve")
    assert code == 0, out + err
    assert tags_of(ec2, inst.id)[1] in ("shutting-down", "terminated")

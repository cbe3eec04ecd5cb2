"""End to end through the CLI against the Compute Engine emulator.

apply -> instances of the planned type, zone, spot setting and labels -> a
re-plan is a no-op -> one deleted behind skyplan's back -> ``drift`` exit 2 ->
``drift --repair`` -> ``drift`` exit 0 -> destroy leaves nothing. A capacity
error in the first zone fails over to the next; a quota error blocks the
region; a preempted spot VM is re-placed in another zone; import, logs and
status read instances; without credentials nothing is created.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from skyplan.cli import main
from skyplan.state import StateStore
from tests.providers.gcp.helpers import PROJECT

CONFIG = """
skyplan {{
  catalog = "catalog.csv"
}}

provider "gcp" {{
  project        = "{project}"
  regions        = ["us-central1", "us-east1"]
  endpoint       = "{url}"
  poll_interval  = 0.01
  launch_timeout = 20
  retry_timeout  = 0.5
  labels         = {{ team = "ml" }}
}}
"""

TRAIN = """
workload "train" {
  kind      = "job"
  num_nodes = 2
  pricing   = ["spot"]
  run       = "python train.py"
  resources {
    accelerators = "T4:1"
  }
}
"""

WEB = """
workload "web" {
  kind = "service"
  run  = "python -m http.server 8000"
  resources {
    instance_type = "e2-standard-4"
  }
}
"""

CACHE = """
workload "cache" {
  kind    = "service"
  pricing = ["spot"]
  run     = "redis-server"
  resources {
    instance_type = "e2-standard-4"
  }
}
"""

CATALOG = """InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone,Cloud
n1-standard-8,T4,1,8,30,0.80,0.30,us-central1,us-central1-a,gcp
n1-standard-8,T4,1,8,30,0.80,0.31,us-central1,us-central1-b,gcp
n1-standard-8,T4,1,8,30,0.81,0.32,us-east1,us-east1-b,gcp
e2-standard-4,,,4,16,0.134,0.040,us-central1,us-central1-a,gcp
e2-standard-4,,,4,16,0.135,0.041,us-central1,us-central1-b,gcp
e2-standard-4,,,4,16,0.136,0.042,us-east1,us-east1-b,gcp
"""


def run(capsys, *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return exc.value.code, out + err


def record(root: Path, address: str):
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        return store.get(address), store.lineage


def write(tmp_path: Path, gce, *blocks: str) -> Path:
    root = tmp_path / "cfg"
    root.mkdir(exist_ok=True)
    (root / "main.sky.hcl").write_text(CONFIG.format(project=PROJECT, url=gce.url) + "".join(blocks))
    (root / "catalog.csv").write_text(CATALOG)
    return root


def sdk(gce):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import compute_v1

    return compute_v1.InstancesClient(credentials=AnonymousCredentials(), transport="rest",
                                      client_options={"api_endpoint": gce.url})


def by_address(gce) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for raw in gce.all_instances(PROJECT):
        out.setdefault(raw["labels"]["skyplan-address"], []).append(raw)
    return out


@pytest.mark.slow
def test_apply_replan_drift_repair_destroy(tmp_path, gce, capsys):
    root = write(tmp_path, gce, TRAIN, WEB)
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    live = by_address(gce)
    train, web = live["workload_2etrain"], live["workload_2eweb"]
    assert len(train) == 2 and len(web) == 1
    assert {r["machineType"].rsplit("/", 1)[1] for r in train} == {"n1-standard-8"}
    assert {r["zone"].rsplit("/", 1)[1] for r in train} == {"us-central1-a"}
    assert all(r["scheduling"]["provisioningModel"] == "SPOT" for r in train)
    assert all(r["scheduling"]["instanceTerminationAction"] == "DELETE" for r in train)
    assert train[0]["guestAccelerators"][0]["acceleratorCount"] == 1
    assert web[0]["machineType"].endswith("/e2-standard-4") and web[0]["scheduling"]["provisioningModel"] == "STANDARD"
    rec, lineage = record(root, "workload.web")
    assert all(r["labels"]["skyplan-lineage"] == lineage and r["labels"]["team"] == "ml" for r in train + web)
    assert {r["labels"]["skyplan-group"] for r in train} == {"0"}

    code, out = run(capsys, "plan", str(root), "--detailed-exitcode")
    assert code == 0, out

    name = web[0]["name"]
    sdk(gce).delete_unary(project=PROJECT, zone="us-central1-a", instance=name)
    code, out = run(capsys, "drift", str(root), "--json")
    assert code == 2, out
    items = {(i["address"], i["category"]) for i in json.loads(out)["items"]}
    assert items == {("workload.web", "missing")}

    code, out = run(capsys, "drift", str(root), "--repair", "--auto-approve", "--json")
    assert code == 0, out
    assert len(by_address(gce)["workload_2eweb"]) == 1
    code, out = run(capsys, "drift", str(root))
    assert code == 0, out

    code, out = run(capsys, "status", str(root))
    assert code == 0 and "gcp/us-central1/us-central1-a" in out, out

    code, out = run(capsys, "destroy", str(root), "--auto-approve")
    assert code == 0, out
    assert gce.all_instances() == []


@pytest.mark.slow
def test_capacity_error_in_the_first_zone_fails_over_to_the_next(tmp_path, gce, capsys):
    root = write(tmp_path, gce, WEB)
    gce.inject("ZONE_RESOURCE_POOL_EXHAUSTED", method="instances.insert", zone="us-central1-a")
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    rec, _ = record(root, "workload.web")
    assert rec.groups[0].placement.zone == "us-central1-b"
    assert [r["zone"].rsplit("/", 1)[1] for r in gce.all_instances()] == ["us-central1-b"]
    assert [c["zone"] for c in gce.calls("instances.insert")] == ["us-central1-a", "us-central1-b"]


@pytest.mark.slow
def test_a_quota_error_blocks_the_whole_region(tmp_path, gce, capsys):
    root = write(tmp_path, gce, WEB)
    gce.inject("QUOTA_EXCEEDED", method="instances.insert", region="us-central1", times=10,
               message="Quota 'CPUS' exceeded.  Limit: 0.0 in region us-central1.")
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    rec, _ = record(root, "workload.web")
    assert rec.groups[0].placement.zone == "us-east1-b"
    assert [c["zone"] for c in gce.calls("instances.insert")] == ["us-central1-a", "us-east1-b"]


@pytest.mark.slow
def test_a_preempted_spot_service_is_replaced_in_another_zone(tmp_path, gce, capsys):
    root = write(tmp_path, gce, CACHE)
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    rec, _ = record(root, "workload.cache")
    lost = rec.instances[0]
    assert lost.pricing == "spot" and lost.zone == "us-central1-a"
    gce.preempt(PROJECT, lost.zone, lost.attributes["name"])

    code, out = run(capsys, "drift", str(root), "--json")
    assert code == 2, out
    (item,) = json.loads(out)["items"]
    assert item["category"] == "changed" and item["after"]["state"] == "preempted"

    code, out = run(capsys, "drift", str(root), "--repair", "--auto-approve", "--json")
    assert code == 0, out
    after, _ = record(root, "workload.cache")
    assert after.instances[0].zone != lost.zone and after.instances[0].pricing == "spot"
    assert [r["name"] for r in gce.all_instances()] == [after.instances[0].attributes["name"]]
    code, out = run(capsys, "drift", str(root))
    assert code == 0, out


@pytest.mark.slow
def test_import_logs_and_refresh_only(tmp_path, gce, capsys):
    root = write(tmp_path, gce, WEB)
    from google.cloud import compute_v1

    body = {"name": "hand-made", "machineType": "zones/us-central1-b/machineTypes/e2-standard-4",
            "disks": [{"boot": True, "initializeParams": {"sourceImage": "family/debian-12"}}],
            "labels": {"owner": "alice"}}
    sdk(gce).insert_unary(project=PROJECT, zone="us-central1-b",
                          instance_resource=compute_v1.Instance.from_json(json.dumps(body)))
    code, out = run(capsys, "import", "workload.web", f"gcp:{PROJECT}/us-central1-b/hand-made", str(root))
    assert code == 0, out
    rec, lineage = record(root, "workload.web")
    assert rec.instances[0].id == f"{PROJECT}/us-central1-b/hand-made" and rec.placement.zone == "us-central1-b"
    (raw,) = gce.all_instances()
    assert raw["labels"]["skyplan-address"] == "workload_2eweb" and raw["labels"]["owner"] == "alice"
    assert raw["labels"]["skyplan-lineage"] == lineage

    gce.console(PROJECT, "us-central1-b", "hand-made", "skyplan: exit_code=0\n")
    code, out = run(capsys, "logs", "workload.web", str(root))
    assert code == 0 and "skyplan: exit_code=0" in out, out

    sdk(gce).stop_unary(project=PROJECT, zone="us-central1-b", instance="hand-made")
    code, out = run(capsys, "apply", str(root), "--refresh-only", "--auto-approve")
    assert code == 0, out
    after, _ = record(root, "workload.web")
    assert after.instances[0].state == "stopped"


def test_without_credentials_apply_names_what_to_set_and_creates_nothing(tmp_path, gce):
    root = tmp_path / "cfg"
    root.mkdir()
    (root / "main.sky.hcl").write_text(
        'skyplan {\n  catalog = "catalog.csv"\n}\nprovider "gcp" {\n  project = "p"\n  regions = ["us-central1"]\n}\n'
        + WEB)
    (root / "catalog.csv").write_text(CATALOG)
    from tests.apply.clirun import env, skyplan_argv

    e = {**env(), "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"), "NO_GCE_CHECK": "true"}
    e.pop("GOOGLE_APPLICATION_CREDENTIALS", None)
    r = subprocess.run(skyplan_argv() + ["apply", str(root), "--auto-approve"], capture_output=True, text=True,
                       timeout=120, env=e, stdin=subprocess.DEVNULL)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "credentials_file" in r.stderr and "GOOGLE_APPLICATION_CREDENTIALS" in r.stderr
    assert "Traceback" not in r.stderr and gce.all_instances() == []


@pytest.mark.slow
def test_the_inference_service_example_applies_against_an_endpoint(tmp_path, gce, capsys):
    """An example written for the public API applies against a local endpoint
    given as variables, and is destroyed again."""
    import shutil

    root = tmp_path / "inference-service"
    shutil.copytree(Path(__file__).resolve().parents[3] / "examples" / "inference-service", root)
    argv = ["-var", f"gcp_endpoint={gce.url}", "-var", f"gcp_project={PROJECT}"]
    code, out = run(capsys, "apply", str(root), "--auto-approve", *argv)
    assert code == 0, out
    rec, _ = record(root, "workload.api")
    on_gcp = [i for i in rec.instances if i.provider == "gcp"]
    assert on_gcp and sorted(i.id for i in on_gcp) == sorted(
        f"{PROJECT}/{r['zone'].rsplit('/', 1)[1]}/{r['name']}" for r in gce.all_instances())
    assert len({i.region for i in on_gcp}) == len(on_gcp)  # spread = "region"
    code, out = run(capsys, "destroy", str(root), "--auto-approve", "-refresh=false", *argv)
    assert code == 0, out
    assert gce.all_instances() == []


@pytest.mark.slow
def test_a_label_edit_and_a_stop_behind_skyplans_back_are_put_back(tmp_path, gce, capsys):
    from google.cloud import compute_v1

    root = write(tmp_path, gce, WEB)
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    (raw,) = gce.all_instances()
    client = sdk(gce)
    client.set_labels_unary(project=PROJECT, zone="us-central1-a", instance=raw["name"],
                            instances_set_labels_request_resource=compute_v1.InstancesSetLabelsRequest(
                                labels={**raw["labels"], "owner": "console-user"},
                                label_fingerprint=raw["labelFingerprint"]))
    client.stop_unary(project=PROJECT, zone="us-central1-a", instance=raw["name"])

    code, out = run(capsys, "drift", str(root), "--json")
    assert code == 2, out
    (item,) = json.loads(out)["items"]
    assert item["category"] == "changed" and item["paths"] == ["state", "tags.owner"]

    code, out = run(capsys, "drift", str(root), "--repair", "--auto-approve", "--json")
    assert code == 0, out
    (after,) = gce.all_instances()
    assert after["name"] == raw["name"] and after["status"] == "RUNNING" and "owner" not in after["labels"]
    code, out = run(capsys, "drift", str(root))
    assert code == 0, out


def test_an_unreachable_endpoint_is_exit_1_and_nothing_missing(tmp_path, gce, capsys):
    root = write(tmp_path, gce, WEB)
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    cfg = (root / "main.sky.hcl").read_text()
    (root / "main.sky.hcl").write_text(cfg.replace(gce.url, "http://127.0.0.1:9"))
    code, out = run(capsys, "drift", str(root), "--json")
    assert code == 1 and "cannot refresh: provider gcp unreachable" in out, out
    assert "missing" not in out.split("cannot refresh")[0]
    assert len(gce.all_instances()) == 1

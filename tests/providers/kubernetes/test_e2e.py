"""End to end through the CLI against the Kubernetes API emulator: apply turns a
multi-node GPU job into an Indexed Job (and a service into a Deployment) with
skyplan's labels, destroy leaves nothing; when the cluster cannot schedule the
pods, apply fails over to a cloud offer (moto's EC2)."""

from __future__ import annotations

import pytest

from skyplan.cli import main
from skyplan.state import StateStore
from tests.providers.aws.helpers import AMI

CONFIG = """
provider "kubernetes" {{
  kubeconfig            = "{kubeconfig}"
  namespace             = "default"
  poll_interval         = 0.05
  unschedulable_timeout = 1
}}

workload "train" {{
  kind      = "job"
  num_nodes = 2
  image     = "pytorch/pytorch:2.4.0-cuda12.1-cudnn9-runtime"
  run       = "torchrun --nnodes=$SKYPLAN_NUM_NODES train.py"
  resources {{
    accelerators = "H100:8"
  }}
}}

workload "api" {{
  kind  = "service"
  image = "ghcr.io/example/api:1"
  ports = [8000]
  run   = "python -m http.server 8000"
  resources {{
    cpus = "2+"
  }}
}}
"""

FAILOVER = """
skyplan {{
  catalog = "catalog.csv"
}}

provider "kubernetes" {{
  kubeconfig            = "{kubeconfig}"
  poll_interval         = 0.05
  unschedulable_timeout = 1
}}

provider "aws" {{
  regions       = ["us-east-1"]
  endpoint_url  = "{url}"
  image_id      = "{ami}"
  poll_interval = 0.05
}}

workload "train" {{
  kind = "job"
  run  = "python train.py"
  resources {{
    accelerators = "T4:1"
  }}
}}
"""

CATALOG = """InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone,Cloud
g4dn.xlarge,T4,1,4,16,0.526,,us-east-1,us-east-1a,aws
"""


def run(capsys, *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return exc.value.code, out + err


@pytest.mark.slow
def test_apply_creates_labelled_job_and_deployment_and_destroy_removes_them(tmp_path, k8s, capsys):
    root = tmp_path / "cfg"
    root.mkdir()
    kubeconfig = k8s.kubeconfig(tmp_path / "kubeconfig")
    (root / "main.sky.hcl").write_text(CONFIG.format(kubeconfig=kubeconfig))
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        lineage = store.lineage
    (job,) = k8s.list("jobs")
    assert job["metadata"]["labels"]["skyplan.dev/lineage"] == lineage
    assert job["metadata"]["annotations"]["skyplan.dev/address"] == "workload.train"
    assert job["spec"]["completions"] == 2 and job["spec"]["completionMode"] == "Indexed"
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["image"].startswith("pytorch/") and container["resources"]["limits"]["nvidia.com/gpu"] == "8"
    (dep,) = k8s.list("deployments")
    assert dep["metadata"]["annotations"]["skyplan.dev/address"] == "workload.api"
    assert {s["spec"].get("clusterIP") == "None" for s in k8s.list("services")} == {True, False}

    code, out = run(capsys, "plan", str(root), "--detailed-exitcode")  # refresh finds exactly what was made
    assert code == 0, out

    code, out = run(capsys, "destroy", str(root), "--auto-approve")
    assert code == 0, out
    assert k8s.list("jobs") == [] and k8s.list("deployments") == [] and k8s.list("services") == []
    assert k8s.list("pods") == []


@pytest.mark.slow
def test_unschedulable_cluster_fails_over_to_the_cloud(tmp_path, k8s, moto, capsys):
    root = tmp_path / "cfg"
    root.mkdir()
    kubeconfig = k8s.kubeconfig(tmp_path / "kubeconfig")
    (root / "main.sky.hcl").write_text(FAILOVER.format(kubeconfig=kubeconfig, url=moto.url, ami=AMI))
    (root / "catalog.csv").write_text(CATALOG)
    k8s.unschedulable = True
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        rec = store.get("workload.train")
    assert ("POST", "/apis/batch/v1/namespaces/default/jobs") in k8s.requests  # the cluster was tried first
    assert rec.groups[0].placement.provider == "aws"
    assert rec.instances[0].instance_type == "g4dn.xlarge"
    assert k8s.list("jobs") == [] and k8s.list("pods") == []


@pytest.mark.slow
def test_import_adopts_an_existing_deployment(tmp_path, k8s, capsys):
    from tests.providers.kubernetes.helpers import provider, request

    outside = provider(k8s, tmp_path).create(request("workload.legacy", kind="service", lineage="hand-made"))
    name = outside[0].attributes["name"]
    root = tmp_path / "cfg"
    root.mkdir()
    kubeconfig = k8s.kubeconfig(tmp_path / "kubeconfig")
    (root / "main.sky.hcl").write_text(CONFIG.format(kubeconfig=kubeconfig))
    code, out = run(capsys, "import", "workload.api", f"deployment/{name}", str(root))
    assert code == 0, out
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        lineage = store.lineage
        rec = store.get("workload.api")
    assert [i.id for i in rec.instances] == [f"default/deployment/{name}/0"]
    (dep,) = k8s.list("deployments")
    assert dep["metadata"]["labels"]["skyplan.dev/lineage"] == lineage
    assert dep["metadata"]["annotations"]["skyplan.dev/address"] == "workload.api"

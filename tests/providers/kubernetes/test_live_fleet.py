"""A Kubernetes fleet that declares no capacity is its cluster's nodes as they are:
each node's allocatable GPUs, CPUs and memory minus what other pods already
request there, packed per node. With mixed node sizes and a node partly taken,
the summed free GPUs would admit work that no single node can hold."""

from __future__ import annotations

import pytest

from tests.providers.k8s_emulator import KubeEmulator
from tests.providers.kubernetes.test_e2e import run

LABELS = {"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-40GB"}
NODES = [{"name": "big", "cpu": "64", "memory": "512Gi", "gpus": 8, "labels": LABELS},
         {"name": "small", "cpu": "16", "memory": "128Gi", "gpus": 2, "labels": LABELS}]

CONFIG = """
provider "kubernetes" {{
  kubeconfig            = "{kubeconfig}"
  namespace             = "default"
  poll_interval         = 0.05
  unschedulable_timeout = 1
}}

fleet "cluster" {{
  provider = "kubernetes"
  existing = true
}}
"""


def job(name: str, gpus: int) -> str:
    return f"""
workload "{name}" {{
  kind  = "job"
  image = "pytorch/pytorch:2.4.0-cuda12.1-cudnn9-runtime"
  run   = "python train.py"
  resources {{
    accelerators = "A100:{gpus}"
    cpus         = 4
    memory       = 16
  }}
  placement {{
    fleet = fleet.cluster
  }}
}}
"""


@pytest.fixture
def k8s():
    """A cluster of its own: one big and one small GPU node."""
    emu = KubeEmulator(nodes=NODES)
    yield emu
    emu.stop()


def cluster(k8s) -> None:
    with k8s.lock:  # someone else's pod holds half of the big node
        k8s.put("pods", "research", {
            "metadata": {"name": "someone-elses-run", "namespace": "research", "labels": {}},
            "spec": {"nodeName": "big", "containers": [{"name": "main", "image": "x", "resources": {
                "requests": {"cpu": "8", "memory": "64Gi"}, "limits": {"nvidia.com/gpu": "4"}}}]},
            "status": {"phase": "Running"}}, "ADDED")


def write(root, k8s, tmp_path, *jobs: str) -> None:
    root.mkdir(exist_ok=True)
    path = k8s.kubeconfig(tmp_path / "kubeconfig")
    (root / "main.sky.hcl").write_text(CONFIG.format(kubeconfig=path) + "".join(jobs))


def test_two_jobs_that_fit_only_summed_are_refused_naming_the_fleet(tmp_path, k8s, capsys):
    cluster(k8s)
    root = tmp_path / "cfg"
    write(root, k8s, tmp_path, job("a", 3), job("b", 3))  # 6 GPUs free in all, but 4 + 2 per node
    code, out = run(capsys, "plan", str(root))
    assert code == 1, out
    assert "fleet fleet.cluster node big A100 allows 4 A100" in out and "Traceback" not in out, out


def test_jobs_that_fit_node_by_node_are_planned_and_run(tmp_path, k8s, capsys):
    cluster(k8s)
    root = tmp_path / "cfg"
    write(root, k8s, tmp_path, job("a", 3), job("b", 2))  # 3 on the big node, 2 on the small one
    code, out = run(capsys, "plan", str(root))
    assert code == 0, out
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    with k8s.lock:
        placed = {o["metadata"]["labels"].get("skyplan.dev/address"): o["spec"].get("nodeName")
                  for (p, _, _), o in k8s.objects.items() if p == "pods"
                  and (o["metadata"].get("labels") or {}).get("skyplan.dev/address")}
    assert placed == {"workload.a": "big", "workload.b": "small"}, placed
    with k8s.lock:  # pinned there: the scheduler cannot put them elsewhere than the plan packed them
        pins = {o["metadata"]["labels"]["skyplan.dev/address"]: [t.get("matchFields") for t in
                o["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
                    "nodeSelectorTerms"]]
                for (p, _, _), o in k8s.objects.items() if p == "pods"
                and (o["metadata"].get("labels") or {}).get("skyplan.dev/address")}
    assert {a: v[0][0]["values"] for a, v in pins.items()} == {"workload.a": ["big"], "workload.b": ["small"]}
    code, out = run(capsys, "plan", str(root), "--detailed-exitcode")  # its own pods keep their room
    assert code == 0, out


def test_without_refresh_the_nodes_are_not_read_and_the_plan_says_so(tmp_path, k8s, capsys):
    root = tmp_path / "cfg"
    write(root, k8s, tmp_path, job("a", 1))
    code, out = run(capsys, "plan", str(root), "-refresh=false")
    assert code == 1, out
    assert "fleet.cluster is its cluster's nodes, read at refresh" in out and "Traceback" not in out, out


def without_fleet(job_text: str) -> str:
    return job_text.replace("  placement {\n    fleet = fleet.cluster\n  }\n", "")


def test_without_a_fleet_block_the_nodes_are_offered_as_free_as_they_are(tmp_path, k8s, capsys):
    cluster(k8s)
    root = tmp_path / "cfg"
    root.mkdir()
    path = k8s.kubeconfig(tmp_path / "kubeconfig")
    provider_only = CONFIG.split("fleet ")[0]
    # 4 of the big node's 8 GPUs are someone else's: 3 + 3 cannot both go there
    (root / "main.sky.hcl").write_text(provider_only.format(kubeconfig=path)
                                       + without_fleet(job("a", 3)) + without_fleet(job("b", 3)))
    code, out = run(capsys, "plan", str(root))
    assert code == 1, out
    assert "kubernetes/big A100 allows 4 A100 but at least 6 are needed" in out and "Traceback" not in out, out
    (root / "main.sky.hcl").write_text(provider_only.format(kubeconfig=path)
                                       + without_fleet(job("a", 3)) + without_fleet(job("b", 2)))
    code, out = run(capsys, "plan", str(root))
    assert code == 0, out

"""Spot replicas on Kubernetes, on the API emulator through the CLI: nodes labelled
as spot capacity (Karpenter's ``karpenter.sh/capacity-type=spot``) are offered as
spot at the provider's ``spot_price``; a service with an on-demand base puts its
base replica on an on-demand node and the rest on spot nodes (node affinity keeps
each pod on its capacity); when the spot nodes are taken back, refresh reports the
replicas preempted and repair brings them back on on-demand, the base replica
untouched."""

from __future__ import annotations

import json

import pytest

from skyplan.state import StateStore
from tests.providers.kubernetes.helpers import applied, run
from tests.providers.k8s_emulator import KubeEmulator

SPOT = {"karpenter.sh/capacity-type": "spot"}
NODES = [{"name": "od-1", "cpu": "8", "memory": "32Gi"}, {"name": "od-2", "cpu": "8", "memory": "32Gi"},
         {"name": "spot-1", "cpu": "8", "memory": "32Gi", "labels": SPOT},
         {"name": "spot-2", "cpu": "8", "memory": "32Gi", "labels": SPOT}]

CONFIG = """
provider "kubernetes" {{
  kubeconfig = "{kubeconfig}"
  price      = 0.40
  spot_price = 0.12
}}

workload "api" {{
  kind     = "service"
  replicas = 3
  ports    = [8000]
  pricing  = ["spot", "on_demand"]
  run      = "python -m http.server 8000"
  resources {{
    cpus   = "2+"
    memory = "4+"
  }}
  spot {{
    base_on_demand_replicas = 1
    fallback_on_demand      = true
  }}
}}
"""


@pytest.fixture
def k8s():
    emu = KubeEmulator(nodes=NODES)
    yield emu
    emu.stop()



def record(root):
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        return store.get("workload.api")


def pods_by_deployment(k8s) -> dict[str, str]:
    """Deployment name -> the node its pod runs on."""
    return {p["metadata"]["labels"]["skyplan.dev/name"]: p["spec"].get("nodeName")
            for p in k8s.list("pods") if p["status"].get("phase") == "Running"}


@pytest.mark.slow
def test_spot_base_on_spot_nodes_and_preempted_replicas_come_back_on_demand(tmp_path, k8s, capsys):
    root = applied(tmp_path, k8s, capsys, CONFIG)
    rec = record(root)
    assert sorted(i.pricing for i in rec.instances) == ["on_demand", "spot", "spot"]
    where = pods_by_deployment(k8s)
    for i in rec.instances:  # each pod runs on the capacity its pricing names
        assert where[i.attributes["name"]].startswith("spot-" if i.pricing == "spot" else "od-"), where
    base = next(i for i in rec.instances if i.pricing == "on_demand")
    assert rec.hourly_cost == pytest.approx(0.40 + 2 * 0.12)

    for node in ("spot-1", "spot-2"):  # the cloud takes the spot capacity back
        k8s.remove_node(node)

    code, out, err = run(capsys, "drift", str(root), "--json")
    assert code == 2, out + err
    items = json.loads(out)["items"]
    assert any(i["address"] == "workload.api" and "preempted" in json.dumps(i) for i in items), items

    code, out, err = run(capsys, "drift", str(root), "--repair", "--auto-approve")
    assert code == 0, out + err
    after = record(root)
    assert sorted(i.pricing for i in after.instances) == ["on_demand", "on_demand", "on_demand"]
    assert base.id in {i.id for i in after.instances}  # the base replica was not touched
    where = pods_by_deployment(k8s)
    assert all(where.get(i.attributes["name"], "").startswith("od-") for i in after.instances), where

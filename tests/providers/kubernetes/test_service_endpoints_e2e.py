"""A service on the Kubernetes API emulator through the CLI: its endpoints are read from
the Service objects the provider made (one per replica group, each its DNS name and the
first port), shown by ``output`` and ``status``, and one more Service selects every pod
of the address under a stable name."""

from __future__ import annotations

import json

import pytest

from skyplan.state import StateStore
from tests.providers.kubernetes.helpers import applied, run

CONFIG = """
provider "kubernetes" {{
  kubeconfig = "{kubeconfig}"
}}

workload "api" {{
  kind     = "service"
  replicas = 2
  ports    = [8000, 9000]
  run      = "python -m http.server 8000"
  resources {{
    cpus   = "1+"
    memory = "1+"
  }}
}}

output "endpoints" {{
  value = workload.api.endpoints
}}
"""



@pytest.mark.slow
def test_endpoints_are_the_service_objects_of_the_replica_groups(tmp_path, k8s, capsys):
    root = applied(tmp_path, k8s, capsys, CONFIG)
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        rec = store.get("workload.api")
    groups = {i.attributes["name"] for i in rec.instances}
    services = {s["metadata"]["name"]: s for s in k8s.list("services")}
    assert groups <= set(services) and len(groups) == 2
    want = sorted(f"{name}.{services[name]['metadata']['namespace']}.svc:8000" for name in groups)

    code, out, err = run(capsys, "output", str(root), "--json")
    assert code == 0, out + err
    got = json.loads(out)["endpoints"]
    assert sorted(got.get("value", got) if isinstance(got, dict) else got) == want

    (stable,) = [s for n, s in services.items() if n not in groups]
    assert stable["spec"]["selector"]["skyplan.dev/address"] == "workload.api"
    assert {i.attributes["service"] for i in rec.instances} == {
        f"{stable['metadata']['name']}.{stable['metadata']['namespace']}.svc"}

    code, out, err = run(capsys, "status", str(root))
    assert code == 0, out + err
    assert all(e in out for e in want), out

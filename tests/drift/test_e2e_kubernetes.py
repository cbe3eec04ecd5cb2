"""End to end on Kubernetes (the API emulator on 127.0.0.1) through the CLI:
delete a Job behind skyplan's back -> `drift` exit 2 with it missing;
`drift --repair --auto-approve` creates it again; the next `drift` exits 0."""

from __future__ import annotations

import json

import pytest

from skyplan.cli import main
from skyplan.state import StateStore

CONFIG = """
provider "kubernetes" {{
  kubeconfig = "{kubeconfig}"
}}

workload "train" {{
  kind = "job"
  run  = "python train.py"
  resources {{
    cpus   = "1+"
    memory = "1+"
  }}
}}
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


@pytest.mark.slow
def test_deleted_job_is_missing_then_recreated(tmp_path, k8s, capsys):
    from kubernetes import client, config

    kubeconfig = k8s.kubeconfig(tmp_path / "kubeconfig")
    root = tmp_path / "cfg"
    root.mkdir()
    (root / "main.sky.hcl").write_text(CONFIG.format(kubeconfig=kubeconfig))
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out + err
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        (node,) = store.get("workload.train").instances

    api = config.new_client_from_config(config_file=str(kubeconfig))
    client.BatchV1Api(api).delete_namespaced_job(node.attributes["name"], "default", propagation_policy="Foreground")

    code, out, err = run(capsys, "drift", str(root), "--json")
    assert code == 2, out + err
    (item,) = json.loads(out)["items"]
    assert (item["address"], item["category"], item["provider_ids"]) == ("workload.train", "missing", [node.id])

    code, out, err = run(capsys, "drift", str(root), "--repair", "--auto-approve")
    assert code == 0, out + err
    assert len([j for j in k8s.list("jobs")]) == 1

    code, out, err = run(capsys, "drift", str(root))
    assert code == 0, out + err

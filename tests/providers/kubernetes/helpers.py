"""Builders shared by the Kubernetes provider tests."""

from __future__ import annotations

import pytest

from skyplan.config.model import ProviderConfig
from skyplan.providers.base import LaunchRequest
from skyplan.providers.kubernetes import KubernetesProvider
from skyplan.solver.model import Placement


def provider(k8s, tmp_path, **settings) -> KubernetesProvider:
    path = k8s.kubeconfig(tmp_path / "kubeconfig")
    cfg = ProviderConfig(kind="kubernetes", settings={"kubeconfig": path, "poll_interval": 0.02,
                                                      "unschedulable_timeout": 1, "launch_timeout": 10, **settings})
    return KubernetesProvider(cfg)


def request(address="workload.train", *, nodes=1, kind="job", group=0, lineage="lin-1",
            accelerators=None, itype="gpu-a", **kw) -> LaunchRequest:
    placement = Placement(provider="kubernetes", region="emulator", zone=None, instance_type=itype,
                          pricing="on_demand", hourly_price=0.0, nodes=nodes)
    return LaunchRequest(address=address, lineage=lineage, group=group, placement=placement, kind=kind,
                         setup="pip install -r requirements.txt", run="python train.py", env={"EPOCHS": "3"},
                         accelerators=accelerators, cpus=kw.pop("cpus", 2), memory_gib=kw.pop("memory_gib", 4), **kw)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """The CLI in this process: (exit code, stdout, stderr)."""
    from skyplan.cli import main

    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def applied(tmp_path, k8s, capsys, config: str):
    """A config folder for ``config`` (formatted with the emulator's kubeconfig), applied."""
    root = tmp_path / "cfg"
    root.mkdir()
    (root / "main.sky.hcl").write_text(config.format(kubeconfig=k8s.kubeconfig(tmp_path / "kubeconfig")))
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out + err
    return root

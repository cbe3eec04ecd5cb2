"""Small builders shared by the GCP provider tests."""

from __future__ import annotations

from skyplan.config.model import ProviderConfig
from skyplan.providers.base import LaunchRequest
from skyplan.providers.gcp import GcpProvider
from skyplan.solver.model import Placement

PROJECT = "sky-test"


def provider(gce, regions=("us-central1",), **settings) -> GcpProvider:
    cfg = ProviderConfig(kind="gcp", regions=tuple(regions),
                         settings={"endpoint": gce.url, "project": PROJECT, "poll_interval": 0.01,
                                   "launch_timeout": 5, "retry_timeout": 0.5, **settings})
    return GcpProvider(cfg)


def request(address="workload.train", *, zone="us-central1-a", itype="n2-standard-4", nodes=1,
            pricing="on_demand", kind="job", group=0, lineage="lin-1", accelerators=None, token="t1",
            **kw) -> LaunchRequest:
    placement = Placement(provider="gcp", region=zone.rsplit("-", 1)[0], zone=zone, instance_type=itype,
                          pricing=pricing, hourly_price=0.2, nodes=nodes, accelerators=accelerators)
    fields = {"run": "python train.py", "setup": "pip install -r requirements.txt", "env": {"EPOCHS": "3"}, **kw}
    return LaunchRequest(address=address, lineage=lineage, group=group, placement=placement, kind=kind,
                         accelerators=accelerators, token=token, **fields)

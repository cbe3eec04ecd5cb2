"""Small builders shared by the Azure provider tests."""

from __future__ import annotations

from skyplan.config.model import ProviderConfig
from skyplan.providers.azure import AzureProvider
from skyplan.providers.base import LaunchRequest
from skyplan.solver.model import Placement


def provider(arm, regions=("eastus",), **settings) -> AzureProvider:
    cfg = ProviderConfig(kind="azure", regions=tuple(regions),
                         settings={"endpoint": arm.url, "subscription_id": arm.subscription, "poll_interval": 0,
                                   "max_retries": 1, **settings})
    return AzureProvider(cfg)


def request(address="workload.train", *, region="eastus", zone=None, size="Standard_D2s_v5", nodes=1,
            pricing="on_demand", kind="job", group=0, lineage="lin-1", token="tok", **kw) -> LaunchRequest:
    placement = Placement(provider="azure", region=region, zone=zone, instance_type=size, pricing=pricing,
                          hourly_price=0.1, nodes=nodes)
    fields = {"run": "python train.py", "setup": "pip install -r requirements.txt", "env": {"EPOCHS": "3"}, **kw}
    return LaunchRequest(address=address, lineage=lineage, group=group, placement=placement, kind=kind,
                         token=token, **fields)

"""Small builders shared by the AWS provider tests."""

from __future__ import annotations

from skyplan.config.model import ProviderConfig
from skyplan.providers.aws import AwsProvider
from skyplan.providers.base import LaunchRequest
from skyplan.solver.model import Placement

AMI = "ami-0123456789abcdef0"

# The head of a CLI test's configuration on moto (a str.format template: url, ami) and
# the one-offer catalog it names.
CONFIG_HEAD = """
skyplan {{
  catalog = "catalog.csv"
}}

provider "aws" {{
  regions        = ["us-east-1"]
  endpoint_url   = "{url}"
  image_id       = "{ami}"
  poll_interval  = 0.05
  launch_timeout = 30
}}
"""
# m5.large on spot in two zones of us-east-1, us-east-1a the cheaper
CATALOG_M5_SPOT = """InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone,Cloud
m5.large,,,2,8,0.096,0.030,us-east-1,us-east-1a,aws
m5.large,,,2,8,0.096,0.034,us-east-1,us-east-1b,aws
"""
CATALOG_M5 = """InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone,Cloud
m5.large,,,2,8,0.096,,us-east-1,us-east-1a,aws
"""


def provider(moto, regions=("us-east-1",), **settings) -> AwsProvider:
    cfg = ProviderConfig(kind="aws", regions=tuple(regions),
                         settings={"endpoint_url": moto.url, "image_id": AMI, "poll_interval": 0.05,
                                   "launch_timeout": 5, **settings})
    return AwsProvider(cfg)


def request(address="workload.train", *, region="us-east-1", zone="us-east-1a", itype="t3.micro",
            nodes=1, pricing="on_demand", kind="job", group=0, lineage="lin-1", **kw) -> LaunchRequest:
    placement = Placement(provider="aws", region=region, zone=zone, instance_type=itype,
                          pricing=pricing, hourly_price=0.01, nodes=nodes)
    fields = {"run": "python train.py", "setup": "pip install -r requirements.txt", "env": {"EPOCHS": "3"}, **kw}
    return LaunchRequest(address=address, lineage=lineage, group=group, placement=placement, kind=kind, **fields)


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    """Exit code and output (stdout then stderr) of one ``skyplan`` command."""
    import pytest

    from skyplan.cli import main

    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return exc.value.code, out + err

"""How many EC2 API calls one refresh makes, and how long it takes.

Launches N managed instances (default 1,000) spread over 4 regions in moto's
EC2 server on 127.0.0.1 (plus 200 unmanaged ones that must not be returned),
then times ``AwsProvider.list_managed(lineage)`` and counts the calls it makes
with a botocore ``before-call`` hook. Baseline, measured in the same run: one
``describe_instances`` per known instance id, the way a per-resource refresh
would ask (timed over a sample and reported per instance and extrapolated).

    python bench/refresh_calls.py [--instances 1000] [--baseline-sample 100]
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter

REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1")
AMI = "ami-0123456789abcdef0"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=1000)
    ap.add_argument("--baseline-sample", type=int, default=100)
    args = ap.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1",
                      AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    import boto3
    from moto.server import ThreadedMotoServer

    from skyplan.config.model import ProviderConfig
    from skyplan.providers.aws import AwsProvider
    from skyplan.providers.base import TAG_ADDRESS, TAG_GROUP, TAG_LINEAGE

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    lineage = "bench-lineage"
    t0 = time.perf_counter()
    per_region = [args.instances // len(REGIONS) + (i < args.instances % len(REGIONS)) for i in range(len(REGIONS))]
    for region, count in zip(REGIONS, per_region):
        ec2 = boto3.client("ec2", region_name=region, endpoint_url=url)
        made = 0
        while made < count:
            n = min(50, count - made)  # a group of n nodes, like one workload replica
            tags = [{"Key": TAG_ADDRESS, "Value": f"workload.w{made}"}, {"Key": TAG_LINEAGE, "Value": lineage},
                    {"Key": TAG_GROUP, "Value": "0"}]
            ec2.run_instances(ImageId=AMI, InstanceType="m5.large", MinCount=n, MaxCount=n,
                              TagSpecifications=[{"ResourceType": "instance", "Tags": tags}])
            made += n
        ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=50, MaxCount=50)  # unmanaged
    setup = time.perf_counter() - t0

    aws = AwsProvider(ProviderConfig(kind="aws", regions=REGIONS, settings={"endpoint_url": url}))
    calls: Counter = Counter()
    for region in REGIONS:
        aws.client(region).meta.events.register(
            "before-call.ec2.*", lambda model, _r=region, **kw: calls.update([(_r, model.name)]))
    aws.list_managed("warm-up")  # first-call costs (moto backend, client set-up) out of the timing
    calls.clear()
    t0 = time.perf_counter()
    found = aws.list_managed(lineage)
    refresh = time.perf_counter() - t0
    assert len(found) == args.instances, (len(found), args.instances)

    ids = [(i.region, i.id) for i in found]
    sample = ids[:: max(1, len(ids) // args.baseline_sample)][: args.baseline_sample]
    clients = {r: boto3.client("ec2", region_name=r, endpoint_url=url) for r in REGIONS}
    t0 = time.perf_counter()
    for region, iid in sample:
        clients[region].describe_instances(InstanceIds=[iid])
    per_call = (time.perf_counter() - t0) / len(sample)
    server.stop()

    total = sum(calls.values())
    print(f"instances managed            {args.instances} across {len(REGIONS)} regions "
          f"(+{50 * len(REGIONS)} unmanaged); setup {setup:.1f} s")
    for region in REGIONS:
        n = sum(v for (r, _), v in calls.items() if r == region)
        print(f"  {region:<16} {n} call(s): " + ", ".join(f"{op} x{v}" for (r, op), v in calls.items() if r == region))
    print(f"API calls per refresh        {total}  ({total / len(REGIONS):.2f} per region; target <= 2)")
    print(f"refresh wall time            {refresh:.2f} s  ({refresh / args.instances * 1000:.2f} ms per instance)")
    baseline = per_call * args.instances
    print(f"baseline: per-instance calls {args.instances} calls, {per_call * 1000:.1f} ms each "
          f"(sample of {len(sample)}) -> ~{baseline:.1f} s")
    print(f"ratio                        {args.instances / max(total, 1):.0f}x fewer calls, "
          f"{baseline / refresh:.1f}x faster than the per-instance baseline")


if __name__ == "__main__":
    main()

"""The AWS provider: EC2 instances through boto3.

It owns launching node groups with ``run_instances`` (spot or on-demand, one
zone, skyplan's tags), finding them again with one tag-filtered
``describe_instances`` per region, changing tags or stopping/starting them in
place, terminating them, and mapping EC2 failures onto skyplan's error tree
(capacity per zone, quota per region, transient, auth). boto3 is imported only
when a provider is actually used, never by ``import skyplan``.
"""

from skyplan.providers.aws.provider import AwsProvider

__all__ = ["AwsProvider"]

"""EC2 failures map onto skyplan's error tree (faults injected in front of moto)."""

from __future__ import annotations

import socket

import pytest

from skyplan.config.model import ProviderConfig
from skyplan.errors import AuthError, CapacityError, ProviderError, QuotaError, TransientError
from skyplan.providers.aws import AwsProvider
from tests.providers.aws.helpers import provider, request


def test_insufficient_capacity_is_a_zone_capacity_error_and_nothing_launched(moto):
    aws = provider(moto)
    moto.inject("InsufficientInstanceCapacity", action="RunInstances", instance_type="p4d.24xlarge")
    with pytest.raises(CapacityError) as err:
        aws.create(request(itype="p4d.24xlarge", nodes=2))
    assert err.value.scope == "zone" and "us-east-1a" in str(err.value)
    assert len(moto.calls("RunInstances")) == 1  # a 400 is not retried by botocore
    assert aws.list_managed("lin-1") == []


def test_fault_matches_instance_type_only(moto):
    aws = provider(moto)
    moto.inject("InsufficientInstanceCapacity", action="RunInstances", instance_type="p4d.24xlarge")
    assert len(aws.create(request(itype="m5.large"))) == 1


@pytest.mark.parametrize("code", ["Unsupported", "SpotMaxPriceTooLow"])
def test_other_capacity_codes(moto, code):
    moto.inject(code, action="RunInstances")
    with pytest.raises(CapacityError):
        provider(moto).create(request())


@pytest.mark.parametrize("code", ["VcpuLimitExceeded", "MaxSpotInstanceCountExceeded"])
def test_quota_codes_are_region_quota_errors(moto, code):
    moto.inject(code, action="RunInstances")
    with pytest.raises(QuotaError) as err:
        provider(moto).create(request())
    assert err.value.scope == "region"


def test_one_throttle_is_absorbed_by_botocore_retry(moto):
    moto.inject("RequestLimitExceeded", action="RunInstances", times=1)
    assert len(provider(moto).create(request())) == 1
    assert len(moto.calls("RunInstances")) == 2


def test_persistent_throttle_is_transient_after_two_attempts(moto):
    moto.inject("RequestLimitExceeded", action="RunInstances", times=5)
    with pytest.raises(TransientError):
        provider(moto).create(request())
    assert len(moto.calls("RunInstances")) == 2


def test_server_error_on_list_is_transient(moto):
    moto.inject("InternalError", action="DescribeInstances", status=500, times=2)
    with pytest.raises(TransientError):
        provider(moto).list_managed("lin-1")


def test_unknown_instance_type_is_a_plain_provider_error(moto):
    with pytest.raises(ProviderError) as err:
        provider(moto).create(request(itype="z9.mega"))
    assert not isinstance(err.value, (CapacityError, TransientError))
    assert "z9.mega" in str(err.value)


def test_auth_failure_names_the_profile_and_is_not_retried(moto, tmp_path, monkeypatch):
    cfg = tmp_path / "config"
    cfg.write_text("[profile research]\nregion = us-east-1\n"
                   "aws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = secret\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(cfg))
    moto.inject("AuthFailure", action="DescribeInstances", times=3)
    with pytest.raises(AuthError, match="'research'"):
        provider(moto, profile="research").list_managed("lin-1")
    assert len(moto.calls("DescribeInstances")) == 1


def test_missing_profile_is_an_auth_error():
    aws = AwsProvider(ProviderConfig(kind="aws", regions=("us-east-1",), settings={"profile": "nope"}))
    with pytest.raises(AuthError, match="'nope'") as err:
        aws.list_managed("lin-1")
    assert err.value.hint


def test_connection_refused_is_transient(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens
    aws = AwsProvider(ProviderConfig(kind="aws", regions=("us-east-1",),
                                     settings={"endpoint_url": f"http://127.0.0.1:{port}"}))
    with pytest.raises(TransientError, match="cannot reach EC2"):
        aws.list_managed("lin-1")


def test_launch_timeout_terminates_what_launched_and_raises_zone_capacity(moto):
    aws = provider(moto, launch_timeout=0.3)
    moto.inject(action="DescribeInstances", replace=["<name>running</name>", "<name>pending</name>"], times=1000)
    with pytest.raises(CapacityError, match="not running after") as err:
        aws.create(request(nodes=2))
    assert err.value.scope == "zone"
    assert len(moto.calls("TerminateInstances")) == 1
    moto.clear_faults()
    assert aws.list_managed("lin-1") == []


def test_missing_default_image_parameter_says_what_to_set(moto):
    aws = provider(moto, image_id=None)
    with pytest.raises(ProviderError, match="no AMI found") as err:
        aws.create(request())
    assert "image_id" in err.value.hint


def test_unreachable_proxy_is_transient(monkeypatch):
    """A proxy that refuses connections is as unreachable as the endpoint itself."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once the block ends
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    aws = AwsProvider(ProviderConfig(kind="aws", regions=("us-east-1",),
                                     settings={"endpoint_url": "http://127.0.0.1:1"}))
    with pytest.raises(TransientError, match="cannot reach EC2"):
        aws.list_managed("lin-1")


def test_throttled_reads_while_waiting_for_nodes_do_not_abandon_the_launch(moto):
    """DescribeInstances is throttled often on busy accounts: the nodes launched
    are waited for until the launch timeout, not terminated on the first
    throttled read and launched again."""
    moto.inject("RequestLimitExceeded", action="DescribeInstances", times=2)  # both botocore attempts
    (inst,) = provider(moto).create(request())
    assert inst.state == "running"
    assert len(moto.calls("RunInstances")) == 1
    assert not moto.calls("TerminateInstances")

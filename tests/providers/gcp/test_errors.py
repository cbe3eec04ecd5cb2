"""Compute Engine failures, injected on the wire, become skyplan's error types,
and a failed launch leaves nothing behind."""

from __future__ import annotations

import pytest

from skyplan.errors import AuthError, CapacityError, ProviderError, QuotaError, TransientError
from tests.providers.gcp.helpers import provider, request

CAPACITY = ["ZONE_RESOURCE_POOL_EXHAUSTED", "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS", "UNSUPPORTED_OPERATION"]


@pytest.mark.parametrize("code", CAPACITY)
def test_operation_capacity_errors_block_the_zone_and_clean_up(gce, code):
    gcp = provider(gce)
    gce.inject(code, method="instances.insert", zone="us-central1-a", times=1)
    with pytest.raises(CapacityError) as err:
        gcp.create(request(nodes=3))
    assert err.value.scope == "zone" and code in str(err.value)
    assert gce.all_instances() == []


def test_a_region_out_of_resources_blocks_the_region(gce):
    gce.inject("REGION_RESOURCE_POOL_EXHAUSTED", method="instances.insert")
    with pytest.raises(CapacityError) as err:
        provider(gce).create(request())
    assert err.value.scope == "region"


def test_a_machine_type_missing_in_the_zone_is_no_capacity_there(gce):
    gce.inject("resourceNotFound", status=404, method="instances.insert", machine_type="a3-highgpu-8g")
    with pytest.raises(CapacityError) as err:
        provider(gce).create(request(itype="a3-highgpu-8g"))
    assert err.value.scope == "zone" and "machineTypes/a3-highgpu-8g" in str(err.value)


def test_regional_quota_blocks_the_region_and_global_gpu_quota_the_provider(gce):
    gcp = provider(gce)
    gce.inject("QUOTA_EXCEEDED", method="instances.insert")
    with pytest.raises(QuotaError) as err:
        gcp.create(request(itype="n1-standard-8", accelerators="T4:1"))
    assert err.value.scope == "region" and "NVIDIA_T4_GPUS" in str(err.value) and err.value.hint
    gce.inject("QUOTA_EXCEEDED", method="instances.insert",
               message="Quota 'GPUS_ALL_REGIONS' exceeded.  Limit: 0.0 globally.")
    with pytest.raises(QuotaError) as err:
        gcp.create(request(itype="n1-standard-8", accelerators="T4:1", token="t2"))
    assert err.value.scope == "provider"
    gce.inject("quotaExceeded", status=403, method="instances.insert")
    with pytest.raises(QuotaError) as err:
        gcp.create(request(token="t3"))
    assert err.value.scope == "region"
    assert gce.all_instances() == []


@pytest.mark.parametrize("code,status", [("ZONE_RESOURCE_POOL_EXHAUSTED", None), ("quotaExceeded", 403)])
def test_the_second_node_failing_deletes_the_first(gce, code, status):
    """One node refused (on its operation or on the call) fails the group: the
    nodes already inserted are deleted."""
    gce.inject(code, method="instances.insert", skip=1, **({"status": status} if status else {}))
    with pytest.raises((CapacityError, QuotaError)):
        provider(gce).create(request(nodes=3))
    assert gce.all_instances() == [] and gce.calls("instances.delete")


def test_a_launch_retried_after_its_nodes_were_cleaned_up_inserts_afresh(gce):
    """apply retries a create that failed transiently with the same token: the
    nodes the failed try inserted were deleted, so the retry must not be answered
    with their old operations."""
    gcp = provider(gce)
    gce.inject("backendError", status=503, method="instances.insert", skip=1, times=1000)
    with pytest.raises(TransientError):
        gcp.create(request(nodes=2, token="again"))
    assert gce.all_instances() == []
    gce.clear_faults()
    insts = gcp.create(request(nodes=2, token="again"))
    assert len(insts) == 2 and len(gce.all_instances()) == 2


@pytest.mark.parametrize("code,status", [("rateLimitExceeded", 429), ("backendError", 503),
                                         ("backendError", 500)])
def test_throttling_and_server_errors_are_retried_briefly_then_transient(gce, code, status):
    gcp = provider(gce)
    gce.inject(code, status=status, method="instances.aggregatedList", times=1)
    assert gcp.list_managed("lin-1") == []  # one blip is absorbed with backoff
    assert len(gce.calls("instances.aggregatedList")) == 2
    gce.inject(code, status=status, method="instances.aggregatedList", times=1000)
    with pytest.raises(TransientError):
        gcp.list_managed("lin-1")
    gce.clear_faults()


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_auth_errors(gce, status):
    gce.inject("forbidden", status=status, method="instances.insert")
    with pytest.raises(AuthError) as err:
        provider(gce).create(request())
    assert "Compute Instance Admin" in err.value.hint and gce.all_instances() == []


def test_a_spot_node_preempted_while_starting_is_no_capacity(gce):
    gce.inject("PREEMPTED", method="instances.insert")
    with pytest.raises(CapacityError, match="stopped or deleted while starting"):
        provider(gce).create(request(pricing="spot", kind="service"))
    assert gce.all_instances() == []


def test_an_unreachable_endpoint_is_transient(gce):
    gcp = provider(gce, endpoint="http://127.0.0.1:9")
    with pytest.raises(TransientError, match="cannot reach"):
        gcp.list_managed("lin-1")


def test_other_errors_are_provider_errors_with_the_message(gce):
    gce.inject("invalid", status=400, method="instances.insert", message="Invalid value for field 'x'")
    with pytest.raises(ProviderError) as err:
        provider(gce).create(request())
    assert type(err.value) is ProviderError and "Invalid value for field 'x'" in str(err.value)

"""ARM failures injected by the emulator, as the provider error types failover understands."""

from __future__ import annotations

import time

import pytest

from skyplan.errors import AuthError, CapacityError, ProviderError, QuotaError, TransientError
from tests.providers.azure.helpers import provider, request

NODE_TYPES = {"Microsoft.Compute/virtualMachines", "Microsoft.Network/networkInterfaces", "Microsoft.Compute/disks"}


@pytest.mark.parametrize("code,is_async,status", [
    ("SkuNotAvailable", False, 409),
    ("AllocationFailed", True, 200),
    ("ZonalAllocationFailed", True, 200),
    ("OverconstrainedAllocationRequest", False, 409),
])
def test_capacity_codes_are_capacity_errors_of_the_zone_and_leave_nothing(arm, code, is_async, status):
    arm.fault(kind="capacity", code=code, message=f"{code}: no capacity for Standard_D2s_v5", region="eastus",
              **{"async": is_async})
    p = provider(arm)
    with pytest.raises(CapacityError) as exc:
        p.create(request(nodes=2))
    assert exc.value.scope == "zone" and code in str(exc.value)
    assert not [r for r in arm.resources.values() if r["type"] in NODE_TYPES]  # cleaned up


def test_capacity_fault_matches_zone_and_size(arm):
    arm.fault(kind="capacity", code="ZonalAllocationFailed", zone="1", size="Standard_D2s_v5")
    p = provider(arm)
    p.create(request(zone="eastus-2", token="a"))  # another zone: fine
    with pytest.raises(CapacityError):
        p.create(request(zone="eastus-1", token="b"))


@pytest.mark.parametrize("code,message", [
    ("QuotaExceeded", "Operation could not be completed as it results in exceeding approved standardDSv5Family "
                      "Cores quota."),
    ("OperationNotAllowed", "Operation could not be completed as it results in exceeding approved Total Regional "
                            "Cores quota. Current Limit: 10"),
])
def test_quota_codes_are_quota_errors_of_the_region(arm, code, message):
    arm.fault(kind="quota", code=code, message=message)
    with pytest.raises(QuotaError) as exc:
        provider(arm).create(request())
    assert exc.value.scope == "region" and "quota" in exc.value.hint


def test_operation_not_allowed_without_quota_text_is_a_plain_provider_error(arm):
    arm.fault(kind="quota", code="OperationNotAllowed", message="The VM size is not allowed by policy")
    with pytest.raises(ProviderError) as exc:
        provider(arm).create(request())
    assert not isinstance(exc.value, (QuotaError, CapacityError))


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_auth_errors(arm, status):
    arm.fault(kind="auth", status=status, code="AuthorizationFailed" if status == 403 else "InvalidAuthenticationToken")
    with pytest.raises(AuthError) as exc:
        provider(arm).list_managed("lin-1")
    assert "subscription" in str(exc.value)


def test_persistent_throttling_is_transient_with_retry_after(arm):
    arm.fault(kind="throttle", times=10, retry_after=0)
    with pytest.raises(TransientError) as exc:
        provider(arm).list_managed("lin-1")
    assert getattr(exc.value, "retry_after", None) == 0


def test_one_throttle_is_absorbed_after_waiting_retry_after(arm):
    arm.fault(kind="throttle", times=1, retry_after=1, path="virtualMachines$")
    p = provider(arm)
    start = time.monotonic()
    assert p.list_managed("lin-1") == []
    assert time.monotonic() - start >= 0.9  # azure-core waited what Retry-After asked


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_transient(arm, status):
    arm.fault(kind="server", status=status, times=10)
    with pytest.raises(TransientError):
        provider(arm, max_retries=0).create(request())

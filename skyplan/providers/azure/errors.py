"""Translate azure-core / azure-identity failures into skyplan's provider error tree.

Retries: every management client runs azure-core's RetryPolicy capped at
``max_retries`` (default 2), which retries 429 and 5xx and waits what the
answer's ``Retry-After`` header asks for, so a throttle inside one call is
absorbed there. Anything still failing surfaces as ``TransientError`` (with
``retry_after`` set from the last answer) and skyplan's apply retry owns the
rest. Capacity and quota errors are never retried here: apply fails over to
the next ranked placement instead. Auth errors are neither retried nor failed
over; they name what to set.
"""

from __future__ import annotations

import re
from typing import ContextManager

from skyplan.errors import AuthError, CapacityError, ProviderError, QuotaError, TransientError
from skyplan.providers.sdkerrors import translating

CAPACITY_ZONE = frozenset({
    "ZonalAllocationFailed", "AllocationFailed", "OverconstrainedAllocationRequest",
    "OverconstrainedZonalAllocationRequest", "SkuNotAvailable", "ZonalAllocationFailedForSku",
    "AllocationFailedForSku", "SpotVmCapacityNotAvailable",
})
QUOTA_REGION = frozenset({"QuotaExceeded", "OperationNotAllowedQuotaExceeded", "SpotQuotaExceeded"})
TRANSIENT = frozenset({
    "TooManyRequests", "RetryableError", "InternalServerError", "ServiceUnavailable", "GatewayTimeout",
    "InternalExecutionError", "OperationPreempted", "Conflict.AnotherOperationInProgress",
})
AUTH = frozenset({
    "AuthenticationFailed", "AuthorizationFailed", "InvalidAuthenticationToken", "ExpiredAuthenticationToken",
    "InvalidAuthenticationTokenTenant", "LinkedAuthorizationFailed", "SubscriptionNotFound",
})
NOT_FOUND = frozenset({"ResourceNotFound", "NotFound", "ResourceGroupNotFound", "ParentResourceNotFound"})
_CODE = re.compile(r"\(([A-Za-z][A-Za-z0-9.]*)\)")

CREDENTIAL_HINT = ("set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (a service principal), "
                   "run 'az login', or run where a managed identity is available")


def error_code(exc: BaseException | None) -> str:
    """The ARM error code of an azure-core HttpResponseError ('' for anything else)."""
    if exc is None:
        return ""
    err = getattr(exc, "error", None)
    code = getattr(err, "code", None)
    if code:
        return str(code)
    m = _CODE.search(str(getattr(exc, "message", "") or exc))
    return m.group(1) if m else ""


def status_of(exc: BaseException | None) -> int:
    return int(getattr(exc, "status_code", 0) or 0)


def _message(exc: BaseException) -> str:
    err = getattr(exc, "error", None)
    text = getattr(err, "message", None) or getattr(exc, "message", None) or str(exc)
    return str(text).splitlines()[0] if text else type(exc).__name__


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    try:
        value = headers.get("Retry-After") or headers.get("retry-after")
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def is_quota(code: str, message: str) -> bool:
    return code in QUOTA_REGION or (code == "OperationNotAllowed" and "quota" in message.lower())


def translate(exc: BaseException, *, provider: str, subscription: str, where: str) -> Exception:
    """Map one azure-core/azure-identity exception to a SkyplanError; others pass through."""
    from azure.core import exceptions as ax

    if isinstance(exc, ax.ClientAuthenticationError) and status_of(exc) == 0:
        # No HTTP answer: the credential chain itself found nothing usable.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return AuthError(f"{provider}: no usable Azure credentials: {first}", provider=provider,
                         hint=CREDENTIAL_HINT)
    if isinstance(exc, (ax.ServiceRequestError, ax.ServiceResponseError)):
        return TransientError(f"{provider}: cannot reach Azure Resource Manager for {where}: {exc}",
                              provider=provider)
    if not isinstance(exc, ax.HttpResponseError):
        return exc if isinstance(exc, Exception) else ProviderError(str(exc), provider=provider)
    code, message, status = error_code(exc), _message(exc), status_of(exc)
    text = f"{provider}: {code or status} in {where}: {message}"
    if code in AUTH or status in (401, 403):
        return AuthError(
            f"{provider}: Azure refused the request for subscription {subscription} ({code or status}): {message}",
            provider=provider,
            hint="the identity lacks rights on the subscription or resource group (it needs Contributor), "
                 "or its token expired; " + CREDENTIAL_HINT)
    if code in CAPACITY_ZONE:
        return CapacityError(text, scope="zone", provider=provider)
    if is_quota(code, message):
        return QuotaError(text, scope="region", provider=provider,
                          hint="request a quota increase for the VM family in the Azure portal (Quotas), "
                               "or lower the region's quota in config")
    if code in TRANSIENT or status == 429 or status >= 500:
        err = TransientError(text, provider=provider)
        err.retry_after = _retry_after(exc)  # type: ignore[attr-defined]
        return err
    return ProviderError(text, provider=provider)


def translated(*, provider: str, subscription: str, where: str) -> ContextManager[None]:
    """Run a block of SDK calls, re-raising failures as SkyplanErrors."""
    return translating(translate, provider=provider, subscription=subscription, where=where)

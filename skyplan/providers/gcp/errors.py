"""Translate google-cloud-compute failures into skyplan's provider error tree.

Compute Engine reports a failure either on the HTTP call (an ``api_core``
exception carrying Google's ``{"error": {"code", "message", "errors": [{"reason"}]}}``)
or, for an accepted ``insert``, on the finished zone operation
(``operation.error.errors[].code``). Both are mapped the same way:

- ``ZONE_RESOURCE_POOL_EXHAUSTED(_WITH_DETAILS)``, ``UNSUPPORTED_OPERATION``,
  ``resourceNotFound`` for a machine or accelerator type the zone lacks:
  CapacityError(zone): failover tries the next zone
  (``REGION_RESOURCE_POOL_EXHAUSTED``: the next region);
- ``QUOTA_EXCEEDED`` / ``quotaExceeded``: QuotaError(region), or (provider)
  for a global quota such as ``GPUS_ALL_REGIONS``;
- 401/403 (other than quota and rate limits): AuthError naming the credentials;
- 429, ``rateLimitExceeded`` and 5xx, timeouts, refused connections:
  TransientError (the SDK call already retried briefly with backoff; apply's
  retry owns the rest).
"""

from __future__ import annotations

from typing import Any, ContextManager, Mapping

from skyplan.errors import AuthError, CapacityError, ProviderError, QuotaError, TransientError
from skyplan.providers.sdkerrors import translating

CAPACITY = frozenset({"ZONE_RESOURCE_POOL_EXHAUSTED", "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS",
                      "UNSUPPORTED_OPERATION", "resourceNotFound", "RESOURCE_NOT_FOUND",
                      "RESOURCE_OPERATION_RATE_EXCEEDED_IN_ZONE", "zoneResourcePoolExhausted",
                      "STOCKOUT", "GPU_STOCKOUT", "RESOURCE_POOL_EXHAUSTED", "insufficientCapacity"})
CAPACITY_REGION = frozenset({"REGION_RESOURCE_POOL_EXHAUSTED"})
QUOTA = frozenset({"QUOTA_EXCEEDED", "quotaExceeded"})
RATE = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED", "backendError"})
GLOBAL_QUOTAS = ("GPUS_ALL_REGIONS", "globally", "global quota")
AUTH_HINT = ("check that the account has the Compute Instance Admin role on the project and that its "
             'credentials have not expired (credentials_file, GOOGLE_APPLICATION_CREDENTIALS or '
             '"gcloud auth application-default login")')
NOT_FOUND = frozenset({"notFound", "resourceNotFound"})


def reasons(exc: BaseException) -> list[str]:
    """The ``reason`` of each entry of Google's ``errors`` list."""
    return [str(e.get("reason", "")) for e in (getattr(exc, "errors", None) or ()) if isinstance(e, Mapping)]


def status_of(exc: BaseException) -> int:
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) else 0


def is_not_found(exc: BaseException | None) -> bool:
    return exc is not None and status_of(exc) == 404


def is_conflict(exc: BaseException | None) -> bool:
    return exc is not None and status_of(exc) == 409


def _quota(text: str, provider: str) -> QuotaError:
    scope = "provider" if any(g in text for g in GLOBAL_QUOTAS) else "region"
    return QuotaError(text, scope=scope, provider=provider,
                      hint="request a quota increase on the IAM & Admin > Quotas page, or lower the quota "
                           "in the provider block so the solver stays under it")


def classify(code: str, message: str, status: int, *, provider: str, where: str,
             credentials: str = "", target: str = "") -> ProviderError:
    """One Compute Engine error (reason or operation error code) as a SkyplanError."""
    text = f"{provider}: {code or status} in {where}: {message}"
    if code in QUOTA:
        return _quota(text, provider)
    if code in CAPACITY_REGION:
        return CapacityError(text, scope="region", provider=provider)
    if code in CAPACITY and (code != "resourceNotFound" or "machineTypes" in message
                             or "acceleratorTypes" in message or "machineTypes" in target):
        return CapacityError(text, scope="zone", provider=provider)
    if code in RATE or status == 429 or status >= 500:
        return TransientError(text, provider=provider)
    if status in (401, 403):
        return AuthError(f"{provider}: Compute Engine refused the request with {credentials or 'the credentials'} "
                         f"({status}): {message}", provider=provider,
                         hint=AUTH_HINT)
    return ProviderError(text, provider=provider)


def operation_error(op: Mapping[str, Any], *, provider: str, where: str) -> ProviderError | None:
    """The error of a finished operation (REST JSON), or None when it succeeded."""
    errors = ((op.get("error") or {}).get("errors") or [])
    if not errors:
        return None
    first = next((e for e in errors if e.get("code") in CAPACITY | CAPACITY_REGION | QUOTA), errors[0])
    message = "; ".join(str(e.get("message", "")) for e in errors)
    status = int(op.get("httpErrorStatusCode") or 400)
    return classify(str(first.get("code", "")), message, status, provider=provider, where=where,
                    target=str(op.get("targetLink", "")))


def translate(exc: BaseException, *, provider: str, where: str, credentials: str = "") -> Exception:
    """Map one SDK/transport exception to a SkyplanError; others pass through."""
    from google.api_core import exceptions as gx
    from google.auth import exceptions as ax

    if isinstance(exc, ax.DefaultCredentialsError):  # raised mid-call: a 401 the credentials cannot answer
        return AuthError(f"{provider}: Compute Engine refused {credentials or 'the credentials'} in {where}: {exc}",
                         provider=provider, hint=AUTH_HINT)
    if isinstance(exc, ax.RefreshError):
        return AuthError(f"{provider}: Google Cloud credentials {credentials} could not be refreshed: {exc}",
                         provider=provider, hint="the key or login has expired or been revoked; renew it")
    if isinstance(exc, ax.TransportError):
        return TransientError(f"{provider}: cannot reach Google's token endpoint: {exc}", provider=provider)
    if isinstance(exc, gx.RetryError):
        cause = exc.cause
        if cause is not None and cause is not exc:
            return translate(cause, provider=provider, where=where, credentials=credentials)
        return TransientError(f"{provider}: Compute Engine kept failing in {where}: {exc}", provider=provider)
    if isinstance(exc, gx.GoogleAPICallError):
        found = reasons(exc)
        code = next((r for r in found if r in CAPACITY | QUOTA | RATE), found[0] if found else "")
        return classify(code, str(exc.message or exc), status_of(exc), provider=provider, where=where,
                        credentials=credentials)
    try:
        import requests
    except ImportError:  # pragma: no cover - requests comes with google-auth
        requests = None
    if requests is not None and isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return TransientError(f"{provider}: cannot reach Compute Engine in {where}: {exc}", provider=provider)
    if requests is not None and isinstance(exc, requests.exceptions.InvalidJSONError):
        return ProviderError(f"{provider}: the Compute Engine endpoint did not answer JSON in {where}",
                             provider=provider, hint="check the endpoint setting of the provider block")
    return exc if isinstance(exc, Exception) else ProviderError(str(exc), provider=provider)


def translated(*, provider: str, where: str, credentials: str = "") -> ContextManager[None]:
    """Run a block of SDK calls, re-raising failures as SkyplanErrors."""
    return translating(translate, provider=provider, where=where, credentials=credentials)


__all__ = ["translate", "translated", "operation_error", "classify", "is_not_found", "is_conflict", "reasons"]

"""Translate boto3/botocore failures into skyplan's provider error tree.

Retries: each EC2 client is built with botocore's ``standard`` retry mode capped
at 2 attempts, so a single throttle or 5xx blip is absorbed inside one call
(``run_instances`` carries a ClientToken, so botocore's retry never launches
twice). Anything still failing surfaces as ``TransientError`` and skyplan's
apply retry (backoff, bounded budget) owns the rest. Capacity and quota errors
are never retried here: apply fails over to the next ranked placement instead.
Auth errors are neither retried nor failed over; they name the profile.
"""

from __future__ import annotations

from typing import ContextManager

from skyplan.errors import AuthError, CapacityError, ProviderError, QuotaError, TransientError
from skyplan.providers.sdkerrors import translating

CAPACITY_ZONE = frozenset({
    "InsufficientInstanceCapacity", "InsufficientCapacity", "InsufficientHostCapacity",
    "InsufficientReservedInstanceCapacity", "Unsupported", "SpotMaxPriceTooLow",
    "InsufficientCapacityOnHost",
    # the fleet's reservation is full or not active: the nodes go elsewhere
    "ReservationCapacityExceeded", "InvalidCapacityReservationId.NotActive",
})
QUOTA_REGION = frozenset({
    "VcpuLimitExceeded", "MaxSpotInstanceCountExceeded", "InstanceLimitExceeded",
    "MaxSpotFleetRequestCountExceeded",
})
TRANSIENT = frozenset({
    "RequestLimitExceeded", "Throttling", "ThrottlingException", "InternalError",
    "InternalFailure", "ServiceUnavailable", "Unavailable", "RequestTimeout",
    "RequestTimeoutException", "IdempotentParameterMismatch",
})
AUTH = frozenset({
    "AuthFailure", "UnauthorizedOperation", "InvalidClientTokenId", "SignatureDoesNotMatch",
    "ExpiredToken", "ExpiredTokenException", "RequestExpired", "OptInRequired",
    "AccessDenied", "AccessDeniedException", "MissingAuthenticationToken",
})
NOT_FOUND = frozenset({"InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"})


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError ('' for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _status(exc: BaseException) -> int:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return 0


def _message(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Message", "")) or str(exc)
    return str(exc)


def _profile_text(profile: str | None) -> str:
    return f"profile {profile!r}" if profile else "the default credential chain (no profile set)"


def translate(exc: BaseException, *, provider: str, profile: str | None, where: str) -> Exception:
    """Map one boto3/botocore exception to a SkyplanError; other exceptions pass through."""
    from botocore import exceptions as bx
    from botocore.parsers import ResponseParserError

    if isinstance(exc, (bx.NoCredentialsError, bx.PartialCredentialsError, bx.ProfileNotFound,
                        bx.NoRegionError, bx.TokenRetrievalError, bx.SSOError, bx.CredentialRetrievalError)):
        return AuthError(
            f"{provider}: AWS credentials not usable with {_profile_text(profile)}: {exc}",
            provider=provider,
            hint="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (or the provider block's "
                 "'profile'), or run 'aws sso login'",
        )
    if isinstance(exc, (bx.ConnectionError, bx.HTTPClientError)):  # endpoint, proxy, timeouts, closed
        return TransientError(f"{provider}: cannot reach EC2 in {where}: {exc}", provider=provider)
    if isinstance(exc, ResponseParserError):  # HTML from a wrong endpoint_url, or a region it does not serve
        first = next((line for line in str(exc).splitlines() if line.strip()), "")
        return ProviderError(f"{provider}: the EC2 endpoint for {where} did not answer like EC2: {first}",
                             provider=provider,
                             hint="check endpoint_url and the region names of the provider block")
    if not isinstance(exc, bx.ClientError):
        return exc if isinstance(exc, Exception) else ProviderError(str(exc), provider=provider)
    code, message = error_code(exc), _message(exc)
    text = f"{provider}: {code} in {where}: {message}"
    if code in AUTH:
        return AuthError(
            f"{provider}: AWS refused the request with {_profile_text(profile)} ({code}): {message}",
            provider=provider,
            hint="the credentials lack EC2 permissions or have expired; refresh them and retry",
        )
    if code in CAPACITY_ZONE:
        return CapacityError(text, scope="zone", provider=provider)
    if code in QUOTA_REGION:
        return QuotaError(text, scope="region", provider=provider,
                          hint="request a quota increase in the Service Quotas console, or lower the region's quota in config")
    if code in TRANSIENT or _status(exc) >= 500:
        return TransientError(text, provider=provider)
    return ProviderError(text, provider=provider)


def translated(*, provider: str, profile: str | None, where: str) -> ContextManager[None]:
    """Run a block of SDK calls, re-raising failures as SkyplanErrors."""
    return translating(translate, provider=provider, profile=profile, where=where)

"""Translate kubernetes-client failures into skyplan's provider error tree.

401/403 and unusable kubeconfigs -> AuthError naming the context, except a
403 for an exceeded ResourceQuota -> QuotaError(region); 409 (a
conflicting write) 410 (expired resourceVersion), 429 and 5xx -> TransientError
(apply retries with backoff); connection failures -> TransientError; 422 and
other 4xx -> ProviderError quoting the API server's message. A 409
AlreadyExists on create is handled by the provider (adopt if it is ours).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Iterator

from skyplan.errors import AuthError, ProviderError, QuotaError, TransientError


def api_status(exc: BaseException) -> int:
    return int(getattr(exc, "status", 0) or 0)


def api_message(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    if body:
        try:
            data = json.loads(body)
            return str(data.get("message") or data.get("reason") or body)
        except (ValueError, AttributeError):
            return str(body)
    return str(getattr(exc, "reason", "") or exc)


def translate(exc: BaseException, *, provider: str, context: str, where: str) -> Exception:
    from kubernetes.client.exceptions import ApiException
    from kubernetes.config.config_exception import ConfigException
    from urllib3.exceptions import HTTPError as Urllib3Error

    if isinstance(exc, ConfigException):
        return AuthError(f"{provider}: cannot load Kubernetes credentials for {context}: {exc}", provider=provider,
                         hint="set kubeconfig/context in the provider block, or run inside the cluster")
    if isinstance(exc, Urllib3Error):
        return TransientError(f"{provider}: cannot reach the Kubernetes API ({context}) during {where}: {exc}",
                              provider=provider)
    if not isinstance(exc, ApiException):
        return exc if isinstance(exc, Exception) else ProviderError(str(exc), provider=provider)
    code, message = api_status(exc), api_message(exc)
    text = f"{provider}: {where} failed ({code}): {message}"
    if code == 403 and "exceeded quota" in message:  # a ResourceQuota of the namespace, not RBAC
        return QuotaError(text, scope="region", provider=provider,
                          hint="raise the namespace's ResourceQuota, or let skyplan place the workload elsewhere")
    if code in (401, 403):
        return AuthError(f"{provider}: the Kubernetes API refused {context} ({code}): {message}", provider=provider,
                         hint="check the credentials and RBAC of that kubeconfig context")
    if code in (409, 410, 429) or code >= 500 or code == 0:
        return TransientError(text, provider=provider)
    return ProviderError(text, provider=provider)


@contextmanager
def translated(*, provider: str, context: str, where: str) -> Iterator[None]:
    try:
        yield
    except ProviderError:
        raise
    except Exception as exc:  # noqa: BLE001 - mapped below; unknown exceptions re-raised as-is
        mapped = translate(exc, provider=provider, context=context, where=where)
        if mapped is exc:
            raise
        raise mapped from exc

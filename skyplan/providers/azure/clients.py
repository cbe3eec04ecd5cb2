"""Credentials and the three management clients (compute, network, resources).

Without ``endpoint`` the credential is azure-identity's DefaultAzureCredential
(environment service principal, workload identity, managed identity, the Azure
CLI's login, ...; never an interactive browser), restricted to ``tenant_id``
when one is set. With ``endpoint`` (a private or local Resource Manager) a
static bearer token is sent instead, and when that endpoint is plain
``http://`` each request is marked so azure-core allows a bearer token over
it; nothing else is ever sent without TLS.
"""

from __future__ import annotations

import time
from typing import Any


class StaticToken:
    """A TokenCredential for a local Resource Manager: one fixed bearer token."""

    def __init__(self, token: str = "skyplan-local-token"):
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any):
        from azure.core.credentials import AccessToken

        return AccessToken(self.token, int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None):
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo(self.token, int(time.time()) + 3600)


def _plain_http_policy():
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    class AllowPlainHttp(SansIOHTTPPolicy):
        """Let the bearer token policy send over http:// to an explicitly configured endpoint."""

        def on_request(self, request):  # noqa: D401
            request.context.options["enforce_https"] = False

    return AllowPlainHttp()


def credential(endpoint: str | None, tenant_id: str | None):
    if endpoint:
        return StaticToken()
    from azure.identity import DefaultAzureCredential

    kwargs: dict[str, Any] = {"exclude_interactive_browser_credential": True}
    if tenant_id:
        kwargs.update(workload_identity_tenant_id=tenant_id, shared_cache_tenant_id=tenant_id,
                      visual_studio_code_tenant_id=tenant_id, interactive_browser_tenant_id=tenant_id,
                      additionally_allowed_tenants=[tenant_id])
    return DefaultAzureCredential(**kwargs)


def client_kwargs(endpoint: str | None, max_retries: int) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"retry_total": max_retries, "retry_backoff_factor": 0.5,
                              "connection_timeout": 10, "read_timeout": 60}
    if endpoint:
        kwargs["base_url"] = endpoint.rstrip("/")
        kwargs["credential_scopes"] = ["https://management.azure.com/.default"]
        if endpoint.lower().startswith("http://"):
            kwargs["per_call_policies"] = [_plain_http_policy()]
    return kwargs


def make_clients(subscription: str, endpoint: str | None, tenant_id: str | None, max_retries: int):
    """(compute, network, resources) clients sharing one credential."""
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    cred = credential(endpoint, tenant_id)
    kw = client_kwargs(endpoint, max_retries)
    return (ComputeManagementClient(cred, subscription, **kw), NetworkManagementClient(cred, subscription, **kw),
            ResourceManagementClient(cred, subscription, **kw))


def plain(model: Any) -> dict:
    """An SDK model (or a dict, or None) as a plain dict."""
    if model is None:
        return {}
    if isinstance(model, dict):
        return model
    return model.as_dict() if hasattr(model, "as_dict") else dict(model)

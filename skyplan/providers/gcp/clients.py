"""Credentials and SDK clients for one ``provider "gcp"`` block.

With ``endpoint`` set (a private endpoint or a local Compute Engine server)
the clients talk to it with anonymous credentials; otherwise
``credentials_file`` (a service-account key) or Application Default
Credentials (``google.auth.default()``) are used. The project is the block's
``project`` or the one the credentials name. Every client is built with the
same ``client_options``, so operations are polled where instances are made
(``ZoneOperationsClient.wait``; ``ExtendedOperation.result()`` would poll the
public host whatever the endpoint).
"""

from __future__ import annotations

import threading
from typing import Any, Mapping

from skyplan.errors import AuthError, ProviderError

SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
NO_CREDENTIALS_HINT = ('set credentials_file = "KEY.json" in the provider "gcp" block, set '
                       'GOOGLE_APPLICATION_CREDENTIALS, or run "gcloud auth application-default login"; '
                       "nothing was created")


def resolve(provider: str, settings: Mapping[str, Any]) -> tuple[Any, str, str]:
    """(credentials, project, description of the credentials). Raises AuthError
    naming what to set when there are none, ProviderError without a project."""
    endpoint = settings.get("endpoint")
    project = str(settings.get("project") or "")
    if endpoint:
        from google.auth.credentials import AnonymousCredentials

        creds, text = AnonymousCredentials(), f"anonymous credentials at {endpoint}"
    elif settings.get("credentials_file"):
        path = str(settings["credentials_file"])
        from google.oauth2 import service_account

        try:
            creds = service_account.Credentials.from_service_account_file(path, scopes=SCOPES)
        except (OSError, ValueError, KeyError) as exc:
            raise AuthError(f"{provider}: cannot read the service-account key {path}: {exc}", provider=provider,
                            hint="credentials_file must name a JSON key file of a service account") from None
        project = project or str(getattr(creds, "project_id", "") or "")
        text = f"the service account in {path}"
    else:
        import google.auth
        from google.auth import exceptions as ax

        try:
            creds, found = google.auth.default(scopes=SCOPES)
        except ax.DefaultCredentialsError:
            raise AuthError(f"{provider}: no Google Cloud credentials found", provider=provider,
                            hint=NO_CREDENTIALS_HINT) from None
        project = project or str(found or "")
        text = "Application Default Credentials"
    if not project:
        raise ProviderError(f"{provider}: no Google Cloud project set", provider=provider,
                            hint='set project = "PROJECT_ID" in the provider "gcp" block')
    return creds, project, text


class Clients:
    """The SDK clients (built on first use, shared by threads; the REST clients are thread-safe)."""

    def __init__(self, credentials: Any, endpoint: str | None):
        self._credentials = credentials
        self._options = {"api_endpoint": endpoint} if endpoint else None
        self._made: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _get(self, name: str) -> Any:
        with self._lock:
            if name not in self._made:
                from google.cloud import compute_v1

                cls = getattr(compute_v1, name)
                self._made[name] = cls(credentials=self._credentials, transport="rest",
                                       client_options=self._options)
            return self._made[name]

    @property
    def instances(self):
        return self._get("InstancesClient")

    @property
    def zone_operations(self):
        return self._get("ZoneOperationsClient")

    @property
    def global_operations(self):
        return self._get("GlobalOperationsClient")


def retry_policy(timeout: float):
    """Brief backoff inside one call for throttling and 5xx (and the read
    methods' default 600 s retry cut down to ``timeout``)."""
    from google.api_core import exceptions as gx
    from google.api_core import retry as gr

    return gr.Retry(initial=0.2, maximum=5.0, multiplier=2.0, timeout=timeout,
                    predicate=gr.if_exception_type(gx.TooManyRequests, gx.ServiceUnavailable, gx.InternalServerError,
                                                   gx.BadGateway, gx.GatewayTimeout, gx.DeadlineExceeded))


def as_dict(message: Any) -> dict:
    """A proto-plus message as its REST JSON (camelCase keys, enum names)."""
    return type(message).to_dict(message, preserving_proto_field_name=False, use_integers_for_enums=False)

"""Paged ARM list calls read as plain JSON, through the management client's own pipeline.

A refresh lists every VM of a resource group; the typed SDK turns each page
into model objects first, which costs about as much as the HTTP itself at a
thousand VMs. ``ComputeManagementClient.send_request`` runs the same pipeline
(credential, retries honouring ``Retry-After``, the plain-http policy for a
local endpoint) and leaves the JSON as it came; ``nextLink`` pages are
followed here. Errors are raised as the typed SDK raises them.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

COMPUTE_API = "2025-04-01"  # Microsoft.Compute virtualMachines list / listAll (statusOnly)


def pages(client: Any, path: str, params: Mapping[str, str] | None = None) -> Iterator[dict]:
    """The items of every page of ``GET path`` (``value`` then ``nextLink`` until none)."""
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
    from azure.core.rest import HttpRequest

    url: str | None = path
    query: dict[str, str] | None = {**dict(params or {}), "api-version": COMPUTE_API}
    while url:
        response = client.send_request(HttpRequest("GET", url, params=query))
        if response.status_code == 404:
            raise ResourceNotFoundError(response=response)
        if response.status_code in (401, 403):
            raise ClientAuthenticationError(response=response)
        if response.status_code >= 400:
            raise HttpResponseError(response=response)
        body = response.json()
        yield from body.get("value") or ()
        url, query = body.get("nextLink"), None  # the next link carries its own query

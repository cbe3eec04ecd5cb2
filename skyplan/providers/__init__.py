"""Providers: one subpackage per cloud or cluster behind the small interface in
``base.py``. Each is registered here explicitly with a factory that imports its
SDK lazily, so loading skyplan never imports boto3, google-cloud-compute or the kubernetes client.
"""

from __future__ import annotations

from typing import Callable

from skyplan.config.model import ProviderConfig
from skyplan.errors import ProviderError
from skyplan.providers.base import Instance, LaunchRequest, Provider

Factory = Callable[[ProviderConfig], Provider]


def _local(cfg: ProviderConfig) -> Provider:
    from skyplan.providers.local import LocalProvider

    return LocalProvider(cfg)


def _aws(cfg: ProviderConfig) -> Provider:
    from skyplan.providers.aws import AwsProvider

    return AwsProvider(cfg)


def _gcp(cfg: ProviderConfig) -> Provider:
    from skyplan.providers.gcp import GcpProvider

    return GcpProvider(cfg)


def _kubernetes(cfg: ProviderConfig) -> Provider:
    from skyplan.providers.kubernetes import KubernetesProvider

    return KubernetesProvider(cfg)


def _azure(cfg: ProviderConfig) -> Provider:
    from skyplan.providers.azure import AzureProvider

    return AzureProvider(cfg)


REGISTRY: dict[str, Factory] = {
    "local": _local,
    "aws": _aws,
    "gcp": _gcp,
    "kubernetes": _kubernetes,
    "azure": _azure,
}


def register(kind: str, factory: Factory) -> None:
    """Register a provider kind (tests register their own in-process providers)."""
    REGISTRY[kind] = factory


def _azure_network(cfg: ProviderConfig, region: str) -> list:
    from skyplan.providers.azure.network import pieces

    return pieces(cfg, region)


# Kinds whose nodes need network pieces that skyplan creates per region (base.SupportsNetworks);
# each layout is pure, so the planner can name the pieces without calling the cloud.
NETWORK_LAYOUTS: dict[str, Callable[[ProviderConfig, str], list]] = {
    "azure": _azure_network,
}


# Kinds whose nodes can run a readiness probe's command (base.SupportsCommands); on the
# others a readiness block probes over HTTP only.
COMMAND_PROBES = frozenset({"local"})


def network_pieces(cfg: ProviderConfig, region: str) -> list:
    """The network pieces a node of ``cfg``'s provider needs in ``region`` (none for most kinds)."""
    layout = NETWORK_LAYOUTS.get(cfg.kind)
    return layout(cfg, region) if layout is not None else []


def get_provider(cfg: ProviderConfig) -> Provider:
    try:
        factory = REGISTRY[cfg.kind]
    except KeyError:
        raise ProviderError(
            f"provider {cfg.kind!r} is not available in this build of skyplan",
            provider=cfg.key,
            hint=f"available providers: {', '.join(sorted(REGISTRY))}",
        ) from None
    return factory(cfg)


__all__ = ["Instance", "LaunchRequest", "Provider", "REGISTRY", "register", "get_provider", "network_pieces"]

"""Providers: one subpackage per cloud or cluster behind the small interface in
``base.py``. Each is registered here explicitly with a factory that imports its
SDK lazily, so loading skyplan never imports boto3 or the kubernetes client.
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


def _kubernetes(cfg: ProviderConfig) -> Provider:
    from skyplan.providers.kubernetes import KubernetesProvider

    return KubernetesProvider(cfg)


REGISTRY: dict[str, Factory] = {
    "local": _local,
    "aws": _aws,
    "kubernetes": _kubernetes,
}


def register(kind: str, factory: Factory) -> None:
    """Register a provider kind (tests register their own in-process providers)."""
    REGISTRY[kind] = factory


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


__all__ = ["Instance", "LaunchRequest", "Provider", "REGISTRY", "register", "get_provider"]

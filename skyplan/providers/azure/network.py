"""The network pieces a VM needs in one Azure region, named without I/O.

Per region: a resource group (the block's ``resource_group``: one name for
every region, a map keyed by region, or ``skyplan-REGION`` by default), a
network security group ``skyplan-nsg-REGION``, a virtual network
``skyplan-vnet-REGION`` (10.0.0.0/16) and its subnet ``skyplan``
(10.0.0.0/18) joined to the security group. Each piece is its own state
address (``network.azure_subnet["RG/VNET/skyplan"]``), so the planner can
create them before the VMs that use them and delete them after the last one,
and destroy removes exactly what skyplan created: a piece found already
existing is recorded as ``created = false`` and only forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from skyplan.config.model import ProviderConfig

RESOURCE_GROUP = "azure_resource_group"
SECURITY_GROUP = "azure_network_security_group"
VIRTUAL_NETWORK = "azure_virtual_network"
SUBNET = "azure_subnet"
SUBNET_NAME = "skyplan"
ADDRESS_SPACE = "10.0.0.0/16"
SUBNET_PREFIX = "10.0.0.0/18"


@dataclass(frozen=True)
class NetworkPiece:
    """One network object skyplan needs (and creates when missing)."""

    address: str
    type: str  # one of RESOURCE_GROUP, SECURITY_GROUP, VIRTUAL_NETWORK, SUBNET
    provider: str  # the provider key
    region: str
    resource_group: str
    name: str
    virtual_network: str | None = None  # a subnet's network
    depends_on: tuple[str, ...] = ()

    def attributes(self) -> dict[str, Any]:
        out = {"provider": self.provider, "type": self.type, "region": self.region,
               "resource_group": self.resource_group, "name": self.name}
        if self.virtual_network:
            out["virtual_network"] = self.virtual_network
        return out


def resource_group_for(settings: Mapping[str, Any], region: str) -> str:
    rg = settings.get("resource_group")
    if isinstance(rg, Mapping):
        rg = rg.get(region)
    return str(rg) if rg else f"skyplan-{region}"


def _address(kind: str, provider: str, path: str) -> str:
    import json

    key = path if provider == "azure" else f"{provider}:{path}"
    return f"network.{kind}[{json.dumps(key)}]"


def pieces(cfg: ProviderConfig, region: str) -> list[NetworkPiece]:
    """The pieces for ``region`` in dependency order (resource group first)."""
    key = cfg.key
    rg = resource_group_for(cfg.settings or {}, region)
    nsg, vnet = f"skyplan-nsg-{region}", f"skyplan-vnet-{region}"
    a_rg = _address(RESOURCE_GROUP, key, rg)
    a_nsg = _address(SECURITY_GROUP, key, f"{rg}/{nsg}")
    a_vnet = _address(VIRTUAL_NETWORK, key, f"{rg}/{vnet}")
    a_sub = _address(SUBNET, key, f"{rg}/{vnet}/{SUBNET_NAME}")
    return [
        NetworkPiece(a_rg, RESOURCE_GROUP, key, region, rg, rg),
        NetworkPiece(a_nsg, SECURITY_GROUP, key, region, rg, nsg, depends_on=(a_rg,)),
        NetworkPiece(a_vnet, VIRTUAL_NETWORK, key, region, rg, vnet, depends_on=(a_rg,)),
        NetworkPiece(a_sub, SUBNET, key, region, rg, SUBNET_NAME, virtual_network=vnet, depends_on=(a_vnet, a_nsg)),
    ]


def subnet_of(cfg: ProviderConfig, region: str) -> NetworkPiece:
    return pieces(cfg, region)[-1]

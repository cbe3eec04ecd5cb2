"""Create the network pieces of ``network.py`` when missing, and delete the ones skyplan made.

Every piece skyplan creates carries ``skyplan-lineage`` and ``skyplan-managed``
tags (a subnet has no tags: its network's count). A piece that already exists
is used as it is and reported with ``created = False`` (deleting it is then only
forgetting it), unless it carries this state's lineage: an interrupted apply
made it, and it is skyplan's to delete. A piece still in use by resources this state does
not manage (another state sharing the resource group) is kept and forgotten
rather than failing the destroy. A resource group
skyplan created is deleted only once it is empty (anything someone else put in
it keeps it, and the delete says so).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from skyplan.providers.azure.network import (
    ADDRESS_SPACE, RESOURCE_GROUP, SECURITY_GROUP, SUBNET, SUBNET_PREFIX, VIRTUAL_NETWORK, NetworkPiece,
)

TAG_MANAGED = "skyplan-managed"


def _tags(lineage: str) -> dict[str, str]:
    return {"skyplan-lineage": lineage, TAG_MANAGED: "true"}


def _exists(get: Callable[[], Any]) -> Any | None:
    from azure.core.exceptions import ResourceNotFoundError

    try:
        return get()
    except ResourceNotFoundError:
        return None


def _ours(found: Any, lineage: str) -> bool:
    """A piece an earlier, interrupted apply of this state created (it carries our lineage)."""
    tags = getattr(found, "tags", None)
    if tags is None and hasattr(found, "get"):
        tags = found.get("tags")
    return bool(tags) and dict(tags).get("skyplan-lineage") == lineage


def ensure(piece: NetworkPiece, *, compute, network, resources, subscription: str, lineage: str,
           poll: float) -> dict[str, Any]:
    """Make ``piece`` exist; its attributes plus ``id`` and ``created`` (did skyplan make it)."""
    rg, name, region = piece.resource_group, piece.name, piece.region
    base = f"/subscriptions/{subscription}/resourceGroups/{rg}/providers/Microsoft.Network"
    created = False
    if piece.type == RESOURCE_GROUP:
        rid = f"/subscriptions/{subscription}/resourceGroups/{rg}"
        found = _exists(lambda: resources.resource_groups.get(rg))
        created = found is not None and _ours(found, lineage)
        if found is None:
            from azure.mgmt.resource.resources.models import ResourceGroup

            resources.resource_groups.create_or_update(rg, ResourceGroup(location=region, tags=_tags(lineage)))
            created = True
    elif piece.type == SECURITY_GROUP:
        rid = f"{base}/networkSecurityGroups/{name}"
        found = _exists(lambda: network.network_security_groups.get(rg, name))
        created = found is not None and _ours(found, lineage)
        if found is None:
            network.network_security_groups.begin_create_or_update(
                rg, name, {"location": region, "tags": _tags(lineage), "properties": {"securityRules": []}},
                polling_interval=poll).result()
            created = True
    elif piece.type == VIRTUAL_NETWORK:
        rid = f"{base}/virtualNetworks/{name}"
        found = _exists(lambda: network.virtual_networks.get(rg, name))
        created = found is not None and _ours(found, lineage)
        if found is None:
            network.virtual_networks.begin_create_or_update(
                rg, name, {"location": region, "tags": _tags(lineage),
                           "properties": {"addressSpace": {"addressPrefixes": [ADDRESS_SPACE]}}},
                polling_interval=poll).result()
            created = True
    elif piece.type == SUBNET:
        vnet = piece.virtual_network or ""
        rid = f"{base}/virtualNetworks/{vnet}/subnets/{name}"
        found = _exists(lambda: network.subnets.get(rg, vnet, name))
        # A subnet carries no tags: it is ours when its network is.
        vnet_found = _exists(lambda: network.virtual_networks.get(rg, vnet)) if found is not None else None
        created = vnet_found is not None and _ours(vnet_found, lineage)
        if found is None:
            nsg = f"{base}/networkSecurityGroups/skyplan-nsg-{region}"
            network.subnets.begin_create_or_update(
                rg, vnet, name, {"properties": {"addressPrefix": SUBNET_PREFIX, "networkSecurityGroup": {"id": nsg}}},
                polling_interval=poll).result()
            created = True
    else:
        raise ValueError(f"unknown network piece {piece.type!r}")
    return {**piece.attributes(), "id": rid, "created": created, "lineage": lineage}


def _delete_orphan_nics(network, rg: str, subnet_id: str, lineage: str, poll: float) -> None:
    """NICs of this state left in the subnet by VMs deleted without them (one list call)."""
    if not lineage:
        return
    for nic in network.network_interfaces.list(rg):
        raw = nic.as_dict() if hasattr(nic, "as_dict") else dict(nic)
        props = raw.get("properties") or {}
        in_subnet = any(((c.get("properties") or {}).get("subnet") or {}).get("id", "").lower() == subnet_id.lower()
                        for c in props.get("ipConfigurations") or ())
        if in_subnet and not props.get("virtualMachine") and (raw.get("tags") or {}).get("skyplan-lineage") == lineage:
            network.network_interfaces.begin_delete(rg, raw["name"], polling_interval=poll).result()


def delete(attrs: Mapping[str, Any], *, network, resources, poll: float) -> str:
    """Delete one piece skyplan created (waits). Returns what was done, for the apply log."""
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    kind, rg, name = attrs.get("type"), str(attrs.get("resource_group")), str(attrs.get("name"))
    if not attrs.get("created", False):
        return f"kept {name} (it existed before skyplan used it); forgotten"
    try:
        if kind == RESOURCE_GROUP:
            if not resources.resource_groups.check_existence(rg):
                return f"{name} already gone"
            left = list(resources.resources.list_by_resource_group(rg))
            if left:
                return (f"kept resource group {name}: it still holds {len(left)} resource(s) skyplan did not "
                        f"create (e.g. {left[0].name}); forgotten")
            resources.resource_groups.begin_delete(rg, polling_interval=poll).result()
        elif kind == SUBNET:
            _delete_orphan_nics(network, rg, str(attrs.get("id", "")), str(attrs.get("lineage") or ""), poll)
            network.subnets.begin_delete(rg, str(attrs.get("virtual_network")), name, polling_interval=poll).result()
        elif kind == VIRTUAL_NETWORK:
            network.virtual_networks.begin_delete(rg, name, polling_interval=poll).result()
        elif kind == SECURITY_GROUP:
            network.network_security_groups.begin_delete(rg, name, polling_interval=poll).result()
        else:
            raise ValueError(f"unknown network piece {kind!r}")
    except ResourceNotFoundError:
        return f"{name} already gone"
    except HttpResponseError as exc:
        from skyplan.providers.azure.errors import error_code

        code = error_code(exc)
        if code.startswith("InUse"):  # another state's (or someone's) NICs still use it
            return f"kept {name}: it is still in use by resources this state does not manage ({code}); forgotten"
        raise
    return f"deleted {name}"

"""What one node's NIC and ``virtual_machines.begin_create_or_update`` ask for (pure).

Spot: ``priority = Spot`` with ``billingProfile.maxPrice = -1`` (pay up to the
on-demand price, never evicted for price), and ``evictionPolicy`` ``Delete``
for a job node (a rerun would start from scratch: the node is lost, refresh
reports it missing and apply re-places it) or ``Deallocate`` for a service node
(it keeps its disk, NIC and tags; refresh reports it ``preempted`` and drift
repair re-places it).

The custom data script writes the workload's env to ``/etc/skyplan/env``,
runs ``setup`` then ``run`` (inside ``docker run`` when the workload names a
container image rather than a VM image), logs to ``/var/log/skyplan/`` and
prints ``skyplan: exit_code=N`` to the serial console, which boot diagnostics
keep. A job node powers itself off when ``run`` ends; a service node keeps
running.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any, Mapping

from skyplan.providers.base import LaunchRequest
from skyplan.providers.bootscript import boot_script, format_window, node_env

TAG_ADDRESS = "skyplan-address"
TAG_LINEAGE = "skyplan-lineage"
TAG_GROUP = "skyplan-group"
TAG_RANK = "skyplan-rank"
TAG_KIND = "skyplan-kind"
TAG_PRICING = "skyplan-pricing"
TAG_AUTOSTOP = "skyplan-autostop"


_AZ_BAD = re.compile(r"[<>%&\\?/]")  # characters Azure refuses in tag names


def cloud_tag(key: str) -> str:
    """skyplan's tag names (``skyplan:address``) as Azure carries them (``skyplan-address``);
    a user's tag name with characters Azure refuses has them as ``_``."""
    return "skyplan-" + key[len("skyplan:"):] if key.startswith("skyplan:") else _AZ_BAD.sub("_", key)


def skyplan_tag(key: str) -> str:
    """The inverse of ``cloud_tag``: what skyplan's core compares and records."""
    return "skyplan:" + key[len("skyplan-"):] if key.startswith("skyplan-") else key


# Ubuntu 22.04 with the NVIDIA driver, CUDA and InfiniBand stack (Azure HPC/AI image) for GPU
# sizes (the N series), plain Ubuntu 24.04 LTS for the rest (its arm64 build on Arm sizes).
GPU_IMAGE = {"publisher": "microsoft-dsvm", "offer": "ubuntu-hpc", "sku": "2204", "version": "latest"}
CPU_IMAGE = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}
_GPU_SIZE = re.compile(r"^Standard_N", re.I)
_ARM_SIZE = re.compile(r"^Standard_[A-Z]+\d+[a-z]*p[a-z]*_v\d", re.I)  # Ampere Altra: D4ps_v5, E8pds_v5


def is_vm_image(image: str | None) -> bool:
    """An image URN (``publisher:offer:sku:version``) or an ARM image id, as opposed to a container image."""
    if not image:
        return False
    return image.startswith("/subscriptions/") or (image.count(":") == 3 and "/" not in image)


def image_reference(size: str, requested: str | None, configured: Any) -> dict:
    """The workload's VM image, the provider block's ``image``, or the default for the size."""
    for image in (requested, configured):
        if isinstance(image, str) and is_vm_image(image):
            if image.startswith("/subscriptions/"):
                return {"id": image}
            publisher, offer, sku, version = image.split(":")
            return {"publisher": publisher, "offer": offer, "sku": sku, "version": version}
    if _GPU_SIZE.match(size):
        return dict(GPU_IMAGE)
    return {**CPU_IMAGE, "sku": "server-arm64"} if _ARM_SIZE.match(size) else dict(CPU_IMAGE)


def zone_number(zone: str | None, region: str) -> str | None:
    """``eastus-2`` or ``2`` -> ``2``; no zone -> None."""
    if not zone:
        return None
    return zone[len(region) + 1:] if zone.startswith(region + "-") else zone


def vm_name(req: LaunchRequest, rank: int) -> str:
    """A stable, valid VM name per node: the same for every retry of one launch (its token)."""
    slug = re.sub(r"[^a-z0-9]+", "-", req.address.lower()).strip("-")[:40]
    digest = hashlib.sha256(f"{req.lineage}/{req.address}/{req.token}".encode()).hexdigest()[:6]
    return f"sp-{slug}-{req.group}-{rank}-{digest}"


def tags(req: LaunchRequest, rank: int, extra: Mapping[str, Any] | None = None) -> dict[str, str]:
    return {**{str(k): str(v) for k, v in dict(extra or {}).items()},
            **{cloud_tag(k): v for k, v in req.user_tags.items() if not k.startswith("skyplan:")},
            TAG_ADDRESS: req.address, TAG_LINEAGE: req.lineage, TAG_GROUP: str(req.group),
            TAG_RANK: str(rank), TAG_KIND: req.kind, TAG_PRICING: req.placement.pricing,
            **({TAG_AUTOSTOP: format_window(req.autostop)} if req.autostop else {})}


def custom_data(req: LaunchRequest, rank: int, container_image: str | None = None, *, root: str = "") -> str:
    """The boot script of node ``rank`` (providers/bootscript.py)."""
    return boot_script(req, node_env(req, SKYPLAN_NODE_RANK=str(rank)), container_image=container_image,
                       gpus=bool(req.accelerators), root=root, once=True)


def nic_body(region: str, subnet_id: str, node_tags: Mapping[str, str]) -> dict:
    return {"location": region, "tags": dict(node_tags), "properties": {"ipConfigurations": [
        {"name": "ipconfig1", "properties": {"subnet": {"id": subnet_id}, "privateIPAllocationMethod": "Dynamic"}}]}}


def admin_password() -> str:
    """A random password that is never stored or shown (Azure requires a credential on a
    Linux VM; without ``ssh_public_key`` nobody logs in with it: the subnet's security
    group admits no inbound traffic from outside the network)."""
    return "Sp1!" + secrets.token_urlsafe(24)


def vm_body(req: LaunchRequest, rank: int, *, nic_id: str, settings: Mapping[str, Any]) -> dict:
    p = req.placement
    container = req.image if req.image and not is_vm_image(req.image) else None
    name = vm_name(req, rank)
    os_disk: dict[str, Any] = {"name": f"{name}-osdisk", "createOption": "FromImage", "deleteOption": "Delete",
                               "managedDisk": {"storageAccountType": "Premium_LRS"}}
    if req.disk_gb:
        os_disk["diskSizeGB"] = int(req.disk_gb)
    os_profile: dict[str, Any] = {
        "computerName": name[:64], "adminUsername": str(settings.get("admin_username") or "skyplan"),
        "customData": base64.b64encode(custom_data(req, rank, container).encode()).decode(),
    }
    key = settings.get("ssh_public_key")
    if key:
        os_profile["linuxConfiguration"] = {"disablePasswordAuthentication": True, "ssh": {"publicKeys": [
            {"path": f"/home/{os_profile['adminUsername']}/.ssh/authorized_keys", "keyData": str(key)}]}}
    else:
        os_profile["adminPassword"] = admin_password()
    props: dict[str, Any] = {
        "hardwareProfile": {"vmSize": p.instance_type},
        "storageProfile": {"imageReference": image_reference(p.instance_type, req.image, settings.get("image")),
                           "osDisk": os_disk},
        "osProfile": os_profile,
        "networkProfile": {"networkInterfaces": [{"id": nic_id, "properties": {"primary": True,
                                                                              "deleteOption": "Delete"}}]},
        "diagnosticsProfile": {"bootDiagnostics": {"enabled": True}},
    }
    if req.reservation_id:  # into the fleet's capacity reservation group
        props["capacityReservation"] = {"capacityReservationGroup": {"id": req.reservation_id}}
    if p.pricing == "spot":
        props["priority"] = "Spot"
        props["evictionPolicy"] = "Deallocate" if req.kind == "service" else "Delete"
        props["billingProfile"] = {"maxPrice": -1}
    body: dict[str, Any] = {"location": p.region, "tags": tags(req, rank, settings.get("tags")), "properties": props}
    zone = zone_number(p.zone, p.region)
    if zone:
        body["zones"] = [zone]
    return body

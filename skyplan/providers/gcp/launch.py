"""What one ``instances.insert`` asks for, built without I/O from a LaunchRequest.

Each node of a group is one instance named ``sky-<address>-<group>-<launch>-<rank>``:
the nodes of a group share everything up to the rank, so they sort (and show
in the console) together, and a retry of the same launch (same idempotency
token) asks for the same names, which Compute Engine refuses to create twice.
All nodes of a group go to one zone on the same network and subnetwork.

Boot image: the workload's ``image`` when it names a Compute Engine image
(``projects/...``, ``global/images/...`` or ``family/...``), else the provider
block's ``image``, else a Deep Learning VM family (NVIDIA driver, CUDA and
Docker preinstalled) for GPU machines and plain Debian for CPU ones. Any other
workload ``image`` is a container image the startup script runs ``setup`` and
``run`` in.

GPUs: N1 machines get ``guestAccelerators`` for T4/V100/P100/P4/K80 offers;
the accelerator-optimised families (A2, A3, A4, G2) carry theirs in the
machine type. GPU machines cannot live-migrate, so ``onHostMaintenance`` is
``TERMINATE``. Spot nodes are ``provisioningModel = SPOT`` that *stop* when
preempted for services (the disk and name survive, like AWS persistent spot)
and are *deleted* for jobs (a job restarted on a fresh node reruns from
scratch, so the node is simply lost and re-placed).
"""

from __future__ import annotations

import hashlib
import re
import shlex
from typing import Any, Mapping

from skyplan.catalog.gcp_attach import fixed_gpus
from skyplan.providers.base import TAG_AUTOSTOP, TAG_RANK, LaunchRequest
from skyplan.providers.bootscript import boot_script, format_window, node_env
from skyplan.providers.gcp import labels as lab

TAG_KIND = "skyplan:kind"
TAG_PRICING = "skyplan:pricing"
DEFAULT_GPU_IMAGE = "projects/deeplearning-platform-release/global/images/family/common-cu129-ubuntu-2404-nvidia-580"
DEFAULT_CPU_IMAGE = "projects/debian-cloud/global/images/family/debian-12"
ATTACHED_GPU = {"T4": "nvidia-tesla-t4", "V100": "nvidia-tesla-v100", "P100": "nvidia-tesla-p100",
                "P4": "nvidia-tesla-p4", "K80": "nvidia-tesla-k80"}
GPU_FAMILIES = ("a2-", "a3-", "a4-", "a4x-", "g2-")
_IMAGE = re.compile(r"^(projects/|global/images/|family/|https://)")
_SLUG = re.compile(r"[^a-z0-9]+")


def region_of(zone: str) -> str:
    """``us-central1-a`` -> ``us-central1``."""
    return zone.rsplit("-", 1)[0]


def is_gce_image(image: str | None) -> bool:
    return bool(image) and bool(_IMAGE.match(str(image)))


def gpus_of(machine_type: str, accelerators: str | None) -> tuple[str, int] | None:
    """The GPUs a node has: fixed by an accelerator-optimised type, or attached."""
    fixed = fixed_gpus(machine_type)
    if fixed:
        return fixed
    if accelerators:
        name, _, count = accelerators.partition(":")
        try:
            return name, int(float(count or 1))
        except ValueError:
            return name, 1
    if machine_type.startswith(GPU_FAMILIES):
        return ("GPU", 1)
    return None


def boot_image(req: LaunchRequest, configured: str | None) -> str:
    if is_gce_image(req.image):
        return str(req.image)
    if configured:
        return str(configured)
    p = req.placement
    return DEFAULT_GPU_IMAGE if gpus_of(p.instance_type, req.accelerators or p.accelerators) else DEFAULT_CPU_IMAGE


def instance_names(req: LaunchRequest) -> list[str]:
    """One name per node: a valid, unique per launch, rank-suffixed instance name."""
    slug = _SLUG.sub("-", req.address.lower()).strip("-")[:34].strip("-") or "node"
    launch = hashlib.sha256(f"{req.lineage}/{req.address}/{req.group}/{req.token}".encode()).hexdigest()[:6]
    return [f"sky-{slug}-{req.group}-{launch}-{rank}" for rank in range(req.placement.nodes)]


def startup_script(req: LaunchRequest, rank: int, container_image: str | None = None, *,
                   names: tuple[str, ...] = (), root: str = "") -> str:
    """The boot script of one node (providers/bootscript.py), with
    ``SKYPLAN_HEAD_IP``: this node's address on rank 0, else rank 0's name
    resolved through the VPC's internal DNS, as ``names`` lists the group's
    instances. Docker is installed for a container image when the boot image
    lacks it."""
    extra = {"SKYPLAN_NODE_RANK": str(rank)}
    if len(names) > 1:
        extra["SKYPLAN_NODE_NAMES"] = " ".join(names)
    head = shlex.quote(names[0]) if len(names) > 1 and rank else ""
    if head:  # the head's name resolves once its VM is up
        find_head = (f"for i in $(seq 1 90); do HEAD_IP=$(getent hosts {head} | awk '{{print $1; exit}}'); "
                     '[ -n "$HEAD_IP" ] && break; sleep 2; done')
    else:
        find_head = "HEAD_IP=$(hostname -I 2>/dev/null | awk '{print $1}')"
    docker = ("command -v docker >/dev/null || (apt-get update -q && apt-get install -yq docker.io)",)
    return boot_script(
        req, node_env(req, **extra), container_image=container_image, root=root,
        gpus=bool(gpus_of(req.placement.instance_type, req.accelerators)),
        exports=(find_head, f'echo "export SKYPLAN_HEAD_IP=$HEAD_IP" >> {root}/etc/skyplan/env'),
        before_steps=docker if container_image else ())


def scheduling(kind: str, pricing: str, gpu: bool) -> dict:
    if pricing == "spot":
        return {"provisioningModel": "SPOT", "instanceTerminationAction": "STOP" if kind == "service" else "DELETE",
                "automaticRestart": False, "onHostMaintenance": "TERMINATE"}
    out: dict[str, Any] = {"provisioningModel": "STANDARD", "automaticRestart": True}
    out["onHostMaintenance"] = "TERMINATE" if gpu else "MIGRATE"
    return out


def node_labels(req: LaunchRequest, rank: int, extra: Mapping[str, Any] | None = None) -> dict[str, str]:
    tags = {**{k: v for k, v in req.tags().items() if k.startswith(lab.PREFIX_TAG)}, TAG_RANK: str(rank), TAG_KIND: req.kind}
    if req.autostop:
        tags[TAG_AUTOSTOP] = format_window(req.autostop)
    if req.placement.pricing == "reserved":
        tags[TAG_PRICING] = "reserved"
    return {**lab.to_labels({str(k): str(v) for k, v in dict(extra or {}).items()}),
            **lab.user_labels(req.user_tags), **lab.to_labels(tags)}


def instance_body(req: LaunchRequest, name: str, rank: int, *, project: str,
                  settings: Mapping[str, Any], names: list[str] | None = None) -> dict:
    """The Compute Engine ``Instance`` (REST JSON) of node ``rank`` of the group
    (``names``: every node's name, default ``instance_names(req)``)."""
    names = names if names is not None else instance_names(req)
    p = req.placement
    zone = p.zone or ""
    gpus = gpus_of(p.instance_type, req.accelerators or p.accelerators)
    container = req.image if req.image and not is_gce_image(req.image) else None
    disk: dict[str, Any] = {"sourceImage": boot_image(req, settings.get("image"))}
    if req.disk_gb:
        disk["diskSizeGb"] = str(int(req.disk_gb))
    nic: dict[str, Any] = {"network": str(settings.get("network") or "global/networks/default"),
                           "accessConfigs": [{"name": "External NAT", "type": "ONE_TO_ONE_NAT"}]}
    subnet = settings.get("subnetwork")
    if isinstance(subnet, Mapping):
        subnet = subnet.get(zone) or subnet.get(p.region)
    if subnet:
        subnet = str(subnet)
        nic["subnetwork"] = subnet if "/" in subnet else f"regions/{p.region}/subnetworks/{subnet}"
    body: dict[str, Any] = {
        "name": name,
        "machineType": f"zones/{zone}/machineTypes/{p.instance_type}",
        "labels": node_labels(req, rank, settings.get("labels")),
        "disks": [{"boot": True, "autoDelete": True, "initializeParams": disk}],
        "networkInterfaces": [nic],
        "metadata": {"items": [{"key": "startup-script",
                                "value": startup_script(req, rank, container, names=tuple(names))}]},
        "scheduling": scheduling(req.kind, p.pricing, gpus is not None),
    }
    if gpus and gpus[0] in ATTACHED_GPU and p.instance_type.startswith("n1-"):
        body["guestAccelerators"] = [{
            "acceleratorType": f"projects/{project}/zones/{zone}/acceleratorTypes/{ATTACHED_GPU[gpus[0]]}",
            "acceleratorCount": gpus[1]}]
    if req.reservation_id:  # into the fleet's specific reservation
        from skyplan.providers.gcp.reservations import affinity

        body["reservationAffinity"] = affinity(req.reservation_id)
    if settings.get("service_account"):
        body["serviceAccounts"] = [{"email": str(settings["service_account"]),
                                    "scopes": ["https://www.googleapis.com/auth/cloud-platform"]}]
    return body


__all__ = ["TAG_KIND", "TAG_PRICING", "region_of", "gpus_of", "boot_image", "instance_names",
           "startup_script", "scheduling", "instance_body", "DEFAULT_GPU_IMAGE", "DEFAULT_CPU_IMAGE"]

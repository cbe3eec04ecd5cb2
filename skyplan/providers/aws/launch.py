"""What one ``run_instances`` call asks for, built without I/O from a LaunchRequest.

Spot market options: a job node is a *one-time* request that terminates on
interruption (a job restarted on a fresh node would rerun from scratch, so the
node is simply lost and refresh reports the group gone; apply re-places it).
A service node is a *persistent* request that *stops* on interruption: the
instance keeps its id, disk and tags and restarts when capacity returns, so
state keeps matching what runs and nothing needs re-planning.

The user-data script writes the workload's env to ``/etc/skyplan/env``, runs
``setup`` then ``run`` (inside ``docker run`` when the workload names a
container image rather than an AMI), logs to ``/var/log/skyplan/``, and prints
``skyplan: exit_code=N`` to the console. A job node powers itself off when
``run`` ends; a service node keeps running.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from skyplan.providers.base import TAG_AUTOSTOP, TAG_RANK, LaunchRequest
from skyplan.providers.bootscript import boot_script, format_window, node_env

TAG_KIND = "skyplan:kind"
TAG_PRICING = "skyplan:pricing"
_FAMILY = re.compile(r"^(?P<series>[a-z]+)(?P<gen>\d+)(?P<suffix>[a-z-]*)\.")

# SSM public parameters naming the current AWS Deep Learning Base AMI (GPU driver
# preinstalled) per architecture; resolved once per region when no image is set.
DEFAULT_IMAGE_PARAMETERS = {
    "x86_64": "/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id",
    "arm64": "/aws/service/deeplearning/ami/arm64/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id",
}


def arch_of(instance_type: str) -> str:
    """``m7g.large`` / ``g5g.xlarge`` -> arm64 (Graviton); everything else x86_64."""
    m = _FAMILY.match(instance_type)
    if m and "g" in m.group("suffix") and m.group("series") not in ("p", "inf", "trn", "dl"):
        return "arm64"
    return "x86_64"


def is_ami(image: str | None) -> bool:
    return bool(image) and str(image).startswith(("ami-", "resolve:ssm:"))


def configured_image(settings_image: Any, region: str, arch: str) -> str | None:
    """The AMI the provider block names for ``region``/``arch``, if any.

    ``image_id = "ami-…"`` applies everywhere; a map is keyed by ``region``,
    ``region/arch`` or ``arch``."""
    if isinstance(settings_image, str):
        return settings_image
    if isinstance(settings_image, Mapping):
        for key in (f"{region}/{arch}", region, arch):
            if settings_image.get(key):
                return str(settings_image[key])
    return None


def market_options(kind: str, pricing: str) -> dict | None:
    if pricing != "spot":
        return None
    if kind == "service":
        spot = {"SpotInstanceType": "persistent", "InstanceInterruptionBehavior": "stop"}
    else:
        spot = {"SpotInstanceType": "one-time", "InstanceInterruptionBehavior": "terminate"}
    return {"MarketType": "spot", "SpotOptions": spot}


def user_data(req: LaunchRequest, container_image: str | None = None, *, root: str = "",
              metadata: str = "http://169.254.169.254") -> str:
    """The boot script for every node of the group (rank = AMI launch index, read from
    the instance metadata service; see providers/bootscript.py for the rest)."""
    return boot_script(
        req, node_env(req), container_image=container_image, gpus=bool(req.accelerators), console="/dev/console",
        root=root, passed=("SKYPLAN_NODE_RANK",), once=True,
        discover=(f"TOKEN=$(curl -sX PUT {metadata}/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')",
                  f"RANK=$(curl -s -H \"X-aws-ec2-metadata-token: $TOKEN\" {metadata}/latest/meta-data/ami-launch-index)"),
        exports=(f'echo "export SKYPLAN_NODE_RANK=$RANK" >> {root}/etc/skyplan/env',))


def name_tag(req: LaunchRequest) -> str:
    return f"{req.address}#{req.group}" if req.group else req.address


def run_instances_args(req: LaunchRequest, *, image_id: str, settings: Mapping[str, Any],
                       client_token: str, root_device: str = "/dev/sda1") -> dict:
    """The keyword arguments of ``ec2.run_instances`` for one node group;
    ``disk_gb`` sizes ``root_device`` (the image's root device name)."""
    p = req.placement
    extra = {str(k): str(v) for k, v in dict(settings.get("tags") or {}).items()}
    tags = {**extra, **req.tags(), "Name": name_tag(req), TAG_KIND: req.kind, TAG_PRICING: p.pricing}
    if req.autostop:
        tags[TAG_AUTOSTOP] = format_window(req.autostop)
    tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
    container = req.image if req.image and not is_ami(req.image) else None
    args: dict[str, Any] = {
        "ImageId": image_id,
        "InstanceType": p.instance_type,
        "MinCount": p.nodes,
        "MaxCount": p.nodes,
        "UserData": user_data(req, container),
        "ClientToken": client_token,
        "TagSpecifications": [
            {"ResourceType": "instance", "Tags": tag_list},
            {"ResourceType": "volume", "Tags": tag_list},
        ],
        # A job powers itself off when done, a service's idle timer (autostop) when idle:
        # stop keeps its disk and logs (a one-time spot node cannot stop).
        "InstanceInitiatedShutdownBehavior": "stop" if (req.kind == "service" or p.pricing != "spot") else "terminate",
    }
    if p.zone:
        args["Placement"] = {"AvailabilityZone": p.zone}
    subnet = settings.get("subnet_id")
    if isinstance(subnet, Mapping):
        subnet = subnet.get(p.zone or "") or subnet.get(p.region)
    if subnet:
        args["SubnetId"] = str(subnet)
        args.pop("Placement", None)  # the subnet fixes the zone
    groups = settings.get("security_group_ids")
    if groups:
        args["SecurityGroupIds"] = [groups] if isinstance(groups, str) else [str(g) for g in groups]
    if settings.get("key_name"):
        args["KeyName"] = str(settings["key_name"])
    if settings.get("instance_profile"):
        args["IamInstanceProfile"] = {"Name": str(settings["instance_profile"])}
    if req.disk_gb:
        args["BlockDeviceMappings"] = [{"DeviceName": root_device, "Ebs": {"VolumeSize": int(req.disk_gb),
                                                                            "VolumeType": "gp3",
                                                                            "DeleteOnTermination": True}}]
    market = market_options(req.kind, p.pricing)
    if market:
        args["InstanceMarketOptions"] = market
    if req.reservation_id:
        # into the fleet's capacity reservation: its type and zone, and no other capacity
        args["CapacityReservationSpecification"] = {
            "CapacityReservationTarget": {"CapacityReservationId": req.reservation_id}}
        args.pop("InstanceMarketOptions", None)
    return args


__all__ = ["TAG_KIND", "TAG_PRICING", "TAG_RANK", "arch_of", "is_ami", "configured_image",
           "market_options", "user_data", "run_instances_args", "DEFAULT_IMAGE_PARAMETERS"]

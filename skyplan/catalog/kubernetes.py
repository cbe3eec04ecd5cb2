"""How live Kubernetes node data becomes Offers.

The Kubernetes provider reads nodes from the cluster and hands them here as
``NodeInfo``; each node is one offer (instance type = node name) at a configured
price (default 0: the cluster is already paid for). The accelerator comes from
the first of the labels in ``ACCELERATOR_LABELS`` that names a known one; the
count from allocatable ``nvidia.com/gpu``. A node labelled as spot capacity
(``SPOT_LABELS``: Karpenter, EKS, GKE, AKS) is offered as spot, any other as on-demand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from skyplan.catalog.accelerators import CANONICAL, canonical
from skyplan.catalog.local import gpu_name
from skyplan.catalog.offer import Offer

ACCELERATOR_LABELS = ("skyplan.dev/accelerator", "nvidia.com/gpu.product",
                      "cloud.google.com/gke-accelerator")
GPU_RESOURCE = "nvidia.com/gpu"
# Labels that mark a node as spot (interruptible) capacity, with the value that does,
# as Karpenter, EKS, GKE and AKS set them (``skyplan.dev/pricing`` for anything else).
SPOT_LABELS = {"karpenter.sh/capacity-type": "spot", "eks.amazonaws.com/capacityType": "SPOT",
               "cloud.google.com/gke-spot": "true", "cloud.google.com/gke-preemptible": "true",
               "kubernetes.azure.com/scalesetpriority": "spot", "skyplan.dev/pricing": "spot"}
_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
          "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18, "m": 1e-3}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([A-Za-z]{0,2})$")


@dataclass(frozen=True)
class NodeInfo:
    """What the catalog needs to know about one cluster node."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    allocatable: Mapping[str, str] = field(default_factory=dict)  # Kubernetes quantities

    def to_json(self) -> dict:
        """What an offer needs of this node (the labels offers read, allocatable)."""
        keep = ACCELERATOR_LABELS + tuple(SPOT_LABELS) + ("kubernetes.io/arch", "topology.kubernetes.io/zone")
        return {"name": self.name, "labels": {k: v for k, v in self.labels.items() if k in keep},
                "allocatable": dict(self.allocatable)}

    @classmethod
    def from_json(cls, d: Mapping) -> "NodeInfo":
        return cls(name=str(d["name"]), labels=dict(d.get("labels") or {}),
                   allocatable=dict(d.get("allocatable") or {}))


def quantity(text: str | int | float | None) -> float:
    """A Kubernetes resource quantity (``3500m``, ``16Gi``, ``8``) as a number of base units."""
    if text is None:
        return 0.0
    if isinstance(text, (int, float)):
        return float(text)
    m = _QUANTITY.match(str(text).strip())
    if not m:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    number, unit = m.groups()
    if unit and unit not in _UNITS:
        raise ValueError(f"unknown unit in quantity {text!r}")
    return float(number) * (_UNITS[unit] if unit else 1.0)


def accelerator_of(labels: Mapping[str, str]) -> str | None:
    """The canonical accelerator a node's labels name (``NVIDIA-A100-SXM4-80GB`` -> ``A100-80GB``)."""
    for label in ACCELERATOR_LABELS:
        raw = labels.get(label)
        if not raw:
            continue
        name = canonical(raw) or gpu_name(raw.replace("-", " "))
        if name:
            return name
    return None


def spot_labels_of(labels: Mapping[str, str]) -> dict[str, str]:
    """The labels among a node's that mark it as spot capacity (``SPOT_LABELS``), as it spells them."""
    return {k: labels[k] for k, v in SPOT_LABELS.items() if str(labels.get(k, "")).lower() == v.lower()}


def is_spot(labels: Mapping[str, str]) -> bool:
    """Whether a node's labels mark it as spot capacity (``SPOT_LABELS``)."""
    return bool(spot_labels_of(labels))


def kubernetes_offer(node: NodeInfo, *, region: str = "cluster", price: float = 0.0,
                     provider: str = "kubernetes", spot_price: float | None = None) -> Offer | None:
    """One node as an Offer, or None when it reports no usable CPU. A spot node
    (``is_spot``) is offered as spot only, at ``spot_price`` (default ``price``);
    any other node as on-demand (and reserved) only."""
    try:
        cpus = quantity(node.allocatable.get("cpu"))
        mem = quantity(node.allocatable.get("memory")) / 2**30
        gpus = quantity(node.allocatable.get(GPU_RESOURCE))
    except ValueError:
        return None
    if cpus <= 0:
        return None
    accel = accelerator_of(node.labels) if gpus > 0 else None
    arch = node.labels.get("kubernetes.io/arch", "amd64")
    zone = node.labels.get("topology.kubernetes.io/zone") or None
    return Offer(
        provider=provider, region=region, zone=zone, instance_type=node.name,
        accelerator=accel, accelerator_count=gpus if accel else 0,
        accelerator_memory_gib=CANONICAL.get(accel) if accel else None,
        vcpus=round(cpus, 3), memory_gib=round(mem, 2),
        arch="arm64" if arch in ("arm64", "aarch64") else "x86_64",
        **({"on_demand": None, "spot": price if spot_price is None else spot_price, "reserved": None}
           if is_spot(node.labels) else {"on_demand": price, "spot": None, "reserved": price}),
        interruption_band=None,
    )


def node_prices(settings: Mapping | None) -> dict[str, float | None]:
    """The ``price`` and ``spot_price`` settings of a ``provider "kubernetes"`` block, as
    ``offers_from_nodes`` takes them (a spot node without ``spot_price`` costs ``price``)."""
    s = settings or {}
    spot = s.get("spot_price")
    return {"price": float(s.get("price", 0.0) or 0.0), "spot_price": None if spot is None else float(spot)}


def offers_from_nodes(nodes: Iterable[NodeInfo], price: float = 0.0, *, region: str = "cluster",
                      provider: str = "kubernetes", spot_price: float | None = None) -> list[Offer]:
    """Offers for every schedulable node (see ``kubernetes_offer``)."""
    out = []
    for node in nodes:
        offer = kubernetes_offer(node, region=region, price=price, provider=provider, spot_price=spot_price)
        if offer is not None:
            out.append(offer)
    return out

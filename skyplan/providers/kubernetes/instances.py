"""Jobs and Deployments as skyplan Instances (one per node; pure).

An instance id is ``NAMESPACE/job/NAME/RANK`` or ``NAMESPACE/deployment/NAME/RANK``:
stable for the object's life, whatever happens to individual pods.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping, Sequence

from skyplan.providers.base import PREEMPTED, TAG_ADDRESS, TAG_GROUP, TAG_LINEAGE, Instance
from skyplan.providers.kubernetes.manifests import (
    ANN_ADDRESS, ANN_INSTANCE_TYPE, ANN_LINEAGE, ANN_NODES, ANN_PRICING, LABEL_GROUP, LABEL_NAME, TAG_PREFIX,
    stable_name,
)

KIND_OF_PLURAL = {"jobs": "job", "deployments": "deployment"}


def _indexes(text: str | None) -> set[int]:
    """``"0,2-4"`` -> {0, 2, 3, 4}."""
    out: set[int] = set()
    for part in (text or "").split(","):
        if "-" in part:
            a, b = part.split("-", 1)
            out.update(range(int(a), int(b) + 1))
        elif part.strip():
            out.add(int(part))
    return out


def job_state(obj: Mapping[str, Any], rank: int) -> str:
    status = obj.get("status") or {}
    conditions = {c.get("type") for c in status.get("conditions") or () if c.get("status") == "True"}
    if "Complete" in conditions or "SuccessCriteriaMet" in conditions or rank in _indexes(status.get("completedIndexes")):
        return "succeeded"
    if "Failed" in conditions or "FailureTarget" in conditions:
        return "failed"
    if (obj.get("spec") or {}).get("suspend"):
        return "stopped"
    return "running" if (status.get("ready") or 0) > 0 else "pending"


def deployment_state(obj: Mapping[str, Any], rank: int) -> str:
    """A node beyond the Deployment's replicas (scaled to 0, or down by hand) is
    stopped: refresh reports it and restoring it scales back to skyplan's count."""
    want = (obj.get("spec") or {}).get("replicas", 1)
    if rank >= want:
        return "stopped"
    available = (obj.get("status") or {}).get("availableReplicas") or 0
    return "running" if rank < available else "pending"


def to_instances(obj: Mapping[str, Any], plural: str, *, provider: str, region: str) -> list[Instance]:
    meta = obj.get("metadata") or {}
    ann = meta.get("annotations") or {}
    labels = meta.get("labels") or {}
    kind = KIND_OF_PLURAL[plural]
    spec = obj.get("spec") or {}
    nodes = int(ann.get(ANN_NODES) or (spec.get("completions") if kind == "job" else spec.get("replicas")) or 1)
    address, lineage = ann.get(ANN_ADDRESS, ""), ann.get(ANN_LINEAGE, "")
    group = int(labels.get(LABEL_GROUP) or 0)
    tags = {TAG_ADDRESS: address, TAG_LINEAGE: lineage, TAG_GROUP: str(group)} if address else {}
    tags.update({k[len(TAG_PREFIX):]: v for k, v in ann.items() if k.startswith(TAG_PREFIX)})
    ns, name = meta.get("namespace", "default"), meta.get("name", "")
    state_of = job_state if kind == "job" else deployment_state
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or [{}]
    has_ports = bool(containers[0].get("ports"))

    def dns_name(rank: int) -> dict:
        """The name other pods reach this node at, where a Service makes one: a multi-node
        job's headless Service names each pod, a service with ports has its ClusterIP."""
        if kind == "job" and nodes > 1:
            return {"dns_name": f"{name}-{rank}.{name}.{ns}.svc"}
        if kind != "job" and has_ports:
            return {"dns_name": f"{name}.{ns}.svc", "service": f"{stable_name(address, lineage)}.{ns}.svc"}
        return {}

    return [Instance(
        provider=provider, id=f"{ns}/{kind}/{name}/{rank}", address=address, lineage=lineage, group=group,
        rank=rank, region=region, zone=None, instance_type=ann.get(ANN_INSTANCE_TYPE, ""),
        pricing=ann.get(ANN_PRICING, "on_demand"), state=state_of(obj, rank), tags=tags,
        attributes={"namespace": ns, "kind": kind, "name": name, "nodes": nodes, **dns_name(rank)},
    ) for rank in range(nodes)]


def preempted_spot(insts: Sequence[Instance], pods: Sequence[Mapping[str, Any]]) -> list[Instance]:
    """A spot Deployment's node whose pod is pending on no node is preempted: its spot
    node was taken back (the pod it ran went with the node) and no spot node has room
    for it now. Drift repair replaces it (on-demand under ``fallback_on_demand``)."""
    placed = {((p.get("metadata") or {}).get("labels") or {}).get(LABEL_NAME)
              for p in pods if (p.get("spec") or {}).get("nodeName")
              and (p.get("status") or {}).get("phase") in ("Pending", "Running")}
    return [replace(i, state=PREEMPTED) if i.pricing == "spot" and i.state == "pending"
            and i.attributes.get("kind") == "deployment" and i.attributes.get("name") not in placed else i
            for i in insts]


def parse_id(provider_id: str, default_ns: str) -> tuple[str, str, str, int]:
    """``[NS/]KIND/NAME[/RANK]`` -> (ns, kind, name, rank); ValueError when malformed."""
    parts = provider_id.strip("/").split("/")
    if parts and parts[-1].isdigit():
        rank, parts = int(parts[-1]), parts[:-1]
    else:
        rank = 0
    if len(parts) == 2:
        parts = [default_ns, *parts]
    if len(parts) != 3 or parts[1] not in ("job", "deployment"):
        raise ValueError(provider_id)
    return parts[0], parts[1], parts[2], rank

"""The Kubernetes objects one node group becomes, built without I/O.

A job group is a batch/v1 Job in Indexed completion mode with
``completions = parallelism = nodes`` (each pod's rank is its completion index)
plus, when ``nodes > 1``, a headless Service named like the Job so pods reach
each other as ``NAME-RANK.NAME``. A service group is an apps/v1 Deployment with
``replicas = nodes`` plus a ClusterIP Service when it has ports.

Every object carries the labels ``skyplan.dev/address`` (the address made
label-safe), ``skyplan.dev/lineage``, ``skyplan.dev/group`` and
``skyplan.dev/name``; the real address and the placement are annotations.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Mapping

from skyplan.providers.base import TAG_ADDRESS, TAG_GROUP, TAG_LINEAGE, LaunchRequest

LABEL_ADDRESS = "skyplan.dev/address"
LABEL_LINEAGE = "skyplan.dev/lineage"
LABEL_GROUP = "skyplan.dev/group"
LABEL_NAME = "skyplan.dev/name"
ANN_ADDRESS = "skyplan.dev/address"
ANN_LINEAGE = "skyplan.dev/lineage"
ANN_INSTANCE_TYPE = "skyplan.dev/instance-type"
ANN_PRICING = "skyplan.dev/pricing"
ANN_NODES = "skyplan.dev/nodes"
ANN_KIND = "skyplan.dev/kind"
TAG_PREFIX = "tags.skyplan.dev/"
GPU = "nvidia.com/gpu"
CONTAINER = "main"
DEFAULT_IMAGE = "python:3.11-slim"
INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"


def label_value(text: str) -> str:
    """Any string as a valid label value (<= 63 chars, alphanumeric at both ends)."""
    value = re.sub(r"[^A-Za-z0-9_.-]+", "_", text)
    if len(value) > 63:
        value = value[:54] + "-" + hashlib.sha1(text.encode()).hexdigest()[:8]
    return value.strip("_.-")


def label_key(text: str) -> str:
    """A user tag key as the name part of a qualified annotation key."""
    return label_value(text) or "tag"


def object_name(address: str, lineage: str, group: int, token: str = "") -> str:
    """A DNS-1035 label (valid for Jobs, Deployments and Services), unique per lineage/address/group
    and launch (``token``, the same for every retry of one launch, so a retried create
    finds its object, while a replacement launched before its old group is deleted gets
    a name of its own), short enough (<= 50) that an Indexed Job's pod hostnames
    (NAME-INDEX) stay valid labels."""
    digest = hashlib.sha1(f"{lineage}\0{address}\0{group}\0{token}".encode()).hexdigest()[:8]
    slug = re.sub(r"[^a-z0-9]+", "-", address.lower().removeprefix("workload.")).strip("-")[:30].strip("-")
    return f"sp-{slug}-{group}-{digest}" if slug else f"sp-{group}-{digest}"


def labels(req: LaunchRequest, name: str) -> dict[str, str]:
    return {LABEL_ADDRESS: label_value(req.address), LABEL_LINEAGE: label_value(req.lineage),
            LABEL_GROUP: str(req.group), LABEL_NAME: name}


def user_labels(req: LaunchRequest) -> dict[str, str]:
    """The user's tags as labels (label-key and label-value rules applied; the exact
    values are kept in ``tags.skyplan.dev/`` annotations, which refresh reads)."""
    return {label_key(k): label_value(v) for k, v in req.user_tags.items() if not k.startswith("skyplan:")}


def annotations(req: LaunchRequest) -> dict[str, str]:
    p = req.placement
    user = {TAG_PREFIX + label_key(k): str(v) for k, v in req.user_tags.items() if not k.startswith("skyplan:")}
    return {**user, ANN_ADDRESS: req.address, ANN_LINEAGE: req.lineage, ANN_INSTANCE_TYPE: p.instance_type,
            ANN_PRICING: p.pricing, ANN_NODES: str(p.nodes), ANN_KIND: req.kind}


def gpu_count(accelerators: str | None) -> int:
    if not accelerators or ":" not in accelerators:
        return 1 if accelerators else 0
    return int(float(accelerators.rsplit(":", 1)[1]))


def cpu_quantity(cpus: float) -> str:
    return str(int(cpus)) if float(cpus).is_integer() else f"{int(round(cpus * 1000))}m"


def env_list(env: Mapping[str, str]) -> list[dict]:
    return [{"name": k, "value": str(v)} for k, v in sorted(env.items())]


def container(req: LaunchRequest, name: str, default_image: str) -> dict:
    script = "\n".join(s for s in ("set -e", req.setup, req.run) if s) if (req.setup or req.run) else "sleep infinity"
    env = {**dict(req.env), "SKYPLAN_ADDRESS": req.address, "SKYPLAN_GROUP": str(req.group),
           "SKYPLAN_NUM_NODES": str(req.placement.nodes)}
    if req.kind == "job" and req.placement.nodes > 1:
        env["SKYPLAN_HEAD_HOST"] = f"{name}-0.{name}"
    env_items = env_list(env)
    if req.kind == "job":
        env_items.append({"name": "SKYPLAN_NODE_RANK", "valueFrom": {
            "fieldRef": {"fieldPath": f"metadata.annotations['{INDEX_ANNOTATION}']"}}})
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}
    if req.cpus:
        requests["cpu"] = cpu_quantity(req.cpus)
    if req.memory_gib:
        requests["memory"] = f"{int(req.memory_gib * 1024)}Mi"
    gpus = gpu_count(req.accelerators)
    if gpus:
        requests[GPU] = limits[GPU] = str(gpus)
    out: dict[str, Any] = {"name": CONTAINER, "image": req.image or default_image,
                           "command": ["/bin/bash", "-c", script], "env": env_items,
                           "resources": {k: v for k, v in (("requests", requests), ("limits", limits)) if v}}
    if req.ports:
        out["ports"] = [{"containerPort": int(p), "name": f"p-{int(p)}"} for p in req.ports]
    return out


def pinned_node(req: LaunchRequest) -> str | None:
    """The node a group placed on a live-node fleet was packed onto (its placement's
    instance type names it); None for any other placement."""
    p = req.placement
    return p.instance_type if p.fleet and p.instance_type and not p.instance_type.startswith("fleet:") else None


def capacity_expressions(pricing: str, spot_labels: Mapping[str, str]) -> list[list[dict]]:
    """The node-selector expressions that keep a group on the capacity its pricing
    names, given the spot labels (key -> value) the cluster's nodes carry: spot, any
    of them (one alternative each); on-demand, none of them. [] when the cluster
    has no spot nodes (every node is on-demand)."""
    if not spot_labels:
        return []
    if pricing == "spot":
        return [[{"key": k, "operator": "In", "values": [v]}] for k, v in sorted(spot_labels.items())]
    return [[{"key": k, "operator": "NotIn", "values": [v]} for k, v in sorted(spot_labels.items())]]


def node_affinity(choices: Mapping[str, list[str]], node: str | None = None,
                  capacity: list[list[dict]] | None = None) -> dict | None:
    """Require a node whose label ``key`` has one of the values (any key will do),
    that is of the capacity (``capacity_expressions``: each alternative is ANDed with
    each choice), and when ``node`` is given, that very node (``matchFields`` on
    ``metadata.name``), so the scheduler puts the pods where the plan packed them."""
    terms: list[dict] = [{"matchExpressions": [{"key": k, "operator": "In", "values": sorted(set(v))}]}
                         for k, v in sorted(choices.items()) if v]
    if capacity:
        terms = [{"matchExpressions": t.get("matchExpressions", []) + alt} for t in (terms or [{}]) for alt in capacity]
    if node:
        pin = [{"key": "metadata.name", "operator": "In", "values": [node]}]
        terms = [{**t, "matchFields": pin} for t in terms] or [{"matchFields": pin}]
    if not terms:
        return None
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}


def workload_objects(req: LaunchRequest, *, default_image: str = DEFAULT_IMAGE,
                     accelerator_labels: Mapping[str, list[str]] | None = None,
                     backoff_limit: int = 0, extra_labels: Mapping[str, str] | None = None,
                     spot_labels: Mapping[str, str] | None = None) -> list[tuple[str, dict]]:
    """``[(plural, body), ...]`` to create, in order (Service first, so DNS exists).
    ``extra_labels`` (the provider block's ``labels``) go on every object and pod;
    ``spot_labels`` (what marks the cluster's spot nodes) keep the pods on the
    capacity of their pricing."""
    name = object_name(req.address, req.lineage, req.group, req.token)
    lab = {**{str(k): str(v) for k, v in (extra_labels or {}).items()}, **user_labels(req), **labels(req, name)}
    ann, nodes = annotations(req), req.placement.nodes
    meta = {"name": name, "labels": lab, "annotations": ann}
    pod_spec: dict[str, Any] = {"containers": [container(req, name, default_image)]}
    affinity = node_affinity(accelerator_labels or {}, pinned_node(req),
                             capacity_expressions(req.placement.pricing, spot_labels or {}))
    if affinity:
        pod_spec["affinity"] = affinity
    out: list[tuple[str, dict]] = []
    if req.kind == "job":
        pod_spec["restartPolicy"] = "Never"
        if nodes > 1:
            pod_spec["subdomain"] = name
            out.append(("services", {"apiVersion": "v1", "kind": "Service", "metadata": dict(meta),
                                     "spec": {"clusterIP": "None", "selector": {LABEL_NAME: name},
                                              "publishNotReadyAddresses": True}}))
        out.append(("jobs", {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": {
            "completionMode": "Indexed", "completions": nodes, "parallelism": nodes,
            "backoffLimit": backoff_limit,
            "template": {"metadata": {"labels": lab, "annotations": ann}, "spec": pod_spec}}}))
    else:
        if req.ports:
            out.append(("services", service_body(meta, name, req.ports)))
        out.append(("deployments", {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": {
            "replicas": nodes, "selector": {"matchLabels": {LABEL_NAME: name}},
            "template": {"metadata": {"labels": lab, "annotations": ann}, "spec": pod_spec}}}))
    return out


def service_body(meta: Mapping[str, Any], name: str, ports) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": dict(meta),
            "spec": {"selector": {LABEL_NAME: name},
                     "ports": [{"name": f"p-{int(p)}", "port": int(p), "targetPort": int(p)} for p in ports]}}


def stable_name(address: str, lineage: str) -> str:
    """The one Service name of a service workload, across its replica groups."""
    digest = hashlib.sha1(f"{lineage}\0{address}".encode()).hexdigest()[:8]
    slug = re.sub(r"[^a-z0-9]+", "-", address.lower().removeprefix("workload.")).strip("-")[:30].strip("-")
    return f"sp-{slug}-{digest}" if slug else f"sp-{digest}"


def stable_service(req: LaunchRequest, extra_labels: Mapping[str, str] | None = None) -> dict:
    """The Service that gives every replica group of a service one stable name: it selects
    the pods of the address and lineage, whichever group they belong to."""
    selector = {LABEL_ADDRESS: label_value(req.address), LABEL_LINEAGE: label_value(req.lineage)}
    meta = {"name": stable_name(req.address, req.lineage),
            "labels": {**{str(k): str(v) for k, v in (extra_labels or {}).items()}, **user_labels(req), **selector},
            "annotations": {ANN_ADDRESS: req.address, ANN_LINEAGE: req.lineage, ANN_KIND: "service"}}
    body = service_body(meta, meta["name"], req.ports)
    body["spec"]["selector"] = selector
    return body


def tag_patch(tags: Mapping[str, Any]) -> dict:
    """Metadata patch for tags: skyplan's own tags become its labels and annotations
    (so an imported object is found by lineage); a user's tag its label (label rules
    applied) and its ``tags.skyplan.dev/`` annotation; None removes both. Only the
    object's own metadata: its pods keep the labels they started with, since
    changing a pod template would restart them."""
    labels: dict[str, Any] = {}
    ann: dict[str, Any] = {}
    for key, value in tags.items():
        text = None if value is None else str(value)
        if key == TAG_ADDRESS:
            labels[LABEL_ADDRESS] = None if text is None else label_value(text)
            ann[ANN_ADDRESS] = text
        elif key == TAG_LINEAGE:
            labels[LABEL_LINEAGE] = None if text is None else label_value(text)
            ann[ANN_LINEAGE] = text
        elif key == TAG_GROUP:
            labels[LABEL_GROUP] = text
        elif key.startswith("skyplan:"):
            continue  # rank is the position in the object, not a tag
        else:  # a user's tag: its label (as at launch) and its exact value
            labels[label_key(key)] = None if text is None else label_value(text)
            ann[TAG_PREFIX + label_key(key)] = text
    return {k: v for k, v in (("labels", labels), ("annotations", ann)) if v}

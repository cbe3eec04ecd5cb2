"""Waiting for a node group's pods: watch them until all run, or give up with a
capacity error when they stay Unschedulable (so apply fails over elsewhere)."""

from __future__ import annotations

import math
import time

from skyplan.errors import CapacityError
from skyplan.providers.base import LaunchRequest
from skyplan.providers.kubernetes import manifests as mf
from skyplan.providers.kubernetes.errors import api_status

PHASE_STATE = {"Pending": "pending", "Running": "running", "Succeeded": "succeeded", "Failed": "failed"}


def pod_state(pods: list[dict], rank: int, kind: str) -> str:
    """A node's state from the pods just watched (the Job/Deployment status may lag)."""
    if kind == "job":
        pods = [p for p in pods if (p["metadata"].get("labels") or {}).get(
            "batch.kubernetes.io/job-completion-index", str(rank)) == str(rank)]
    else:
        pods = sorted(pods, key=lambda p: p["metadata"]["name"])[rank:rank + 1]
    phases = [PHASE_STATE.get((p.get("status") or {}).get("phase"), "pending") for p in pods]
    for state in ("running", "succeeded", "failed"):
        if state in phases:
            return state
    return "pending"


def wait_ready(prov, plural: str, name: str, req: LaunchRequest) -> tuple[dict, list[dict]]:
    """Watch the group's pods until all run; give up on lasting Unschedulable pods."""
    from kubernetes import watch
    from kubernetes.client.exceptions import ApiException

    core, _, _ = prov._apis()
    selector = f"{mf.LABEL_NAME}={name}"
    started = time.monotonic()
    unschedulable_since: float | None = None
    nodes = req.placement.nodes
    with prov._guard(f"waiting for {name}"):
        listing = prov._call(core.list_namespaced_pod, prov.namespace, label_selector=selector)
    pods = {p["metadata"]["name"]: p for p in listing.get("items", [])}
    rv = listing.get("metadata", {}).get("resourceVersion")
    while True:
        phases = [p.get("status", {}).get("phase") for p in pods.values()]
        done = sum(ph in ("Running", "Succeeded", "Failed") for ph in phases)
        if done >= nodes:
            with prov._guard(f"reading {name}"):
                return prov._call(prov._method("read", plural), name, prov.namespace), list(pods.values())
        stuck = [p for p in pods.values() if any(
            c.get("type") == "PodScheduled" and c.get("status") == "False" and c.get("reason") == "Unschedulable"
            for c in p.get("status", {}).get("conditions") or ())]
        now = time.monotonic()
        unschedulable_since = (unschedulable_since or now) if stuck else None
        if unschedulable_since is not None and now - unschedulable_since >= prov.unschedulable_timeout:
            why = stuck[0]["status"]["conditions"][0].get("message", "") if stuck else ""
            raise CapacityError(f"{prov.name}: pods of {req.address} unschedulable in {prov.region} for "
                                f"{prov.unschedulable_timeout:.0f}s: {why}", scope="region", provider=prov.name)
        if now - started >= prov.launch_timeout:
            raise CapacityError(f"{prov.name}: {req.address} not running after {prov.launch_timeout:.0f}s "
                                f"({done}/{nodes} pods started)", scope="region", provider=prov.name)
        limit = prov.launch_timeout - (now - started)
        if unschedulable_since is not None:
            limit = min(limit, prov.unschedulable_timeout - (now - unschedulable_since))
        w = watch.Watch()
        with prov._guard(f"watching {name}"):
            try:
                events = w.stream(core.list_namespaced_pod, prov.namespace, label_selector=selector,
                                  resource_version=rv, timeout_seconds=max(1, math.ceil(limit)),
                                  deserialize=False)
                for event in events:
                    obj = event["object"]
                    rv = obj["metadata"].get("resourceVersion", rv)
                    if event["type"] == "DELETED":
                        pods.pop(obj["metadata"]["name"], None)
                    else:
                        pods[obj["metadata"]["name"]] = obj
                    w.stop()  # re-evaluate after each event
            except ApiException as exc:
                if api_status(exc) != 410:
                    raise
                # The resourceVersion expired: list again and watch from there.
                listing = prov._call(core.list_namespaced_pod, prov.namespace, label_selector=selector)
                pods = {p["metadata"]["name"]: p for p in listing.get("items", [])}
                rv = listing.get("metadata", {}).get("resourceVersion")
            finally:
                w.stop()

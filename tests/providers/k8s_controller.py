"""What the emulated cluster's controllers and scheduler do, one reconcile pass at a
time (called with the emulator's lock held): Jobs and Deployments get pods, pods
get scheduled onto nodes that fit or are marked Unschedulable, statuses follow,
and objects whose owner is gone are garbage-collected."""

from __future__ import annotations

import copy
import json
import time
import uuid

from kubernetes.utils import parse_quantity

GPU = "nvidia.com/gpu"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def admit(emu, plural: str, body: dict) -> dict:
    """Defaults the API server fills in on create."""
    obj = copy.deepcopy(body)
    meta = obj["metadata"]
    meta["uid"] = str(uuid.uuid4())
    meta["generation"] = 1
    spec = obj.setdefault("spec", {})
    if plural == "jobs":
        uid = meta["uid"]
        labels = spec["template"].setdefault("metadata", {}).setdefault("labels", {})
        labels.update({"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": meta["name"],
                       "controller-uid": uid, "job-name": meta["name"]})
        spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
        spec.setdefault("completions", 1)
        spec.setdefault("parallelism", 1)
        spec.setdefault("backoffLimit", 6)
        spec.setdefault("completionMode", "NonIndexed")
        spec.setdefault("suspend", False)
        obj["status"] = {}
    elif plural == "deployments":
        spec.setdefault("replicas", 1)
        obj["status"] = {"replicas": 0, "readyReplicas": 0, "availableReplicas": 0, "updatedReplicas": 0}
    elif plural == "services":
        if spec.get("clusterIP") != "None":
            spec["clusterIP"] = f"10.96.{len(emu.objects) % 250}.{(len(emu.objects) // 250) % 250 + 1}"
        spec.setdefault("type", "ClusterIP")
        obj["status"] = {"loadBalancer": {}}
    return obj


def on_spec_change(emu, plural: str, old: dict, new: dict) -> None:
    """A changed pod template rolls a Deployment's pods (here: all at once)."""
    if plural == "deployments" and old["spec"].get("template") != new["spec"].get("template"):
        for pod in _owned(emu, old):
            emu.put("pods", pod["metadata"]["namespace"], pod, "DELETED")


def delete(emu, plural: str, ns: str, obj: dict, policy: str) -> dict:
    if policy == "Orphan":
        for pod in _owned(emu, obj):
            pod["metadata"].pop("ownerReferences", None)
            emu.put("pods", ns, pod, "MODIFIED")
    if policy == "Foreground" and plural in ("jobs", "deployments") and _owned(emu, obj):
        obj["metadata"]["deletionTimestamp"] = _now()
        obj["metadata"]["finalizers"] = ["foregroundDeletion"]
        return json.loads(json.dumps(emu.put(plural, ns, obj, "MODIFIED")))
    emu.put(plural, ns, obj, "DELETED")
    return json.loads(json.dumps(obj))


def finish_pod(emu, pod: dict, exit_code: int) -> None:
    if pod["status"].get("phase") in ("Succeeded", "Failed"):
        return
    pod["status"]["phase"] = "Succeeded" if exit_code == 0 else "Failed"
    pod["status"]["containerStatuses"] = [{"name": c["name"], "ready": False, "restartCount": 0,
                                           "image": c["image"], "imageID": "", "state": {"terminated": {
                                               "exitCode": exit_code, "finishedAt": _now(),
                                               "reason": "Completed" if exit_code == 0 else "Error"}}}
                                          for c in pod["spec"]["containers"]]
    emu.put("pods", pod["metadata"]["namespace"], pod, "MODIFIED")


def _owned(emu, owner: dict) -> list[dict]:
    uid = owner["metadata"]["uid"]
    return [o for (p, _, _), o in list(emu.objects.items()) if p == "pods"
            and any(r.get("uid") == uid for r in o["metadata"].get("ownerReferences") or ())]


def _new_pod(emu, owner: dict, index: int | None) -> None:
    ns, spec = owner["metadata"]["namespace"], owner["spec"]["template"]
    meta = copy.deepcopy(spec.get("metadata") or {})
    base = owner["metadata"]["name"]
    meta["name"] = f"{base}-{index}-{uuid.uuid4().hex[:5]}" if index is not None else f"{base}-{uuid.uuid4().hex[:10]}"
    meta["ownerReferences"] = [{"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": base,
                                "uid": owner["metadata"]["uid"], "controller": True}]
    if index is not None:
        meta.setdefault("labels", {})["batch.kubernetes.io/job-completion-index"] = str(index)
        meta.setdefault("annotations", {})["batch.kubernetes.io/job-completion-index"] = str(index)
    pod_spec = copy.deepcopy(spec["spec"])
    if index is not None and pod_spec.get("subdomain"):
        pod_spec["hostname"] = f"{base}-{index}"
    pod = {"metadata": meta, "spec": pod_spec,
           "status": {"phase": "Pending", "conditions": [], "startTime": _now()}}
    emu.put("pods", ns, pod, "ADDED")


def _requests(pod: dict) -> dict[str, float]:
    total: dict[str, float] = {}
    for c in pod["spec"]["containers"]:
        res = c.get("resources") or {}
        for name, qty in {**(res.get("limits") or {}), **(res.get("requests") or {})}.items():
            total[name] = total.get(name, 0.0) + float(parse_quantity(qty))
    return total


def _affinity_ok(pod: dict, labels: dict, name: str = "") -> bool:
    """Required node affinity: terms ORed; within one, ``matchExpressions`` on labels
    and ``matchFields`` on ``metadata.name`` ANDed."""
    terms = (((pod["spec"].get("affinity") or {}).get("nodeAffinity") or {})
             .get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms")
    if not terms:
        return True
    for term in terms:
        ok = True
        for e in term.get("matchExpressions") or ():
            have = labels.get(e["key"])
            op = e["operator"]
            if (op == "In" and have not in e.get("values", ())) or (op == "NotIn" and have in e.get("values", ())) \
                    or (op == "Exists" and have is None) or (op == "DoesNotExist" and have is not None):
                ok = False
        for f in term.get("matchFields") or ():
            if f["key"] != "metadata.name" or (f["operator"] == "In") != (name in f.get("values", ())):
                ok = False
        if ok:
            return True
    return False


def _schedule(emu, pod: dict) -> str | None:
    """The node the pod fits on, or None (with the reason recorded on the pod)."""
    want = _requests(pod)
    nodes = [o for (p, _, _), o in emu.objects.items() if p == "nodes"]
    used: dict[str, dict[str, float]] = {}
    for (p, _, _), other in emu.objects.items():
        if p == "pods" and other["spec"].get("nodeName") and other["status"].get("phase") in ("Pending", "Running"):
            u = used.setdefault(other["spec"]["nodeName"], {})
            for k, v in _requests(other).items():
                u[k] = u.get(k, 0.0) + v
    selector = pod["spec"].get("nodeSelector") or {}
    if not emu.unschedulable:
        for node in nodes:
            labels = node["metadata"].get("labels") or {}
            if node["spec"].get("unschedulable") or any(labels.get(k) != v for k, v in selector.items()):
                continue
            if not _affinity_ok(pod, labels, node["metadata"]["name"]):
                continue
            alloc = node["status"]["allocatable"]
            u = used.get(node["metadata"]["name"], {})
            if all(u.get(k, 0.0) + v <= float(parse_quantity(alloc.get(k, "0"))) for k, v in want.items()):
                return node["metadata"]["name"]
    message = f"0/{len(nodes)} nodes are available: " + (
        "node(s) had untolerated taint {node.kubernetes.io/unschedulable: }" if emu.unschedulable
        else f"{len(nodes)} Insufficient resources or didn't match Pod's node affinity/selector")
    cond = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}
    if pod["status"].get("conditions") != [cond]:
        pod["status"]["conditions"] = [cond]
        emu.put("pods", pod["metadata"]["namespace"], pod, "MODIFIED")
    return None


def reconcile(emu) -> None:
    objs = list(emu.objects.items())
    live_uids = {o["metadata"]["uid"] for _, o in objs}
    for (plural, ns, _), pod in objs:  # garbage collection
        if plural == "pods" and any(r["uid"] not in live_uids for r in pod["metadata"].get("ownerReferences") or ()):
            emu.put("pods", ns, pod, "DELETED")
    for (plural, ns, _), obj in objs:
        if plural not in ("jobs", "deployments") or (plural, ns, obj["metadata"]["name"]) not in emu.objects:
            continue
        pods = _owned(emu, obj)
        if obj["metadata"].get("deletionTimestamp"):
            for pod in pods:
                emu.put("pods", ns, pod, "DELETED")
            emu.put(plural, ns, obj, "DELETED")
            continue
        (_job if plural == "jobs" else _deployment)(emu, obj, pods)
    for (plural, ns, _), pod in list(emu.objects.items()):
        if plural != "pods" or pod["status"].get("phase") != "Pending":
            continue
        node = _schedule(emu, pod)
        if node:
            pod["spec"]["nodeName"] = node
            pod["status"].update({"phase": "Running", "podIP": f"10.244.0.{len(emu.objects) % 250 + 2}",
                                  "conditions": [{"type": "PodScheduled", "status": "True"},
                                                 {"type": "Ready", "status": "True"}]})
            emu.started[pod["metadata"]["uid"]] = time.monotonic()
            emu.put("pods", ns, pod, "MODIFIED")
    if emu.job_seconds is not None:
        for (plural, ns, _), pod in list(emu.objects.items()):
            if plural == "pods" and pod["status"].get("phase") == "Running" and \
                    (pod["metadata"].get("labels") or {}).get("job-name") and \
                    time.monotonic() - emu.started.get(pod["metadata"]["uid"], 0) >= emu.job_seconds:
                finish_pod(emu, pod, 0)


def _job(emu, job: dict, pods: list[dict]) -> None:
    spec, ns = job["spec"], job["metadata"]["namespace"]
    indexed = spec.get("completionMode") == "Indexed"
    by_phase = {ph: [p for p in pods if p["status"].get("phase") == ph] for ph in ("Pending", "Running", "Succeeded", "Failed")}
    done = any(c["type"] in ("Complete", "Failed") for c in job["status"].get("conditions") or ())
    if spec.get("suspend"):
        for pod in by_phase["Pending"] + by_phase["Running"]:
            emu.put("pods", ns, pod, "DELETED")
    elif not done:
        have = {int(p["metadata"]["labels"].get("batch.kubernetes.io/job-completion-index", -1)) for p in pods
                if p["status"].get("phase") != "Failed"}
        if indexed:
            for i in range(spec["completions"]):
                if i not in have and len(by_phase["Failed"]) <= spec["backoffLimit"]:
                    _new_pod(emu, job, i)
        elif len(by_phase["Pending"]) + len(by_phase["Running"]) + len(by_phase["Succeeded"]) < spec["completions"] \
                and len(by_phase["Failed"]) <= spec["backoffLimit"]:
            _new_pod(emu, job, None)
    status = {"active": len(by_phase["Pending"]) + len(by_phase["Running"]),
              "succeeded": len(by_phase["Succeeded"]), "failed": len(by_phase["Failed"]),
              "ready": len(by_phase["Running"])}
    status = {k: v for k, v in status.items() if v} | {"ready": len(by_phase["Running"])}
    if pods:
        status["startTime"] = job["status"].get("startTime") or _now()
    conditions = list(job["status"].get("conditions") or ())
    if not done and status.get("succeeded", 0) >= spec["completions"]:
        conditions.append({"type": "Complete", "status": "True", "lastTransitionTime": _now()})
        status["completionTime"] = _now()
    elif not done and status.get("failed", 0) > spec["backoffLimit"]:
        conditions.append({"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                           "lastTransitionTime": _now()})
    if conditions:
        status["conditions"] = conditions
    if indexed and by_phase["Succeeded"]:
        status["completedIndexes"] = ",".join(sorted(
            {p["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"] for p in by_phase["Succeeded"]}, key=int))
    if job["status"].get("completionTime"):
        status["completionTime"] = job["status"]["completionTime"]
    if status != job["status"]:
        job["status"] = status
        emu.put("jobs", ns, job, "MODIFIED")


def _deployment(emu, dep: dict, pods: list[dict]) -> None:
    ns, want = dep["metadata"]["namespace"], dep["spec"].get("replicas", 1)
    live = [p for p in pods if p["status"].get("phase") in ("Pending", "Running")]
    for _ in range(want - len(live)):
        _new_pod(emu, dep, None)
    for pod in live[want:]:
        emu.put("pods", ns, pod, "DELETED")
    running = sum(p["status"].get("phase") == "Running" for p in live[:want])
    status = {"observedGeneration": dep["metadata"].get("generation", 1), "replicas": min(len(live), want) if want else 0,
              "updatedReplicas": min(len(live), want), "readyReplicas": running, "availableReplicas": running,
              "unavailableReplicas": max(want - running, 0)}
    if status != dep["status"]:
        dep["status"] = status
        emu.put("deployments", ns, dep, "MODIFIED")

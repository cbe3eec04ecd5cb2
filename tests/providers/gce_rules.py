"""The Compute Engine REST rules the emulator enforces: list filters, resource
names and labels, the instance resource as the API returns it, operations,
and errors in Google's JSON format."""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import itertools
import random
import re
import time
from datetime import datetime, timezone
from typing import Any

API = "https://www.googleapis.com/compute/v1"
NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
_TERM = re.compile(r"^\s*(?P<lhs>[A-Za-z][\w.\-]*)\s*(?P<op>!=|=|:|\beq\b|\bne\b)\s*(?P<rhs>.+?)\s*$")
_ids = itertools.count(int(time.time() * 1000) % 10**9 * 10**9 + 4_000_000_000)


class ApiError(Exception):
    """An error answer: HTTP ``status``, Google's ``reason`` and ``message``."""

    def __init__(self, status: int, reason: str, message: str):
        self.status, self.reason, self.message = status, reason, message
        super().__init__(message)

    def body(self) -> dict:
        return {"error": {"code": self.status, "message": self.message,
                          "errors": [{"message": self.message, "domain": "global", "reason": self.reason}]}}


def now() -> str:
    """RFC 3339 with milliseconds and offset, as Compute Engine writes timestamps."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def numeric_id() -> str:
    return str(next(_ids))


def operation_name() -> str:
    """``operation-<ms>-<13 hex>-<8 hex>-<8 hex>``, the shape of real zone operation names."""
    r = random.Random()
    return (f"operation-{int(time.time() * 1000)}-{r.getrandbits(52):013x}-"
            f"{r.getrandbits(32):08x}-{r.getrandbits(32):08x}")


def fingerprint(labels: dict) -> str:
    digest = hashlib.sha256(repr(sorted(labels.items())).encode()).digest()[:8]
    return base64.b64encode(digest).decode()


def zone_url(project: str, zone: str) -> str:
    return f"{API}/projects/{project}/zones/{zone}"


# -- filters ---------------------------------------------------------------

def _terms(expr: str) -> list[str]:
    """Split ``a = "x" AND (b != y)`` / ``(a = x) (b = y)`` into terms; OR is refused."""
    expr = expr.strip()
    if re.search(r"\bOR\b", expr):
        raise ApiError(400, "invalid", f"Invalid list filter expression '{expr}' (OR is not supported here).")
    out, depth, cur = [], 0, ""
    for ch in expr:
        if ch == "(":
            depth += 1
            if depth == 1:
                if cur.strip() and cur.strip() != "AND":
                    out.append(cur)
                cur = ""
                continue
        if ch == ")":
            depth -= 1
            if depth == 0:
                out.append(cur)
                cur = ""
                continue
        cur += ch
    if depth:
        raise ApiError(400, "invalid", f"Invalid list filter expression '{expr}'.")
    if cur.strip():
        out.extend(p for p in re.split(r"\s+AND\s+", cur) if p.strip())
    return [t for t in (t.strip() for t in out) if t and t != "AND"]


def _lookup(resource: dict, path: str) -> Any:
    value: Any = resource
    for step in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    return value


def matcher(expr: str | None):
    """A predicate for a Compute Engine list ``filter`` (``=``, ``!=``, ``eq``, ``ne``, AND)."""
    if not expr:
        return lambda _r: True
    tests = []
    for term in _terms(expr):
        m = _TERM.match(term)
        if not m:
            raise ApiError(400, "invalid", f"Invalid list filter expression '{expr}'.")
        lhs, op, rhs = m.group("lhs"), m.group("op"), m.group("rhs").strip()
        if len(rhs) >= 2 and rhs[0] == rhs[-1] == '"':
            rhs = rhs[1:-1]
        tests.append((lhs, op, rhs))

    def ok(resource: dict) -> bool:
        for lhs, op, rhs in tests:
            value = _lookup(resource, lhs)
            text = "" if value is None else str(value)
            if op in ("=", ":"):
                hit = value is not None and fnmatch.fnmatchcase(text, rhs)
            elif op == "!=":
                hit = not (value is not None and fnmatch.fnmatchcase(text, rhs))
            elif op == "eq":
                hit = value is not None and re.fullmatch(rhs, text) is not None
            else:
                hit = not (value is not None and re.fullmatch(rhs, text) is not None)
            if not hit:
                return False
        return True

    return ok


# -- instances -------------------------------------------------------------

def check_labels(labels: Any) -> None:
    if not isinstance(labels, dict):
        raise ApiError(400, "invalid", "Invalid value for field 'resource.labels'.")
    if len(labels) > 64:
        raise ApiError(400, "invalid", "Invalid value for field 'resource.labels': at most 64 labels.")
    for k, v in labels.items():
        if not LABEL_KEY.match(k) or not isinstance(v, str) or not LABEL_VALUE.match(v):
            raise ApiError(400, "invalid", f"Invalid value for field 'resource.labels': '{k}'='{v}'. "
                                           "Label keys and values must conform to the label rules.")


def new_instance(project: str, zone: str, body: dict, serial: int) -> dict:
    """The instance resource the API keeps for an insert ``body`` (validated)."""
    name = body.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise ApiError(400, "invalid", f"Invalid value for field 'resource.name': '{name}'. "
                                       "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'")
    mt = str(body.get("machineType") or "")
    m = re.search(r"zones/([^/]+)/machineTypes/([^/]+)$", mt)
    if not m:
        raise ApiError(400, "invalid", f"Invalid value for field 'resource.machineType': '{mt}'.")
    if m.group(1) != zone:
        raise ApiError(400, "invalid", f"Invalid value for field 'resource.machineType': '{mt}'. "
                                       f"Machine type must be in zone '{zone}'.")
    disks = body.get("disks") or []
    if not any(d.get("boot") for d in disks):
        raise ApiError(400, "invalid", "Invalid value for field 'resource.disks': a boot disk is required.")
    check_labels(body.get("labels") or {})
    sched = dict(body.get("scheduling") or {})
    if sched.get("provisioningModel") == "SPOT" and sched.get("automaticRestart"):
        raise ApiError(400, "invalid", "Invalid value for field 'resource.scheduling.automaticRestart': 'true'. "
                                       "Spot VMs cannot be automatically restarted.")
    if body.get("guestAccelerators") and sched.get("onHostMaintenance", "MIGRATE") != "TERMINATE":
        raise ApiError(400, "invalid", "Instances with guest accelerators do not support live migration.")
    inst = dict(body)
    inst.update({
        "kind": "compute#instance", "id": numeric_id(), "creationTimestamp": now(), "status": "PROVISIONING",
        "zone": zone_url(project, zone), "selfLink": f"{zone_url(project, zone)}/instances/{name}",
        "machineType": f"{zone_url(project, zone)}/machineTypes/{m.group(2)}",
        "labels": dict(body.get("labels") or {}), "scheduling": sched,
        "cpuPlatform": "Intel Cascade Lake", "startRestricted": False, "deletionProtection": False,
    })
    inst["labelFingerprint"] = fingerprint(inst["labels"])
    nics = []
    for i, nic in enumerate(body.get("networkInterfaces") or [{"network": "global/networks/default"}]):
        nic = dict(nic)
        nic.update({"name": f"nic{i}", "networkIP": f"10.128.{serial // 250 % 250}.{serial % 250 + 2}",
                    "network": f"{API}/projects/{project}/{nic.get('network') or 'global/networks/default'}"})
        nic["accessConfigs"] = [{**a, "natIP": f"34.{serial // 65536 % 256}.{serial // 256 % 256}.{serial % 256}"}
                                for a in nic.get("accessConfigs") or []]
        nics.append(nic)
    inst["networkInterfaces"] = nics
    inst["disks"] = [{"boot": bool(d.get("boot")), "autoDelete": d.get("autoDelete", True), "index": i,
                      "deviceName": f"persistent-disk-{i}", "type": "PERSISTENT", "mode": "READ_WRITE",
                      "diskSizeGb": str((d.get("initializeParams") or {}).get("diskSizeGb") or 10),
                      "source": f"{zone_url(project, zone)}/disks/{name}" + (f"-{i}" if i else "")}
                     for i, d in enumerate(disks)]
    return inst


def operation(project: str, zone: str, kind: str, target: dict | None, *, target_name: str = "",
              user: str = "skyplan-emulator@example.iam.gserviceaccount.com") -> dict:
    name = (target or {}).get("name") or target_name
    op = {"kind": "compute#operation", "id": numeric_id(), "name": operation_name(), "zone": zone_url(project, zone),
          "operationType": kind, "targetLink": f"{zone_url(project, zone)}/instances/{name}",
          "status": "RUNNING", "user": user, "progress": 0, "insertTime": now(), "startTime": now()}
    if target and target.get("id"):
        op["targetId"] = target["id"]
    op["selfLink"] = f"{zone_url(project, zone)}/operations/{op['name']}"
    return op


def operation_failure(op: dict, code: str, message: str, status: int) -> None:
    op["error"] = {"errors": [{"code": code, "message": message}]}
    op["httpErrorStatusCode"] = status
    op["httpErrorMessage"] = {403: "FORBIDDEN", 404: "NOT FOUND", 400: "BAD REQUEST"}.get(status, "SERVICE UNAVAILABLE")


DEFAULT_MESSAGES = {
    "ZONE_RESOURCE_POOL_EXHAUSTED": "The zone '{where}' does not have enough resources available to fulfill the "
                                    "request.  Try a different zone, or try again later.",
    "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS": "The zone '{where}' does not have enough resources available to "
                                                 "fulfill the request. '(resource type:compute)'.",
    "QUOTA_EXCEEDED": "Quota 'NVIDIA_T4_GPUS' exceeded.  Limit: 0.0 in region {region}.",
    "UNSUPPORTED_OPERATION": "The resource '{where}/machineTypes/{machine}' is not supported in this zone.",
    "resourceNotFound": "The resource '{where}/machineTypes/{machine}' was not found",
    "rateLimitExceeded": "Rate Limit Exceeded",
    "backendError": "Internal error. Please try again or contact Google Support.",
    "quotaExceeded": "Quota 'CPUS' exceeded.  Limit: 8.0 in region {region}.",
    "forbidden": "Required 'compute.instances.create' permission for 'projects/{project}'",
}
OPERATION_STATUS = {"ZONE_RESOURCE_POOL_EXHAUSTED": 503, "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS": 503,
                    "REGION_RESOURCE_POOL_EXHAUSTED": 503, "QUOTA_EXCEEDED": 403, "UNSUPPORTED_OPERATION": 400}

"""A wire-level emulator of the slice of the Kubernetes API skyplan uses.

A threaded HTTP/1.1 server on 127.0.0.1 (Nagle disabled) serving nodes (list),
and Jobs, Deployments, Services and Pods (create, get, list with
``labelSelector``, merge/strategic patch, delete with propagation policies,
``watch=true`` as chunked JSON lines). Objects carry uid, resourceVersion,
generation and ownerReferences; a controller thread (``k8s_controller``)
creates pods for Jobs and Deployments, schedules them onto nodes that fit
(node selector, CPU, memory, GPUs) and moves Job and Deployment status along.
Errors are ``Status`` objects. Bearer-token auth is required.

Test handles: ``unschedulable`` (leave pods Pending/Unschedulable), ``remove_node``,
``finish_job``, ``fail_next`` (answer the next matching request with a status
code), ``requests`` (the log of calls), ``kubeconfig()`` (for the real client).
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.providers import k8s_controller
from tests.providers.k8s_rules import Invalid, merge_patch, parse_selector, validate

KINDS = {  # plural -> (group/version prefix, kind, apiVersion, namespaced)
    "nodes": ("/api/v1", "Node", "v1", False),
    "pods": ("/api/v1", "Pod", "v1", True),
    "services": ("/api/v1", "Service", "v1", True),
    "jobs": ("/apis/batch/v1", "Job", "batch/v1", True),
    "deployments": ("/apis/apps/v1", "Deployment", "apps/v1", True),
}
CREATABLE = ("services", "jobs", "deployments")
TOKEN = "emulator-token"
_PATH = re.compile(r"^(?P<prefix>/api/v1|/apis/batch/v1|/apis/apps/v1)(?:/namespaces/(?P<ns>[^/]+))?"
                   r"/(?P<plural>[a-z]+)(?:/(?P<name>[^/]+))?$")


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def status(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code, **({"details": details} if details else {})}


class KubeEmulator:
    def __init__(self, nodes: list[dict] | None = None, tick: float = 0.02):
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.objects: dict[tuple[str, str, str], dict] = {}  # (plural, ns, name) -> object
        self.events: list[tuple[int, str, str, str, dict]] = []  # (rv, plural, ns, type, object)
        self.rv = 100
        self.unschedulable = False
        self.requests: list[tuple[str, str]] = []
        self.faults: list[dict] = []
        self.job_seconds: float | None = None  # auto-complete jobs after this long (None: run until finished)
        self.started: dict[str, float] = {}  # pod uid -> when it started running
        self.pod_logs: dict[str, str] = {}  # pod name -> its container's output (set by tests)
        for node in nodes or ():
            self.add_node(**node)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._server.serve_forever, daemon=True),
                         threading.Thread(target=self._controller, args=(tick,), daemon=True)]
        for t in self._threads:
            t.start()

    # -- test handles -------------------------------------------------------------------------------------
    def add_node(self, name: str, cpu: str = "8", memory: str = "32Gi", gpus: int = 0,
                 labels: dict | None = None, unschedulable: bool = False) -> None:
        alloc = {"cpu": cpu, "memory": memory, "pods": "110"}
        if gpus:
            alloc["nvidia.com/gpu"] = str(gpus)
        node = {"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
                "spec": {"unschedulable": unschedulable},
                "status": {"allocatable": alloc, "capacity": dict(alloc),
                           "conditions": [{"type": "Ready", "status": "True"}]}}
        with self.lock:
            self.put("nodes", "", node, "ADDED")

    def remove_node(self, name: str) -> None:
        """The node leaves the cluster (a spot node taken back by its cloud): the node
        object goes, and so do the pods bound to it, as the node lifecycle controller
        does; their Deployments make new, Pending pods."""
        with self.lock:
            for (plural, ns, _), obj in list(self.objects.items()):
                if plural == "pods" and (obj.get("spec") or {}).get("nodeName") == name:
                    self.put("pods", ns, obj, "DELETED")
            node = self.objects.get(("nodes", "", name))
            if node is not None:
                self.put("nodes", "", node, "DELETED")

    def kubeconfig(self, path, *, context: str = "emulator", token: str = TOKEN) -> str:
        doc = {"apiVersion": "v1", "kind": "Config", "current-context": context,
               "clusters": [{"name": "emu", "cluster": {"server": self.url}}],
               "users": [{"name": "emu-user", "user": {"token": token}}],
               "contexts": [{"name": context, "context": {"cluster": "emu", "user": "emu-user"}}]}
        path.write_text(json.dumps(doc))  # JSON is YAML
        return str(path)

    def fail_next(self, code: int, *, method: str | None = None, path: str = "", times: int = 1,
                  message: str = "") -> None:
        with self.lock:
            self.faults.append({"code": code, "method": method, "path": path, "times": times,
                                "message": message or f"injected {code}"})

    def finish_job(self, name: str, ns: str = "default", *, succeeded: bool = True) -> None:
        with self.lock:
            for (plural, pns, _), pod in list(self.objects.items()):
                if plural == "pods" and pns == ns and pod["metadata"].get("labels", {}).get("job-name") == name:
                    k8s_controller.finish_pod(self, pod, 0 if succeeded else 1)

    def list(self, plural: str, ns: str = "default") -> list[dict]:
        with self.lock:
            return [o for (p, n, _), o in self.objects.items() if p == plural and (n == ns or plural == "nodes")]

    def reset(self) -> None:
        with self.lock:
            for key in [k for k in self.objects if k[0] != "nodes"]:
                del self.objects[key]
            self.unschedulable, self.faults, self.job_seconds = False, [], None
            self.requests.clear()
            self.pod_logs.clear()

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()

    # -- store --------------------------------------------------------------------------------------------
    def put(self, plural: str, ns: str, obj: dict, event: str) -> dict:
        """Store ``obj`` with a new resourceVersion and record a watch event (lock held)."""
        self.rv += 1
        meta = obj.setdefault("metadata", {})
        meta["resourceVersion"] = str(self.rv)
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", now())
        if ns:
            meta["namespace"] = ns
        _, kind, api_version, _ = KINDS[plural]
        obj["kind"], obj["apiVersion"] = kind, api_version
        key = (plural, ns, meta["name"])
        if event == "DELETED":
            self.objects.pop(key, None)
        else:
            self.objects[key] = obj
        self.events.append((self.rv, plural, ns, event, json.loads(json.dumps(obj))))
        del self.events[:-5000]
        self.changed.notify_all()
        return obj

    def _controller(self, tick: float) -> None:
        while not self._stop.is_set():
            with self.lock:
                k8s_controller.reconcile(self)
            time.sleep(tick)

    def take_fault(self, method: str, path: str) -> dict | None:
        with self.lock:
            for f in self.faults:
                if (f["method"] in (None, method)) and f["path"] in path:
                    f["times"] -= 1
                    if f["times"] <= 0:
                        self.faults.remove(f)
                    return f
        return None


def _handler(emu: KubeEmulator):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args):  # quiet
            pass

        def _send(self, code: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            return json.loads(raw) if raw else None

        def _dispatch(self, method: str) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
            body = self._body() if method in ("POST", "PATCH", "PUT", "DELETE") else None
            shown = url.path + ("?watch" if query.get("watch") in ("true", "1") else "")
            with emu.lock:
                emu.requests.append((method, shown))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._send(401, status(401, "Unauthorized", "Unauthorized"))
            fault = emu.take_fault(method, shown)
            if fault:
                reasons = {409: "Conflict", 410: "Expired", 429: "TooManyRequests", 500: "InternalError",
                           503: "ServiceUnavailable", 403: "Forbidden"}
                return self._send(fault["code"], status(fault["code"], reasons.get(fault["code"], "Unknown"),
                                                        fault["message"]))
            log = re.match(r"^/api/v1/namespaces/([^/]+)/pods/([^/]+)/log$", url.path)
            if log and method == "GET":
                with emu.lock:
                    pod = emu.objects.get(("pods", log.group(1), log.group(2)))
                    text = emu.pod_logs.get(log.group(2), "")
                if pod is None:
                    return self._send(404, status(404, "NotFound", f'pods "{log.group(2)}" not found'))
                data = text.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return None
            if url.path == "/version":
                return self._send(200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-emulator"})
            m = _PATH.match(url.path)
            if not m or m.group("plural") not in KINDS or KINDS[m.group("plural")][0] != m.group("prefix"):
                return self._send(404, status(404, "NotFound", f"the server could not find the requested resource ({url.path})"))
            plural, ns, name = m.group("plural"), m.group("ns") or "", m.group("name")
            try:
                code, out = _route(emu, method, plural, ns, name, query, body, self)
            except Invalid as exc:
                kind = KINDS[plural][1]
                code, out = 422, status(422, "Invalid", f"{kind} {name or ''} is invalid: {exc}",
                                        {"kind": plural, "causes": [{"field": f, "message": msg} for f, msg in exc.causes]})
            if code:
                self._send(code, out)

        def do_GET(self):
            self._dispatch("GET")

        def do_POST(self):
            self._dispatch("POST")

        def do_PATCH(self):
            self._dispatch("PATCH")

        def do_DELETE(self):
            self._dispatch("DELETE")

        def do_PUT(self):
            self._dispatch("PUT")

    return Handler


def _route(emu: KubeEmulator, method: str, plural: str, ns: str, name: str | None, query: dict, body: Any,
           handler) -> tuple[int, Any]:
    prefix, kind, api_version, namespaced = KINDS[plural]
    if namespaced and not ns:
        if method == "GET" and not name:
            ns = "*"
        else:
            return 404, status(404, "NotFound", "namespace required")
    key = (plural, ns, name or "")
    if method == "GET" and not name:
        try:
            match = parse_selector(query.get("labelSelector", ""))
        except ValueError as exc:
            return 400, status(400, "BadRequest", f"unable to parse requirement: {exc}")
        if query.get("watch") in ("true", "1"):
            _watch(emu, plural, ns, match, query, handler)
            return 0, None
        with emu.lock:
            items = [json.loads(json.dumps(o)) for (p, n, _), o in sorted(emu.objects.items())
                     if p == plural and (ns in ("*", n) or not namespaced)
                     and match(o["metadata"].get("labels") or {})]
            rv = str(emu.rv)
        return 200, {"kind": f"{kind}List", "apiVersion": api_version, "metadata": {"resourceVersion": rv},
                     "items": items}
    if method == "POST" and not name:
        if plural not in CREATABLE:
            return 405, status(405, "MethodNotAllowed", f"create is not supported for {plural}")
        validate(kind, body, api_version)
        with emu.lock:
            new_key = (plural, ns, body["metadata"]["name"])
            if new_key in emu.objects:
                return 409, status(409, "AlreadyExists", f'{plural}.{prefix.split("/")[-2] if "apis" in prefix else ""} '
                                                         f'"{new_key[2]}" already exists',
                                   {"name": new_key[2], "kind": plural})
            obj = k8s_controller.admit(emu, plural, body)
            return 201, json.loads(json.dumps(emu.put(plural, ns, obj, "ADDED")))
    with emu.lock:
        obj = emu.objects.get(key)
        if obj is None:
            return 404, status(404, "NotFound", f'{plural} "{name}" not found', {"name": name, "kind": plural})
        if method == "GET":
            return 200, json.loads(json.dumps(obj))
        if method == "PATCH":
            ctype = handler.headers.get("Content-Type", "")
            if ctype not in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
                return 415, status(415, "UnsupportedMediaType", f"the body of the request was in an unknown format "
                                                                f"- accepted media types include: merge and strategic merge patch")
            patched = merge_patch(obj, body)
            patched["metadata"]["name"], patched["metadata"]["uid"] = name, obj["metadata"]["uid"]
            if plural in CREATABLE:
                validate(kind, patched, api_version, create=False)
            if patched.get("spec") != obj.get("spec"):
                patched["metadata"]["generation"] = obj["metadata"].get("generation", 1) + 1
                k8s_controller.on_spec_change(emu, plural, obj, patched)
            return 200, json.loads(json.dumps(emu.put(plural, ns, patched, "MODIFIED")))
        if method == "DELETE":
            policy = (body or {}).get("propagationPolicy") or query.get("propagationPolicy") or \
                ("Orphan" if plural == "jobs" else "Background")
            return 200, k8s_controller.delete(emu, plural, ns, obj, policy)
    return 405, status(405, "MethodNotAllowed", f"{method} is not supported")


def _watch(emu: KubeEmulator, plural: str, ns: str, match, query: dict, handler) -> None:
    """Stream events as chunked JSON lines until ``timeoutSeconds`` (default 30 s)."""
    deadline = time.monotonic() + float(query.get("timeoutSeconds") or 30)
    since = int(query.get("resourceVersion") or 0)
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()

    def send(event: dict) -> None:
        data = json.dumps(event).encode() + b"\n"
        handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        handler.wfile.flush()

    def relevant(p, n, obj):
        return p == plural and (ns in ("*", n) or plural == "nodes") and match(obj["metadata"].get("labels") or {})

    with emu.lock:
        if since and emu.events and since < emu.events[0][0] - 1:
            pending = [{"type": "ERROR", "object": status(410, "Expired", f"too old resource version: {since}")}]
            since = None
        elif not since:  # start with the current objects, as ADDED
            pending = [{"type": "ADDED", "object": json.loads(json.dumps(o))}
                       for (p, n, _), o in sorted(emu.objects.items()) if relevant(p, n, o)]
            since = emu.rv
        else:
            pending = []
    try:
        for event in pending:
            send(event)
        while since is not None:
            with emu.lock:
                fresh = [(rv, t, o) for rv, p, n, t, o in emu.events if rv > since and relevant(p, n, o)]
                if not fresh:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    emu.changed.wait(min(left, 0.5))
                    continue
            for rv, t, o in fresh:
                send({"type": t, "object": o})
                since = rv
        handler.wfile.write(b"0\r\n\r\n")
        handler.wfile.flush()
    except (BrokenPipeError, ConnectionResetError):
        handler.close_connection = True

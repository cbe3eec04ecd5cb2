"""A wire-level Azure Resource Manager emulator on 127.0.0.1, for the real azure-mgmt SDKs.

It speaks ARM's JSON over HTTP for what the azure provider calls: resource
groups (PUT/GET/HEAD/DELETE), virtualNetworks + subnets, networkSecurityGroups,
networkInterfaces, publicIPAddresses, disks, and virtualMachines (PUT and
DELETE as long-running operations: ``201``/``202`` + ``Azure-AsyncOperation``,
``provisioningState`` Creating -> Succeeded; GET; PATCH tags; list per
resource group with ``nextLink`` pages; ``list_all?statusOnly=true`` with
instance views; ``instanceView``; ``start``/``deallocate``/``powerOff``;
``retrieveBootDiagnosticsData`` with a serial log blob it also serves), and
capacity reservation groups with their capacity reservations, counting the VMs
allocated against them (``arm_reservations.py``).
Errors are ARM bodies ``{"error": {"code", "message"}}``; a throttled call
carries ``Retry-After``. Any api-version is accepted; every call is counted.

Control endpoint (JSON bodies)::

    POST   /_control/faults  {"kind": "capacity" | "quota" | "throttle" | "server" | "auth",
                              "code": "ZonalAllocationFailed", "message": "...",
                              "region": "eastus", "zone": "1", "size": "Standard_D2s_v5",
                              "method": "PUT", "path": "virtualMachines",   # matchers (optional)
                              "async": true,   # report it from the operation status, not the PUT
                              "times": 1, "retry_after": 1}
    DELETE /_control/faults  clear faults
    POST   /_control/evict   {"resource_group": "rg", "name": "vm"}  spot eviction (Delete or Deallocate)
    POST   /_control/finish  {"resource_group": "rg", "name": "vm", "exit_code": 0}  a job node's end
    GET    /_control/calls   [{"method", "path", "query"}, ...]
    POST   /_control/reset   forget everything
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.providers.arm_resources import VM, ArmError, ArmResources, _rg_of

PAGE_SIZE = 500


class ArmEmulator(ArmResources):
    """Start with ``ArmEmulator()``; ``.url`` is the ARM endpoint; ``.stop()`` ends it."""

    def __init__(self, subscription: str = "00000000-0000-0000-0000-000000000000", page_size: int = PAGE_SIZE):
        self.subscription = subscription
        self.page_size = page_size
        self.lock = threading.RLock()
        self.reset()
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go in two writes

            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                emulator._serve(self)

            do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        with self.lock:
            self.groups: dict[str, dict] = {}  # lower rg name -> resource group JSON
            self.resources: dict[str, dict] = {}  # lower id -> resource JSON
            self.operations: dict[str, dict] = {}  # op id -> {"polls", "then", "error"}
            self.faults: list[dict] = []
            self.calls: list[dict] = []
            self.serial: dict[str, str] = {}  # lower vm id -> serial console log
            self.ids = itertools.count(1)

    # -- helpers used by tests ------------------------------------------------------------------
    def vms(self, resource_group: str | None = None) -> list[dict]:
        with self.lock:
            return [self._view(r) for k, r in self.resources.items()
                    if r["type"].lower() == VM and (resource_group is None or
                                                    _rg_of(k) == resource_group.lower())]

    def of_type(self, type_: str) -> list[dict]:
        with self.lock:
            return [r for r in self.resources.values() if r["type"].lower() == type_.lower()]

    def fault(self, **fault: Any) -> None:
        with self.lock:
            self.faults.append({"times": 1, **fault})

    def evict(self, resource_group: str, name: str) -> None:
        with self.lock:
            vid = self._vm_id(resource_group, name)
            vm = self.resources[vid]
            if vm["properties"].get("evictionPolicy") == "Delete":
                self._release(self.resources.pop(vid))
            else:
                vm["_power"] = "deallocated"
                vm["_evicted"] = True

    def finish(self, resource_group: str, name: str, exit_code: int) -> None:
        with self.lock:
            vid = self._vm_id(resource_group, name)
            self.resources[vid]["_power"] = "stopped"
            self.serial[vid] = self.serial.get(vid, "") + f"cloud-init: done\nskyplan: exit_code={exit_code}\n"

    def delete_behind_back(self, resource_group: str, name: str) -> None:
        """Someone deletes the VM in the portal (an ARM DELETE)."""
        with self.lock:
            self._release(self.resources.pop(self._vm_id(resource_group, name)))

    def count(self, method: str, pattern: str) -> int:
        with self.lock:
            return sum(1 for c in self.calls if c["method"] == method and re.search(pattern, c["path"], re.I))

    def _vm_id(self, resource_group: str, name: str) -> str:
        return (f"/subscriptions/{self.subscription}/resourceGroups/{resource_group}"
                f"/providers/Microsoft.Compute/virtualMachines/{name}").lower()

    # -- HTTP ------------------------------------------------------------------------------------
    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        parsed = urllib.parse.urlsplit(h.path)
        query = {k: v[0] for k, v in urllib.parse.parse_qs(parsed.query).items()}
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        body = json.loads(raw) if raw.strip() else None
        path = urllib.parse.unquote(parsed.path)
        status, payload, headers = 500, None, {}
        try:
            if path.startswith("/_control"):
                status, payload = self._control(h.command, path, body)
            elif path.startswith("/_blobs/"):
                with self.lock:
                    text = self.serial.get(path[len("/_blobs"):].lower(), "")
                self._send_raw(h, 200, text.encode(), "text/plain")
                return
            else:
                with self.lock:
                    self.calls.append({"method": h.command, "path": path, "query": query})
                    self._check_auth(h)
                    self._check_faults(h.command, path, body)
                    status, payload, headers = self._route(h.command, path, query, body)
        except ArmError as e:
            status, payload, headers = e.status, {"error": {"code": e.code, "message": e.message}}, e.headers
        data = b"" if payload is None or h.command == "HEAD" else json.dumps(payload).encode()
        self._send_raw(h, status, data, "application/json", headers, head=h.command == "HEAD")

    @staticmethod
    def _send_raw(h, status: int, data: bytes, ctype: str, headers: dict | None = None, head: bool = False) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", "0" if head else str(len(data)))
        h.send_header("x-ms-request-id", str(uuid.uuid4()))
        for k, v in (headers or {}).items():
            h.send_header(k, str(v))
        h.end_headers()
        if data and not head:
            h.wfile.write(data)

    def _control(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        with self.lock:
            if path == "/_control/faults" and method == "POST":
                self.faults.append({"times": 1, **(body or {})})
                return 200, {"faults": len(self.faults)}
            if path == "/_control/faults" and method == "DELETE":
                self.faults.clear()
                return 200, {}
            if path == "/_control/calls":
                return 200, list(self.calls)
            if path == "/_control/evict":
                self.evict(body["resource_group"], body["name"])
                return 200, {}
            if path == "/_control/finish":
                self.finish(body["resource_group"], body["name"], int(body.get("exit_code", 0)))
                return 200, {}
            if path == "/_control/reset":
                self.reset()
                return 200, {}
        raise ArmError(404, "NotFound", f"no control route {method} {path}")

    def _check_auth(self, h) -> None:
        if not (h.headers.get("Authorization") or "").startswith("Bearer "):
            raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")

    def _check_faults(self, method: str, path: str, body: Any) -> None:
        """Raise the first matching synchronous fault; remember asynchronous ones for the PUT's operation."""
        props = (body or {}).get("properties") or {}
        size = (props.get("hardwareProfile") or {}).get("vmSize")
        region = (body or {}).get("location")
        zones = (body or {}).get("zones") or []
        for f in list(self.faults):
            if f.get("method") and f["method"] != method:
                continue
            if f.get("path") and not re.search(f["path"], path, re.I):
                continue
            if f["kind"] in ("capacity", "quota"):
                reserving = "/capacityreservations/" in path.lower()  # a reservation needs capacity too
                if method != "PUT" or ("/virtualmachines/" not in path.lower() and not reserving):
                    continue
                if reserving:
                    size = ((body or {}).get("sku") or {}).get("name")
                if f.get("size") and f["size"] != size:
                    continue
                if f.get("region") and f["region"] != region:
                    continue
                if f.get("zone") and f["zone"] not in zones:
                    continue
                if f.get("async"):
                    continue  # raised from the operation status (see _put_vm)
            self._use(f)
            if f["kind"] == "throttle":
                raise ArmError(429, f.get("code", "TooManyRequests"), f.get("message", "Too many requests"),
                               {"Retry-After": f.get("retry_after", 1)})
            if f["kind"] == "server":
                raise ArmError(int(f.get("status", 503)), f.get("code", "ServiceUnavailable"),
                               f.get("message", "The service is temporarily unavailable"))
            if f["kind"] == "auth":
                raise ArmError(int(f.get("status", 403)), f.get("code", "AuthorizationFailed"),
                               f.get("message", "The client does not have authorization to perform action"))
            status = 409 if f["kind"] == "capacity" else 409
            raise ArmError(int(f.get("status", status)), f["code"], f.get("message", f["code"]))

"""A wire-level emulator of the slice of the Compute Engine REST API (v1) skyplan uses.

A threaded HTTP/1.1 server on 127.0.0.1 (Nagle disabled) speaking the JSON
google-cloud-compute's REST transport sends and expects: instances insert
(``requestId`` idempotent, names unique per zone), get, list and
aggregatedList (``filter`` on labels/status/name, ``maxResults``/
``pageToken``, ``items`` keyed ``zones/ZONE``), delete, setLabels (label
fingerprint checked: 412 when stale), stop, start, getSerialPortOutput;
zoneOperations get/wait and globalOperations aggregatedList. Mutations return
a RUNNING operation whose effect lands when it is polled or by the next
request (the instance turns RUNNING, TERMINATED or disappears). Errors are Google's
``{"error": {"code", "message", "errors": [{"reason", "message"}]}}``.

Fault injection, over HTTP or the Python handles of the same names:

    POST   /_faults   {"method": "instances.insert", "zone": "us-central1-a",
                       "machine_type": "n1-standard-8", "code": "ZONE_RESOURCE_POOL_EXHAUSTED",
                       "status": 503, "times": 1, "message": "..."}
    DELETE /_faults   clear all faults
    POST   /_preempt  {"project": ..., "zone": ..., "name": ...}   preempt a spot VM
    POST   /_console  {"project": ..., "zone": ..., "name": ..., "text": ...}   append serial output
    GET    /_calls    [{"method": "instances.aggregatedList", "zone": ..., "project": ...}, ...]

Upper-case codes (ZONE_RESOURCE_POOL_EXHAUSTED[_WITH_DETAILS],
REGION_RESOURCE_POOL_EXHAUSTED, QUOTA_EXCEEDED, UNSUPPORTED_OPERATION) fail the
insert's *operation*, as Compute Engine reports them (``PREEMPTED`` instead
preempts the new VM as it starts); any other code (``resourceNotFound``,
``quotaExceeded``, ``rateLimitExceeded`` with 429, ``backendError`` with 503,
``forbidden`` with 403, ...) fails the HTTP call itself. ``times`` defaults to
1; ``skip`` lets that many matching calls through first.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.providers.gce_reservations import ROUTES as RESERVATION_ROUTES
from tests.providers.gce_reservations import GceReservations
from tests.providers.gce_rules import (
    DEFAULT_MESSAGES, OPERATION_STATUS, ApiError, check_labels, fingerprint, matcher, new_instance, now,
    operation, operation_failure,
)

_ROUTES = [
    ("POST", r"/projects/(?P<p>[^/]+)/zones/(?P<z>[^/]+)/instances", "instances.insert"),
    ("GET", r"/projects/(?P<p>[^/]+)/zones/(?P<z>[^/]+)/instances", "instances.list"),
    ("GET", r"/projects/(?P<p>[^/]+)/zones/(?P<z>[^/]+)/instances/(?P<n>[^/]+)", "instances.get"),
    ("DELETE", r"/projects/(?P<p>[^/]+)/zones/(?P<z>[^/]+)/instances/(?P<n>[^/]+)", "instances.delete"),
    ("POST", r"/projects/(?P<p>[^/]+)/zones/(?P<z>[^/]+)/instances/(?P<n>[^/]+)/setLabels", "instances.setLabels"),
    ("POST", r"/projects/(?P<p>[^/]+)/zones/(?P<z>[^/]+)/instances/(?P<n>[^/]+)/stop", "instances.stop"),
    ("POST", r"/projects/(?P<p>[^/]+)/zones/(?P<z>[^/]+)/instances/(?P<n>[^/]+)/start", "instances.start"),
    ("GET", r"/projects/(?P<p>[^/]+)/zones/(?P<z>[^/]+)/instances/(?P<n>[^/]+)/serialPort",
     "instances.getSerialPortOutput"),
    ("GET", r"/projects/(?P<p>[^/]+)/aggregated/instances", "instances.aggregatedList"),
    ("GET", r"/projects/(?P<p>[^/]+)/zones/(?P<z>[^/]+)/operations/(?P<o>[^/]+)", "zoneOperations.get"),
    ("POST", r"/projects/(?P<p>[^/]+)/zones/(?P<z>[^/]+)/operations/(?P<o>[^/]+)/wait", "zoneOperations.wait"),
    ("GET", r"/projects/(?P<p>[^/]+)/aggregated/operations", "globalOperations.aggregatedList"),
]
_COMPILED = [(m, re.compile(f"^/compute/v1{p}$"), name) for m, p, name in _ROUTES + RESERVATION_ROUTES]


class GceEmulator(GceReservations):
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.instances: dict[tuple[str, str, str], dict] = {}
        self.reservations: dict[tuple[str, str, str], dict] = {}
        self.operations: dict[tuple[str, str, str], dict] = {}
        self.pending: dict[tuple[str, str, str], tuple] = {}  # op key -> (effect, args)
        self.request_ids: dict[str, tuple[str, str, str]] = {}
        self.consoles: dict[tuple[str, str, str], str] = {}
        self.zones_seen: set[tuple[str, str]] = set()
        self.faults: list[dict] = []
        self._calls: list[dict] = []
        self.serial = 0
        self._seq = 0  # requests seen; an operation started by request N settles at request N + 1
        emu = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):  # quiet
                pass

            def _respond(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                url = urllib.parse.urlsplit(self.path)
                query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
                try:
                    body = json.loads(raw) if raw else {}
                    status, answer = emu.dispatch(self.command, url.path, query, body)
                except ApiError as e:
                    status, answer = e.status, e.body()
                except json.JSONDecodeError:
                    status, answer = 400, ApiError(400, "parseError", "Parse Error").body()
                self._respond(status, answer)

            do_GET = do_POST = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    # -- test handles -------------------------------------------------------

    def reset(self) -> None:
        with self.lock:
            for store in (self.instances, self.reservations, self.operations, self.pending, self.request_ids,
                          self.consoles):
                store.clear()
            self.zones_seen.clear()
            self.faults.clear()
            self._calls.clear()

    def inject(self, code: str, **match: Any) -> None:
        with self.lock:
            self.faults.append({"code": code, "times": 1, **match})

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def calls(self, method: str | None = None) -> list[dict]:
        with self.lock:
            return [c for c in self._calls if method is None or c["method"] == method]

    def clear_calls(self) -> None:
        with self.lock:
            self._calls.clear()

    def preempt(self, project: str, zone: str, name: str) -> dict:
        """Take a spot VM's capacity back: it stops (or is deleted, by its
        ``instanceTerminationAction``) and a ``compute.instances.preempted``
        operation is recorded, as Compute Engine does."""
        with self.lock:
            inst = self.instances[(project, zone, name)]
            op = operation(project, zone, "compute.instances.preempted", inst,
                           user="system")
            op.update({"status": "DONE", "progress": 100, "endTime": now(),
                       "statusMessage": "Instance was preempted."})
            self.operations[(project, zone, op["name"])] = op
            if (inst.get("scheduling") or {}).get("instanceTerminationAction") == "DELETE":
                del self.instances[(project, zone, name)]
            else:
                inst.update({"status": "TERMINATED", "lastStopTimestamp": now()})
            return op

    def console(self, project: str, zone: str, name: str, text: str) -> None:
        with self.lock:
            key = (project, zone, name)
            self.consoles[key] = self.consoles.get(key, "") + text

    def all_instances(self, project: str | None = None) -> list[dict]:
        with self.lock:
            return [json.loads(json.dumps(i)) for (p, _, _), i in sorted(self.instances.items())
                    if project is None or p == project]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- dispatch -----------------------------------------------------------

    def dispatch(self, method: str, path: str, query: dict, body: dict) -> tuple[int, Any]:
        if path.startswith("/_"):
            return self._control(method, path, body)
        for m, rx, name in _COMPILED:
            hit = rx.match(path)
            if m == method and hit:
                args = hit.groupdict()
                with self.lock:
                    self._settle()
                    self._seq += 1
                    self._calls.append({"method": name, "project": args.get("p"), "zone": args.get("z"),
                                        "page_token": query.get("pageToken", "")})
                    fault = self._fault(name, args, body)
                    if fault is not None and not fault["code"].isupper():
                        raise ApiError(int(fault.get("status", 400)), fault["code"], self._message(fault, args, body))
                    return 200, getattr(self, "_" + name.replace(".", "_"))(args, query, body, fault)
        raise ApiError(404, "notFound", f"The requested URL {path} was not found on this server.")

    def _control(self, method: str, path: str, body: dict) -> tuple[int, Any]:
        if path == "/_faults" and method == "POST":
            self.inject(**body)
        elif path == "/_faults" and method == "DELETE":
            self.clear_faults()
        elif path == "/_preempt" and method == "POST":
            return 200, self.preempt(body["project"], body["zone"], body["name"])
        elif path == "/_console" and method == "POST":
            self.console(body["project"], body["zone"], body["name"], body["text"])
        elif path == "/_calls":
            return 200, self.calls()
        else:
            raise ApiError(404, "notFound", path)
        return 200, {"faults": self.faults}

    def _fault(self, name: str, args: dict, body: dict) -> dict | None:
        machine = str(body.get("machineType") or "").rsplit("/", 1)[-1]
        for fault in self.faults:
            if fault.get("method") and fault["method"] != name:
                continue
            if fault.get("zone") and fault["zone"] != args.get("z"):
                continue
            if fault.get("region") and not str(args.get("z") or "").startswith(fault["region"] + "-"):
                continue
            if fault.get("machine_type") and fault["machine_type"] != machine:
                continue
            if fault.get("skip", 0) > 0:  # let this many matching calls through first
                fault["skip"] -= 1
                continue
            fault["times"] = fault.get("times", 1) - 1
            if fault["times"] <= 0:
                self.faults.remove(fault)
            return fault
        return None

    @staticmethod
    def _message(fault: dict, args: dict, body: dict) -> str:
        zone = args.get("z") or ""
        template = fault.get("message") or DEFAULT_MESSAGES.get(fault["code"], f"injected {fault['code']}")
        return template.format(where=f"projects/{args.get('p')}/zones/{zone}", region=zone.rsplit("-", 1)[0],
                               project=args.get("p"), machine=str(body.get("machineType") or "").rsplit("/", 1)[-1])

    def _instance(self, args: dict) -> dict:
        key = (args["p"], args["z"], args["n"])
        if key not in self.instances:
            raise ApiError(404, "notFound",
                           f"The resource 'projects/{args['p']}/zones/{args['z']}/instances/{args['n']}' was not found")
        return self.instances[key]

    def _start(self, project: str, zone: str, kind: str, target: dict | None, effect: str, *extra,
               target_name: str = "") -> dict:
        op = operation(project, zone, kind, target, target_name=target_name)
        key = (project, zone, op["name"])
        self.operations[key] = op
        self.pending[key] = (effect, (project, zone, (target or {}).get("name") or target_name, *extra), self._seq)
        return op

    def _settle(self) -> None:
        """Operations nobody polls finish by themselves, as Compute Engine's do: by
        the next request after them."""
        for key in [k for k, (_, _, at) in self.pending.items() if at <= self._seq]:
            self._finish(key)

    def _finish(self, key: tuple) -> dict:
        op = self.operations[key]
        if op["status"] != "DONE":
            effect, args, _ = self.pending.pop(key, ("none", (), 0))
            project, zone, name = args[:3]
            inst = self.instances.get((project, zone, name))
            if effect == "insert" and inst is not None:
                inst["status"] = "RUNNING"
                inst["lastStartTimestamp"] = now()
            elif effect == "preempt" and inst is not None:
                inst.update({"status": "RUNNING", "lastStartTimestamp": now()})
                self.preempt(project, zone, name)
            elif effect == "fail":
                self.instances.pop((project, zone, name), None)
                operation_failure(op, *args[3:])
            elif effect == "delete":
                self.instances.pop((project, zone, name), None)
                self.consoles.pop((project, zone, name), None)
            elif effect in ("reserve", "unreserve"):
                self.finish_reservation(effect, project, zone, name)
            elif effect == "stop" and inst is not None:
                inst.update({"status": "TERMINATED", "lastStopTimestamp": now()})
            elif effect == "start" and inst is not None:
                inst.update({"status": "RUNNING", "lastStartTimestamp": now()})
            op.update({"status": "DONE", "progress": 100, "endTime": now()})
        return op

    # -- instances ----------------------------------------------------------

    def _instances_insert(self, args, query, body, fault):
        project, zone = args["p"], args["z"]
        rid = query.get("requestId")
        if rid and rid in self.request_ids:
            return self.operations[self.request_ids[rid]]
        key = (project, zone, str(body.get("name")))
        if key in self.instances:
            raise ApiError(409, "alreadyExists",
                           f"The resource 'projects/{project}/zones/{zone}/instances/{key[2]}' already exists")
        self.check_affinity(project, zone, body)
        self.serial += 1
        inst = new_instance(project, zone, body, self.serial)
        self.instances[key] = inst
        self.zones_seen.add((project, zone))
        self.consoles[key] = f"Booting {inst['name']}\n"
        if fault is not None and fault["code"] == "PREEMPTED":
            op = self._start(project, zone, "insert", inst, "preempt")
        elif fault is not None:
            code = fault["code"]
            op = self._start(project, zone, "insert", inst, "fail", code, self._message(fault, args, body),
                             int(fault.get("status", OPERATION_STATUS.get(code, 400))))
        else:
            op = self._start(project, zone, "insert", inst, "insert")
        if rid:
            self.request_ids[rid] = (project, zone, op["name"])
        return op

    def _instances_get(self, args, query, body, fault):
        return self._instance(args)

    def _instances_delete(self, args, query, body, fault):
        inst = self._instance(args)
        inst["status"] = "STOPPING"
        return self._start(args["p"], args["z"], "delete", inst, "delete")

    def _instances_setLabels(self, args, query, body, fault):
        inst = self._instance(args)
        if body.get("labelFingerprint") != inst["labelFingerprint"]:
            raise ApiError(412, "conditionNotMet",
                           "Labels fingerprint either invalid or resource labels have changed")
        labels = dict(body.get("labels") or {})
        check_labels(labels)
        inst["labels"] = labels
        inst["labelFingerprint"] = fingerprint(labels)
        return self._start(args["p"], args["z"], "setLabels", inst, "none")

    def _instances_stop(self, args, query, body, fault):
        inst = self._instance(args)
        if inst["status"] not in ("TERMINATED",):
            inst["status"] = "STOPPING"
        return self._start(args["p"], args["z"], "stop", inst, "stop")

    def _instances_start(self, args, query, body, fault):
        inst = self._instance(args)
        if inst["status"] == "TERMINATED":
            inst["status"] = "STAGING"
        return self._start(args["p"], args["z"], "start", inst, "start")

    def _instances_getSerialPortOutput(self, args, query, body, fault):
        self._instance(args)
        text = self.consoles.get((args["p"], args["z"], args["n"]), "")
        start = int(query.get("start") or 0)
        return {"kind": "compute#serialPortOutput", "contents": text[start:], "start": str(start),
                "next": str(len(text)), "selfLink": f"projects/{args['p']}/zones/{args['z']}/instances/{args['n']}"
                                                   f"/serialPort?port={query.get('port', '1')}"}

    def _page(self, items: list[tuple[str, dict]], query: dict) -> tuple[list[tuple[str, dict]], str]:
        size = max(1, min(500, int(query.get("maxResults") or 500)))
        start = int(base64.urlsafe_b64decode(query["pageToken"]).decode()) if query.get("pageToken") else 0
        page = items[start:start + size]
        more = start + size < len(items)
        return page, (base64.urlsafe_b64encode(str(start + size).encode()).decode() if more else "")

    def _instances_list(self, args, query, body, fault):
        ok = matcher(query.get("filter"))
        found = [("", i) for (p, z, _), i in sorted(self.instances.items())
                 if p == args["p"] and z == args["z"] and ok(i)]
        page, token = self._page(found, query)
        out = {"kind": "compute#instanceList", "id": f"projects/{args['p']}/zones/{args['z']}/instances",
               "items": [i for _, i in page], "selfLink": f"projects/{args['p']}/zones/{args['z']}/instances"}
        return {**out, "nextPageToken": token} if token else out

    def _aggregated(self, project: str, found: list[tuple[str, dict]], query: dict, kind: str, field: str) -> dict:
        page, token = self._page(found, query)
        items: dict[str, dict] = {}
        for zone, resource in page:
            items.setdefault(f"zones/{zone}", {field: []})[field].append(resource)
        for p, zone in sorted(self.zones_seen):
            if p == project and f"zones/{zone}" not in items:
                items[f"zones/{zone}"] = {"warning": {
                    "code": "NO_RESULTS_ON_PAGE",
                    "message": f"There are no results for scope 'zones/{zone}' on this page.",
                    "data": [{"key": "scope", "value": f"zones/{zone}"}]}}
        out = {"kind": kind, "id": f"projects/{project}/aggregated/{field}", "items": items,
               "selfLink": f"projects/{project}/aggregated/{field}"}
        return {**out, "nextPageToken": token} if token else out

    def _instances_aggregatedList(self, args, query, body, fault):
        ok = matcher(query.get("filter"))
        found = [(z, i) for (p, z, _), i in sorted(self.instances.items()) if p == args["p"] and ok(i)]
        return self._aggregated(args["p"], found, query, "compute#instanceAggregatedList", "instances")

    # -- operations ---------------------------------------------------------

    def _operation(self, args) -> tuple:
        key = (args["p"], args["z"], args["o"])
        if key not in self.operations:
            raise ApiError(404, "notFound",
                           f"The resource 'projects/{args['p']}/zones/{args['z']}/operations/{args['o']}' "
                           "was not found")
        return key

    def _zoneOperations_get(self, args, query, body, fault):
        return self._finish(self._operation(args))

    def _zoneOperations_wait(self, args, query, body, fault):
        return self._finish(self._operation(args))

    def _globalOperations_aggregatedList(self, args, query, body, fault):
        ok = matcher(query.get("filter"))
        found = [(z, o) for (p, z, _), o in sorted(self.operations.items(), key=lambda kv: kv[1]["insertTime"])
                 if p == args["p"] and ok(o)]
        return self._aggregated(args["p"], found, query, "compute#operationAggregatedList", "operations")


def post(url: str, path: str, body: dict | None = None, method: str = "POST") -> Any:
    """Call the control endpoint over HTTP (for tests that run skyplan in a subprocess)."""
    data = json.dumps(body or {}).encode() if method == "POST" else None
    req = urllib.request.Request(url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"null")

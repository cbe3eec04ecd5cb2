"""moto's EC2 server on 127.0.0.1, wrapped in a fault-injecting WSGI middleware.

moto has no fault injection for EC2, so ``FaultMiddleware`` sits in front of
its ``DomainDispatcherApplication`` and answers the next matching call with an
EC2 XML error. Control endpoint (plain HTTP, JSON bodies):

    POST   /_faults   {"action": "RunInstances", "instance_type": "p5.48xlarge",
                       "zone": "us-east-1a", "code": "InsufficientInstanceCapacity",
                       "status": 400, "times": 1}
    DELETE /_faults   clear all faults
    GET    /_calls    [{"action": ..., "region": ..., "client_token": ...}, ...] every EC2 call seen

``action``/``instance_type``/``zone`` are optional matchers; ``times`` is how many
matching calls fail (default 1). Instead of ``code``, a fault may carry
``"replace": [old, new]``: the call reaches moto and ``old`` is replaced by
``new`` in its answer (e.g. to keep instances ``pending``); with ``"after": true``
the call reaches moto and takes effect, and only its answer is replaced by the
error (an answer lost on the way back).

Capacity reservations (which moto lacks) and ``ClientToken`` idempotency of
``RunInstances`` are answered by ``tests/providers/ec2_reservations.py``
(``MotoEC2Server.reservations``).
"""

from __future__ import annotations

import io
import json
import os
import re
import threading
import urllib.parse
import urllib.request
from typing import Any

from tests.providers.ec2_reservations import Reservations

_CREDENTIAL_REGION = re.compile(r"Credential=[^/]+/\d+/([a-z0-9-]+)/")


class FaultMiddleware:
    def __init__(self, app):
        self.app = app
        self.faults: list[dict[str, Any]] = []
        self.calls: list[dict[str, str]] = []
        self.lock = threading.Lock()
        self.reservations = Reservations()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/_faults":
            return self._control(environ, start_response)
        if path == "/_calls":
            with self.lock:
                body = json.dumps(self.calls).encode()
            return self._send(start_response, "200 OK", body, "application/json")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        data = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(data)
        params = urllib.parse.parse_qs(data.decode("utf-8", "replace"))
        action = (params.get("Action") or [""])[0]
        if action:
            m = _CREDENTIAL_REGION.search(environ.get("HTTP_AUTHORIZATION", ""))
            with self.lock:
                self.calls.append({"action": action, "region": m.group(1) if m else "",
                                   "client_token": (params.get("ClientToken") or [""])[0]})
            fault = self._match(action, params)
            if fault and "replace" in fault:
                return self._rewrite(environ, start_response, fault["replace"])
            if fault and not fault.get("after"):
                return self._error(start_response, fault)
            flat = {k: v[0] for k, v in params.items()}
            answer = self.reservations.handle(action, m.group(1) if m else "us-east-1", flat,
                                              lambda: self._forward(environ, flat))
            if fault:  # the call took effect, its answer is lost
                if answer is None:
                    self._forward(environ, flat)
                return self._error(start_response, fault)
            if answer is not None:
                status, headers, body = answer
                headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
                start_response(status, headers + [("Content-Length", str(len(body)))])
                return [body]
        return self.app(environ, start_response)

    def _forward(self, environ, params: dict[str, str]) -> tuple[str, list, bytes]:
        """moto's answer to the call, without the parameters moto does not know
        (a capacity reservation target, the capacity-block market type)."""
        drop = [k for k in params if k.startswith("CapacityReservationSpecification.")]
        if params.get("InstanceMarketOptions.MarketType") == "capacity-block":
            drop.append("InstanceMarketOptions.MarketType")
        if drop:
            raw = environ["wsgi.input"].read().decode("utf-8", "replace")
            kept = [(k, v) for k, v in urllib.parse.parse_qsl(raw, keep_blank_values=True) if k not in drop]
            data = urllib.parse.urlencode(kept).encode()
            environ["wsgi.input"] = io.BytesIO(data)
            environ["CONTENT_LENGTH"] = str(len(data))
        captured: dict = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers

        body = b"".join(self.app(environ, capture))
        return captured["status"], captured["headers"], body

    def _rewrite(self, environ, start_response, replace: list[str]):
        """Pass the call to moto, then replace text in its answer (e.g. hold a state)."""
        captured: dict = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers

        body = b"".join(self.app(environ, capture))
        body = body.replace(replace[0].encode(), replace[1].encode())
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], headers + [("Content-Length", str(len(body)))])
        return [body]

    def _match(self, action: str, params: dict) -> dict | None:
        itype = (params.get("InstanceType") or [""])[0]
        zone = (params.get("Placement.AvailabilityZone") or [""])[0]
        with self.lock:
            for fault in self.faults:
                if fault.get("action") and fault["action"] != action:
                    continue
                if fault.get("instance_type") and fault["instance_type"] != itype:
                    continue
                if fault.get("zone") and fault["zone"] != zone:
                    continue
                fault["times"] = fault.get("times", 1) - 1
                if fault["times"] <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def _control(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        if method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            fault = json.loads(environ["wsgi.input"].read(length) or b"{}")
            if "code" not in fault and "replace" not in fault:
                return self._send(start_response, "400 Bad Request", b'{"error": "code or replace is required"}',
                                  "application/json")
            with self.lock:
                self.faults.append(fault)
        elif method == "DELETE":
            with self.lock:
                self.faults.clear()
        with self.lock:
            body = json.dumps(self.faults).encode()
        return self._send(start_response, "200 OK", body, "application/json")

    @staticmethod
    def _error(start_response, fault: dict):
        status = int(fault.get("status", 503 if fault["code"] == "RequestLimitExceeded" else 400))
        message = fault.get("message") or f"injected {fault['code']}"
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error><Code>{fault['code']}</Code><Message>{message}</Message></Error></Errors>"
            "<RequestID>00000000-0000-0000-0000-000000000000</RequestID></Response>"
        ).encode()
        reason = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 500: "Internal Server Error",
                  503: "Service Unavailable"}.get(status, "Error")
        return FaultMiddleware._send(start_response, f"{status} {reason}", body, "text/xml")

    @staticmethod
    def _send(start_response, status: str, body: bytes, ctype: str):
        start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(body)))])
        return [body]


class MotoEC2Server:
    """A running moto server with the fault middleware; ``url`` is its endpoint."""

    def __init__(self) -> None:
        os.environ["MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION"] = "true"
        from moto import settings
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication, MotoRequestHandler, create_backend_app,
        )
        from werkzeug.serving import make_server

        settings.EC2_ENABLE_INSTANCE_TYPE_VALIDATION = True
        self.middleware = FaultMiddleware(DomainDispatcherApplication(create_backend_app))
        self._server = make_server("127.0.0.1", 0, self.middleware, threaded=True,
                                   request_handler=MotoRequestHandler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _post(self, path: str, body: dict | None = None, method: str = "POST") -> Any:
        data = json.dumps(body or {}).encode()
        req = urllib.request.Request(self.url + path, data=data if method == "POST" else None, method=method)
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
        return json.loads(raw) if raw.startswith((b"[", b"{")) else raw

    def reset(self) -> None:
        self._post("/moto-api/reset")
        self.reservations.reset()
        self.clear_faults()
        with self.middleware.lock:
            self.middleware.calls.clear()

    @property
    def reservations(self) -> Reservations:
        return self.middleware.reservations

    def inject(self, code: str | None = None, **match: Any) -> None:
        self._post("/_faults", {"code": code, **match} if code else match)

    def clear_faults(self) -> None:
        self._post("/_faults", method="DELETE")

    def calls(self, action: str | None = None) -> list[dict]:
        with self.middleware.lock:
            return [c for c in self.middleware.calls if action is None or c["action"] == action]

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

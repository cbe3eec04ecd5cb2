"""Services on the local provider end to end: real HTTP servers, one free port per
replica, readiness probed over loopback, an unhealthy replica replaced by repair."""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.planner.cli_runner import run_cli

# Answers /health with 200, or 500 once a file named "sick-PORT" (its own port) is in
# its working folder, or when VERSION is "bad". A replacement listens on another port,
# so it starts healthy in the same folder.
SERVER = '''
import http.server, os, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        bad = os.path.exists("sick-" + os.environ["SKYPLAN_PORT"]) or os.environ.get("VERSION") == "bad"
        self.send_response(500 if bad else 200)
        self.end_headers()
        self.wfile.write(os.environ.get("VERSION", "").encode())
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(os.environ["SKYPLAN_PORT"])), H).serve_forever()
'''

CONFIG = '''
variable "version" {
  default = "v1"
}

workload "api" {
  kind     = "service"
  replicas = 2
  ports    = [8000]
  env      = { VERSION = var.version }
  run      = "exec %(python)s %(server)s"
  readiness {
    path              = "/health"
    initial_delay     = "3s"
    period            = "100ms"
    timeout           = "3s"
    failure_threshold = 2
  }
  update {
    strategy        = "rolling"
    max_unavailable = 1
    max_surge       = 1
  }
}

output "endpoints" {
  value = workload.api.endpoints
}
'''


@pytest.fixture()
def folder(tmp_path):
    (tmp_path / "server.py").write_text(SERVER)
    (tmp_path / "main.sky.hcl").write_text(CONFIG % {"python": sys.executable, "server": tmp_path / "server.py"})
    yield tmp_path
    run_cli("destroy", "-auto-approve", str(tmp_path), cwd=tmp_path)


def status(folder: Path) -> dict:
    ran = run_cli("status", "--json", str(folder), cwd=folder)
    assert ran.returncode == 0, ran.stderr
    return next(r for r in json.loads(ran.stdout)["resources"] if r["address"] == "workload.api")


def answer(endpoint: str) -> int:
    try:
        with urllib.request.urlopen(f"http://{endpoint}/health", timeout=2) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_replicas_get_their_own_ports_and_endpoints(folder):
    ran = run_cli("apply", "-auto-approve", str(folder), cwd=folder)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    row = status(folder)
    endpoints = row["endpoints"]
    assert len(endpoints) == 2 and len(set(endpoints)) == 2
    assert all(e.startswith("127.0.0.1:") and answer(e) == 200 for e in endpoints)
    assert [r["readiness"] for r in row["replicas"]] == ["READY", "READY"]
    assert all(r["last_probe"] == "HTTP 200" for r in row["replicas"])
    out = run_cli("output", "-json", str(folder), cwd=folder)
    assert out.returncode == 0, out.stderr
    assert sorted(json.loads(out.stdout)["endpoints"]["value"]) == sorted(endpoints)
    text = run_cli("status", str(folder), cwd=folder).stdout
    assert "READY" in text and endpoints[0] in text


def test_a_replica_answering_500_is_unhealthy_and_replaced(folder):
    assert run_cli("apply", "-auto-approve", str(folder), cwd=folder).returncode == 0
    replicas = status(folder)["replicas"]
    sick, healthy = replicas[0], replicas[1]
    # that replica's own working folder, as the registry records it (status lists
    # replicas in no particular group order)
    entry = json.loads((folder / ".skyplan" / "local" / "registry" / f"{sick['id']}.json").read_text())
    workdirs = [Path(entry["workdir"])]
    (workdirs[0] / f"sick-{sick['endpoint'].rsplit(':', 1)[1]}").write_text("")
    assert answer(sick["endpoint"]) == 500
    found = None
    for _ in range(10):  # failures add up across refreshes, one probe per period
        time.sleep(0.15)
        ran = run_cli("drift", "-json", str(folder), cwd=folder)
        report = json.loads(ran.stdout)
        found = [i for i in report["items"] if i["category"] == "unhealthy"]
        if found:
            break
    assert found and found[0]["address"] == "workload.api", report
    assert ran.returncode == 2 and "HTTP 500" in found[0]["detail"]
    # the sick replica stays sick, so every refresh, the repair's too, finds it unhealthy
    repaired = run_cli("drift", "--repair", "-auto-approve", str(folder), cwd=folder)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    row = status(folder)
    ids = [r["id"] for r in row["replicas"]]
    assert sick["id"] not in ids
    assert healthy["id"] in ids, "only the unhealthy replica is replaced; the one that serves keeps running"
    assert "replacing replica" in repaired.stdout, repaired.stdout
    assert len(row["endpoints"]) == 2 and all(answer(e) == 200 for e in row["endpoints"])


def test_a_rolling_update_with_a_bad_version_stops_and_keeps_serving(folder):
    assert run_cli("apply", "-auto-approve", str(folder), cwd=folder).returncode == 0
    before = status(folder)
    ran = run_cli("apply", "-auto-approve", "-var", "version=bad", str(folder), cwd=folder)
    assert ran.returncode == 1
    assert "rolling update stopped" in ran.stderr and "HTTP 500" in ran.stderr
    row = status(folder)
    assert sorted(r["id"] for r in row["replicas"]) == sorted(r["id"] for r in before["replicas"])
    assert len(row["endpoints"]) == 2 and all(answer(e) == 200 for e in row["endpoints"])


def test_a_good_rolling_update_never_has_fewer_than_replicas_minus_one_ready(folder):
    import threading

    assert run_cli("apply", "-auto-approve", str(folder), cwd=folder).returncode == 0
    endpoints = set(status(folder)["endpoints"])
    seen: list[int] = []
    stop = threading.Event()

    def watch():  # count the replicas that answer 200, old or new, while the rollout runs
        from skyplan.providers.local.registry import Registry

        reg = Registry(folder / ".skyplan" / "local")
        while not stop.is_set():
            ports = {f"127.0.0.1:{e['port']}" for e in reg.entries() if e.get("port")} | endpoints
            seen.append(sum(1 for e in ports if _answers(e)))
            time.sleep(0.02)

    t = threading.Thread(target=watch)
    t.start()
    try:
        ran = run_cli("apply", "-auto-approve", "-var", "version=v2", str(folder), cwd=folder)
    finally:
        stop.set()
        t.join()
    assert ran.returncode == 0, ran.stdout + ran.stderr
    row = status(folder)
    assert len(row["endpoints"]) == 2 and not set(row["endpoints"]) & endpoints
    for e in row["endpoints"]:
        with urllib.request.urlopen(f"http://{e}/health", timeout=2) as r:
            assert r.read() == b"v2"
    assert seen and min(seen) >= 1  # replicas - max_unavailable


def _answers(endpoint: str) -> bool:
    try:
        return answer(endpoint) == 200
    except OSError:
        return False


def test_the_local_service_example_serves_its_endpoints(tmp_path):
    from tests.examples import copy_example

    folder = copy_example("local-service", tmp_path / "ex")
    try:
        ran = run_cli("apply", "-auto-approve", str(folder), cwd=folder)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        row = status(folder)
        assert len(row["endpoints"]) == 3 and all(answer(e) == 200 for e in row["endpoints"])
    finally:
        run_cli("destroy", "-auto-approve", str(folder), cwd=folder)


def test_a_changed_readiness_block_changes_no_node(folder):
    assert run_cli("apply", "-auto-approve", str(folder), cwd=folder).returncode == 0
    ids = sorted(r["id"] for r in status(folder)["replicas"])
    text = (folder / "main.sky.hcl").read_text().replace("failure_threshold = 2", "failure_threshold = 3")
    (folder / "main.sky.hcl").write_text(text)
    ran = run_cli("apply", "-auto-approve", str(folder), cwd=folder)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "0 added, 1 changed, 0 destroyed" in ran.stdout
    assert sorted(r["id"] for r in status(folder)["replicas"]) == ids


def test_verdicts_starting_then_failures_in_a_row():
    from skyplan.config.service import Readiness
    from skyplan.drift.readiness import NOT_READY, READY, STARTING, is_unhealthy, judge

    spec = Readiness(path="/h", initial_delay=10, period=1, failure_threshold=2)
    v = judge(None, False, "no answer", since=0, spec=spec, now=5)
    assert v["status"] == STARTING and not is_unhealthy(v, spec)
    v = judge(v, False, "HTTP 500", since=0, spec=spec, now=11)
    assert (v["status"], v["failures"]) == (NOT_READY, 1) and not is_unhealthy(v, spec)
    v = judge(v, False, "HTTP 500", since=0, spec=spec, now=12)
    assert is_unhealthy(v, spec)
    v = judge(v, True, "HTTP 200", since=0, spec=spec, now=13)
    assert (v["status"], v["failures"]) == (READY, 0)
    # once it answered, a failure inside the initial delay counts too
    assert judge(judge(None, True, "HTTP 200", 0, spec, 1), False, "HTTP 500", 0, spec, 2)["status"] == NOT_READY

"""LocalProvider: each node of a workload placed on ``local`` is a real process tree.

Layout under ``<root>/.skyplan/local/`` (root = the provider's ``root`` setting,
which the CLI sets to the configuration folder, else the current folder):

- ``<address-slug>/<group>-<rank>/``  the node's working directory
- ``registry/<id>.json``              the registry entry (pid, pgid, address, lineage, ...)
- ``registry/<id>.spec.json``         what the supervisor runs: command, working directory, env
- ``logs/<id>.log``                   the node's stdout and stderr, and supervisor events

The registry holds the node's env, which may carry sensitive values: the folder
is 0700 and its files 0600. A node's environment is only what the workload
declares (``env``), skyplan's ``SKYPLAN_*`` node variables and, so that a
process can run at all, ``INHERITED_ENV`` from skyplan's own environment (the
search path, home, user, shell, terminal, locale, time zone and temp folder):
never skyplan's other variables, such as cloud credentials.

A service that declares ports gets one free loopback port per replica, passed as
``SKYPLAN_PORT`` (its first declared port maps to it), so replicas on one machine
do not collide; the node's ``endpoint`` attribute is ``127.0.0.1:PORT``.

What ``list_managed`` reports for a registered node:

- supervisor alive, no exit code          -> ``running``
- exit code recorded                      -> ``succeeded`` (0) or ``failed`` (non-zero)
- stopped by its idle timer (``autostop``) -> ``stopped`` with ``stopped_by = "autostop"``:
  the supervisor found its process group without CPU activity for the window
  (see ``supervisor.py``), wrote the stop file and stopped the group;
  ``update(state="running")`` (``skyplan start``) runs it again under the same id
- supervisor dead without an exit code    -> not listed: it was killed from outside, so
  the node is gone and refresh reports it *missing*
- preempted (a spot node only)            -> ``preempted``, as a cloud reports a spot node
  stopped by an interruption: its process group was stopped and its stop file says
  ``preemption``. ``preempt(node_id)`` does it; so does a line in the file
  ``.skyplan/local/preempt`` (a node id or an address, e.g. ``workload.train``),
  consumed by the next ``list_managed``. It lets a deadline job's recovery be run
  end to end on one machine.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from skyplan.config.model import ProviderConfig
from skyplan.errors import ProviderError
from skyplan.providers.base import TAG_LINEAGE, TAG_RANK, Instance, LaunchRequest
from skyplan.providers.local.registry import SIGKILL, SIGTERM, Registry, pid_alive, proc_start, slug, write_atomic

START_TIMEOUT = 15.0  # seconds for a supervisor to report in
KILL_TIMEOUT = 10.0  # seconds to wait for SIGKILLed processes to disappear
STOP_TIMEOUT = 5.0  # seconds between SIGTERM and SIGKILL
RESTART_FIELDS = ("env", "setup", "run", "ports", "image")

# Run by path: the supervisor imports only the standard library, so it starts fast.
SUPERVISOR = str(Path(__file__).with_name("supervisor.py"))

# What a node inherits from skyplan's own environment (besides LC_* locale settings).
INHERITED_ENV = ("PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "LANGUAGE", "TZ", "TMPDIR")


def inherited_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The part of ``environ`` a local node may see (see the module docstring)."""
    return {k: v for k, v in environ.items() if k in INHERITED_ENV or k.startswith("LC_")}

def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now (the kernel's pick)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_children: dict[int, subprocess.Popen] = {}  # supervisors this process started (reaped on sight)


def _reap() -> None:
    for pid, proc in list(_children.items()):
        if proc.poll() is not None:
            _children.pop(pid, None)


class LocalProvider:
    """The embedded default provider: workloads run as processes on this machine."""

    def __init__(self, cfg: ProviderConfig | None = None):
        cfg = cfg or ProviderConfig(kind="local")
        self.cfg = self.config = cfg
        self.name = cfg.key
        settings = dict(cfg.settings or {})
        self.root = Path(settings.get("root") or os.getcwd()).resolve()
        self.max_parallel = settings.get("max_parallel")
        self.registry = Registry(self.root / ".skyplan" / "local")

    # -- catalog ------------------------------------------------------------------------------------
    def offers(self) -> list:
        """This machine as one offer at price 0. Never raises for a readable machine."""
        from skyplan.catalog import local_offers

        return list(local_offers((self.cfg.settings or {}).get("price")))

    # -- create -------------------------------------------------------------------------------------
    def create(self, req: LaunchRequest) -> list[Instance]:
        """Start ``req.placement.nodes`` supervised processes and wait until each has started.

        Failure contract: raises ProviderError when bash or a supervisor cannot start;
        every node already started for this request is terminated and unregistered
        first, so nothing is left running. A crash of skyplan itself mid-way leaves
        registered nodes carrying the address and lineage, which ``list_managed`` finds.
        """
        nodes = max(1, int(req.placement.nodes or 1))
        started: list[dict] = []
        try:
            for rank in range(nodes):
                started.append(self._start_node(req, rank, nodes))
            for entry in started:
                self._wait_started(entry)
        except BaseException:
            self._stop_entries(started)
            raise
        return [self._instance(e) for e in started]

    def _node_env(self, req: LaunchRequest, rank: int, nodes: int, node_id: str, port: int | None) -> dict[str, str]:
        env = inherited_env(os.environ)
        env.update({str(k): str(v) for k, v in req.env.items()})
        env.update({
            "SKYPLAN_ADDRESS": req.address, "SKYPLAN_LINEAGE": req.lineage, "SKYPLAN_GROUP": str(req.group),
            "SKYPLAN_NODE_RANK": str(rank), "SKYPLAN_NUM_NODES": str(nodes),
            "SKYPLAN_NODE_IPS": "\n".join(["127.0.0.1"] * nodes), "SKYPLAN_HEAD_IP": "127.0.0.1",
            "SKYPLAN_NODE_ID": node_id,
        })
        if port is not None:
            env["SKYPLAN_PORT"] = str(port)
        return env

    def _start_node(self, req: LaunchRequest, rank: int, nodes: int) -> dict:
        node_id = f"{slug(req.address)}-g{req.group}-r{rank}-{secrets.token_hex(4)}"
        workdir = self.root / ".skyplan" / "local" / slug(req.address) / f"{req.group}-{rank}"
        workdir.mkdir(parents=True, exist_ok=True)
        self.registry.logs.mkdir(parents=True, exist_ok=True, mode=0o700)  # output may show secrets
        paths = self.registry.paths(node_id)
        # Every replica of a service on this machine listens on its own port: the first
        # declared port maps to a free one, handed to the node as SKYPLAN_PORT.
        port = free_port() if req.kind == "service" and req.ports else None
        entry: dict[str, Any] = {
            "id": node_id, "address": req.address, "lineage": req.lineage, "group": req.group, "rank": rank,
            "num_nodes": nodes, "kind": req.kind, "region": req.placement.region, "zone": req.placement.zone,
            "instance_type": req.placement.instance_type, "pricing": req.placement.pricing,
            "workdir": str(workdir), "log": str(paths["log"]), "pid": None, "pgid": None, "proc_start": None,
            "started_at": time.time(), "creator": [os.getpid(), proc_start(os.getpid())], "tags": {**req.tags(), TAG_RANK: str(rank)},
            "env": {str(k): str(v) for k, v in req.env.items()}, "ports": list(req.ports), "port": port,
        }
        self.registry.write(entry)  # registered before anything runs
        spec = {
            "workdir": str(workdir), "env": self._node_env(req, rank, nodes, node_id, port), "kind": req.kind,
            "setup": req.setup, "run": req.run, "log": str(paths["log"]),
            "pid_file": str(paths["pid"]), "exit_file": str(paths["exit"]),
            "stop_file": str(paths["stopped"]), "autostop": req.autostop if req.kind == "service" else None,
        }
        self._spawn(entry, spec)
        return entry

    def _spawn(self, entry: dict, spec: dict) -> None:
        paths = self.registry.paths(entry["id"])
        for name in ("pid", "exit", "stopped"):
            paths[name].unlink(missing_ok=True)
        write_atomic(paths["spec"], json.dumps(spec))
        _reap()
        try:
            with open(paths["log"], "ab") as log:
                proc = subprocess.Popen(
                    [sys.executable, SUPERVISOR, str(paths["spec"])],
                    cwd=spec["workdir"], env=spec["env"], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                    start_new_session=True, close_fds=True)
        except OSError as e:
            raise ProviderError(f"{entry['address']}: cannot start a local process: {e}", provider=self.name) from None
        _children[proc.pid] = proc
        entry.update(pid=proc.pid, pgid=proc.pid, proc_start=proc_start(proc.pid), started_at=time.time())
        self.registry.write(entry)

    def _wait_started(self, entry: dict) -> None:
        paths = self.registry.paths(entry["id"])
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if paths["pid"].exists():
                return
            proc = _children.get(entry["pid"])
            if proc is not None and proc.poll() is not None:
                raise ProviderError(f"{entry['address']}: the local supervisor ended at once "
                                    f"(code {proc.returncode}); see {paths['log']}", provider=self.name)
            time.sleep(0.005)
        raise ProviderError(f"{entry['address']}: the local supervisor did not start within {START_TIMEOUT:.0f}s",
                            provider=self.name)

    # -- read -----------------------------------------------------------------------------------------
    def _state(self, entry: dict) -> str | None:
        code = self.registry.exit_code(entry["id"])
        if code is not None:
            return "succeeded" if code == 0 else "failed"
        pid = self.registry.pid_of(entry)
        if pid_alive(pid, entry.get("proc_start")):
            return "running"
        if self.registry.stopped_by(entry["id"]) and not self.registry.anything_alive(entry):
            return "preempted" if self.registry.stopped_by(entry["id"]) == "preemption" else "stopped"  # preempt.py
        if pid is None:
            creator = entry.get("creator") or [None, None]
            if pid_alive(creator[0], creator[1]) and time.time() - float(entry.get("started_at") or 0) < START_TIMEOUT:
                return "pending"
        return None

    def _instance(self, entry: dict, state: str | None = None) -> Instance:
        state = state or self._state(entry) or "terminated"
        code = self.registry.exit_code(entry["id"])
        ended_at = None
        if code is not None or state in ("stopped", "preempted"):
            try:
                ended_at = self.registry.paths(entry["id"])["exit" if code is not None else "stopped"].stat().st_mtime
            except OSError:
                pass
        return Instance(
            provider=self.name, id=entry["id"], address=entry["address"], lineage=entry["lineage"],
            group=int(entry["group"]), rank=int(entry["rank"]), region=entry.get("region") or "local",
            zone=entry.get("zone"), instance_type=entry.get("instance_type") or "local",
            pricing=entry.get("pricing") or "on_demand", state=state, tags=dict(entry.get("tags") or {}),
            attributes={
                "ip": "127.0.0.1", "pid": entry.get("pid"), "pgid": self.registry.pgid_of(entry), "kind": entry.get("kind"),
                "workdir": entry.get("workdir"), "log": entry.get("log"), "exit_code": code,
                "started_at": entry.get("started_at"), "ended_at": ended_at, "env": dict(entry.get("env") or {}),
                **({"stopped_by": self.registry.stopped_by(entry["id"])} if state == "stopped" else {}),
                **({"port": entry["port"], "endpoint": f"127.0.0.1:{entry['port']}"} if entry.get("port") else {}),
            },
        )

    def list_managed(self, lineage: str) -> list[Instance]:
        """Every registered node of ``lineage`` that is running or has finished with an
        exit code (see the module docstring). Reads local files only; raises nothing
        for a missing registry (an empty list)."""
        _reap()
        from skyplan.providers.local.preempt import preempt_requested

        preempt_requested(self)
        out = []
        for entry in self.registry.entries():
            if entry.get("lineage") != lineage:
                continue
            state = self._state(entry)
            if state is not None:
                out.append(self._instance(entry, state))
            elif self.registry.pid_of(entry) is None:
                self.registry.remove(entry["id"])  # registered by a process that died before starting it
        return out

    def read(self, provider_id: str) -> Instance:
        """One registered node by id; ProviderError if it is not registered."""
        entry = self.registry.read(provider_id)
        if entry is None:
            raise ProviderError(f"no local node {provider_id!r} is registered under {self.registry.dir}",
                                provider=self.name)
        return self._instance(entry)

    # -- preemption ---------------------------------------------------------------------------------
    def preempt(self, node_id: str) -> Instance:
        """Take a running spot node away as a cloud does (``preempt.preempt``: its failure contract)."""
        from skyplan.providers.local.preempt import preempt

        return preempt(self, node_id)

    # -- update -------------------------------------------------------------------------------------
    def update(self, inst: Instance, changes: Mapping[str, Any]) -> Instance:
        """Apply ``changes`` (attribute -> new value). For a service a change of env, setup,
        run or ports restarts the node's processes with the new values (same id);
        ``tags`` (a None value removes one) are rewritten in the registry entry,
        the lineage tag becoming the node's lineage; ``state`` "running" starts a
        stopped node again (same id and spec), "stopped" stops it (a stop file
        saying ``user``). Other attributes (cost limits, durations) have no local effect.

        Failure contract: ProviderError if the node is not registered, or if a job would
        need a restart (a finished or running job is replaced, not restarted); on a
        failed restart the node is left stopped and the error names its log.
        """
        entry = self.registry.read(inst.id)
        if entry is None:
            raise ProviderError(f"{inst.address}: local node {inst.id} is gone", provider=self.name,
                                hint="run `skyplan plan` to see it as missing and re-create it")
        if "tags" in changes:  # a None value removes the tag; the lineage tag is the entry's lineage
            tags = dict(entry.get("tags") or {})
            for k, v in dict(changes.get("tags") or {}).items():
                if v is None:
                    tags.pop(str(k), None)
                else:
                    tags[str(k)] = str(v)
            entry["tags"] = tags
            if TAG_LINEAGE in tags:
                entry["lineage"] = tags[TAG_LINEAGE]
            self.registry.write(entry)
        if changes.get("state") in ("running", "stopped"):
            return self._set_state(inst, entry, changes["state"])
        restart = sorted(k for k in changes if k in RESTART_FIELDS)
        if not restart:
            return self._instance(entry)
        if entry.get("kind") != "service":
            raise ProviderError(f"{inst.address}: a job's {', '.join(restart)} cannot change in place",
                                provider=self.name, hint=f"replace it: skyplan apply -replace {inst.address}")
        spec = json.loads(self.registry.paths(inst.id)["spec"].read_text())
        if "env" in changes:
            old_user = set(entry.get("env") or {})
            env = {k: v for k, v in spec["env"].items() if k not in old_user or k.startswith("SKYPLAN_")}
            env.update({str(k): str(v) for k, v in (changes.get("env") or {}).items()})
            spec["env"] = env
            entry["env"] = {str(k): str(v) for k, v in (changes.get("env") or {}).items()}
        for k in ("setup", "run"):
            if k in changes:
                spec[k] = changes[k]
        if "ports" in changes:
            entry["ports"] = list(changes.get("ports") or ())
        self._terminate(entry)
        self._spawn(entry, spec)
        self._wait_started(entry)
        return self._instance(entry)

    def _set_state(self, inst: Instance, entry: dict, want: str) -> Instance:
        """Start a stopped node again (same id, same spec), or stop a running one."""
        state = self._state(entry)
        if want == "running" and state == "stopped":
            self._spawn(entry, json.loads(self.registry.paths(inst.id)["spec"].read_text()))
            self._wait_started(entry)
        elif want == "stopped" and state == "running":
            write_atomic(self.registry.paths(inst.id)["stopped"], json.dumps({"by": "user", "at": time.time()}))
            self._terminate(entry)
        elif want == "running" and state != "running":
            raise ProviderError(f"{inst.address}: local node {inst.id} is {state or 'gone'}, not stopped; "
                                f"it cannot be started", provider=self.name,
                                hint=f"re-create it: skyplan apply -replace {inst.address}")
        return self._instance(entry)

    # -- delete -------------------------------------------------------------------------------------
    def _signal_until_gone(self, entry: dict, sig: int, timeout: float) -> bool:
        """Send ``sig`` to the node's group until nothing of it is alive or ``timeout``
        passes; True if it is gone. SIGTERM goes once (a graceful stop must not be
        interrupted); SIGKILL again each poll, for processes forked meanwhile."""
        deadline = time.monotonic() + timeout
        first = True
        while True:
            if first or sig == SIGKILL:
                self.registry.signal_group(entry, sig)
            first = False
            _reap()
            if not self.registry.anything_alive(entry):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def _terminate(self, entry: dict) -> None:
        try:
            # SIGKILL cannot be refused, but on a loaded machine the kernel may take a
            # while to tear a process down: wait for it rather than report a survivor.
            if not self._signal_until_gone(entry, SIGTERM, STOP_TIMEOUT):
                self._signal_until_gone(entry, SIGKILL, KILL_TIMEOUT)
        finally:
            proc = _children.pop(entry.get("pid") or -1, None)
            if proc is not None:  # a supervisor this process started: collect its exit status
                try:
                    proc.wait(timeout=1)
                except subprocess.TimeoutExpired:
                    _children[proc.pid] = proc

    def _stop_entries(self, entries: Sequence[dict]) -> None:
        for entry in entries:
            self._terminate(entry)
            self.registry.remove(entry["id"])

    def delete(self, insts: Sequence[Instance]) -> None:
        """Terminate each node's process group (SIGTERM, then SIGKILL after 5 s) and
        unregister it. A node already gone or unregistered is not an error. The node's
        working directory is kept (it may hold results); its log is removed.

        Failure contract: raises ProviderError only if a process survives SIGKILL (it
        stays registered, so a later delete or refresh finds it)."""
        for inst in insts:
            entry = self.registry.read(inst.id)
            if entry is None:
                continue
            self._terminate(entry)
            if self.registry.anything_alive(entry):
                raise ProviderError(f"{inst.address}: local node {inst.id} survived SIGKILL", provider=self.name)
            self.registry.remove(inst.id)

    # -- commands on a node -------------------------------------------------------------------------
    def run_command(self, inst: Instance, command: str, timeout: float) -> tuple[int, str]:
        """Run ``command`` with bash in the node's working directory and environment (a
        readiness probe); (exit code, the last line of its output). Raises ProviderError
        if the node is not registered; a command past ``timeout`` is killed and reported
        as exit code 124, as timeout(1) does."""
        entry = self.registry.read(inst.id)
        if entry is None:
            raise ProviderError(f"{inst.address}: local node {inst.id} is not registered", provider=self.name)
        spec = json.loads(self.registry.paths(inst.id)["spec"].read_text())
        try:
            done = subprocess.run(["bash", "-c", command], cwd=spec["workdir"], env=spec["env"], capture_output=True,
                                  text=True, errors="replace", timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return 124, f"timed out after {timeout:g}s"
        lines = (done.stdout + done.stderr).strip().splitlines()
        return done.returncode, (lines[-1] if lines else "")[:200]

    # -- logs ---------------------------------------------------------------------------------------
    def logs(self, inst: Instance, follow: bool = False) -> Iterator[str]:
        """Lines of the node's log; with ``follow`` keep reading until the node stops
        running. ProviderError if the node is not registered."""
        entry = self.registry.read(inst.id)
        if entry is None:
            raise ProviderError(f"{inst.address}: local node {inst.id} is not registered (deleted?)",
                                provider=self.name)
        path = Path(entry["log"])
        if not path.exists():
            return
        with open(path, "r", errors="replace") as f:
            buf = ""
            while True:
                chunk = f.readline()
                if chunk:
                    buf += chunk
                    if buf.endswith("\n"):
                        yield buf.rstrip("\n")
                        buf = ""
                    continue
                if not follow or self._state(entry) != "running":
                    if buf:
                        yield buf
                    rest = f.read()
                    for line in rest.splitlines():
                        yield line
                    return
                time.sleep(0.2)


def instances_by_address(insts: Iterable[Instance]) -> dict[str, list[Instance]]:
    out: dict[str, list[Instance]] = {}
    for i in insts:
        out.setdefault(i.address, []).append(i)
    return out

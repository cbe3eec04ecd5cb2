"""The local provider's process registry: one JSON file per node under
``<root>/.skyplan/local/registry/``, plus that node's spec, pid and exit files.

An entry is written *before* the supervisor starts (so a crash can never leave an
unregistered process) and completed with the pid after. Liveness is checked
against ``/proc``: a pid counts as ours only while its start time matches the one
recorded, so a reused pid is never mistaken for a node.
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
from pathlib import Path
from typing import Iterator



def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so readers see the old or the new content, never half.
    The file is 0600 from its creation: registry files may hold sensitive env values."""
    tmp = path.with_name(path.name + f".tmp{os.getpid()}-{threading.get_ident()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def slug(address: str) -> str:
    """A file-name-safe form of an address: ``workload.shard["a b"]`` -> ``workload.shard_a_b_``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", address)


def proc_start(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (jiffies since boot), or None if it is gone or a zombie."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]


def proc_pgrp(pid: int) -> int | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()
    return int(fields[2]) if fields[0] not in ("Z", "X") else None


def pid_alive(pid: int | None, start: str | None) -> bool:
    if not pid:
        return False
    if Path("/proc/self/stat").exists():
        now = proc_start(pid)
        return now is not None and (start is None or now == start)
    try:  # no /proc: best effort
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def runs_node(pid: int, node_id: str) -> bool:
    """Whether live process ``pid`` carries ``SKYPLAN_NODE_ID=node_id`` in its environment."""
    try:
        env = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return f"SKYPLAN_NODE_ID={node_id}".encode() in env.split(b"\0")


def group_members(pgid: int, node_id: str) -> list[int]:
    """Live processes in group ``pgid`` that carry ``SKYPLAN_NODE_ID=node_id`` in their environment."""
    return [pid for pid in (int(d.name) for d in Path("/proc").glob("[0-9]*"))
            if proc_pgrp(pid) == pgid and runs_node(pid, node_id)]


class Registry:
    def __init__(self, base: Path):
        self.base = Path(base)  # <root>/.skyplan/local

    @property
    def dir(self) -> Path:
        return self.base / "registry"

    @property
    def logs(self) -> Path:
        return self.base / "logs"

    def paths(self, node_id: str) -> dict[str, Path]:
        return {
            "entry": self.dir / f"{node_id}.json",
            "spec": self.dir / f"{node_id}.spec.json",
            "pid": self.dir / f"{node_id}.pid",
            "exit": self.dir / f"{node_id}.exit",
            "stopped": self.dir / f"{node_id}.stopped",  # who stopped the node: {"by": "autostop", ...}
            "log": self.logs / f"{node_id}.log",
        }

    def write(self, entry: dict) -> None:
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.dir.stat().st_mode & 0o077:  # made by an older skyplan
            os.chmod(self.dir, 0o700)
        write_atomic(self.paths(entry["id"])["entry"], json.dumps(entry, indent=1, sort_keys=True))

    def read(self, node_id: str) -> dict | None:
        try:
            return json.loads(self.paths(node_id)["entry"].read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def entries(self) -> Iterator[dict]:
        if not self.dir.is_dir():
            return
        for p in sorted(self.dir.glob("*.json")):
            if p.name.endswith(".spec.json"):
                continue
            try:
                yield json.loads(p.read_text())
            except (FileNotFoundError, json.JSONDecodeError):
                continue

    def pid_of(self, entry: dict) -> int | None:
        """The supervisor's pid: the one recorded at start, else the one its own pid file
        names (the creator may have died before recording it), trusted only while that
        process still runs this node, so a reused pid is never taken for it."""
        if entry.get("pid"):
            return int(entry["pid"])
        try:
            pid = int(self.paths(entry["id"])["pid"].read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if not Path("/proc/self/stat").exists() or runs_node(pid, entry["id"]) else None

    def pgid_of(self, entry: dict) -> int | None:
        """The node's process group. The supervisor starts its own session, so when the
        entry never got its group recorded, the group is the supervisor's pid."""
        if entry.get("pgid"):
            return int(entry["pgid"])
        pid = self.pid_of(entry)
        return pid if pid and proc_pgrp(pid) == pid else None

    def exit_code(self, node_id: str) -> int | None:
        try:
            return int(self.paths(node_id)["exit"].read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def stopped_by(self, node_id: str) -> str | None:
        """Who stopped the node (``autostop``), when a stop file says it was stopped."""
        try:
            return str(json.loads(self.paths(node_id)["stopped"].read_text()).get("by") or "") or None
        except (FileNotFoundError, json.JSONDecodeError, AttributeError):
            return None

    def remove(self, node_id: str, *, keep_log: bool = False) -> None:
        for name, p in self.paths(node_id).items():
            if name == "log" and keep_log:
                continue
            try:
                p.unlink()
            except FileNotFoundError:
                pass

    def signal_group(self, entry: dict, sig: int) -> bool:
        """Send ``sig`` to the node's process group; True if anything received it."""
        pgid = self.pgid_of(entry)
        pid = self.pid_of(entry)
        if not pgid:
            return False
        if pid_alive(pid, entry.get("proc_start")):
            try:
                os.killpg(pgid, sig)
                return True
            except ProcessLookupError:
                return False
        hit = False
        for member in group_members(pgid, entry["id"]):
            try:
                os.kill(member, sig)
                hit = True
            except ProcessLookupError:
                pass
        return hit

    def anything_alive(self, entry: dict) -> bool:
        if pid_alive(self.pid_of(entry), entry.get("proc_start")):
            return True
        pgid = self.pgid_of(entry)
        return bool(pgid) and bool(group_members(pgid, entry["id"]))


SIGTERM = signal.SIGTERM
SIGKILL = signal.SIGKILL

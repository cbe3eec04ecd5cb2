"""A throwaway PostgreSQL server for tests and benchmarks: ``initdb`` into a temp
folder, ``pg_ctl start`` on a free port of 127.0.0.1 with its unix socket in that
folder, trust authentication for a ``skyplan`` role. ``fsync`` is off (only the machine
crashing could lose data, never the server being killed or restarted); commits are
synchronous, so a restart mid-test keeps every acknowledged one. PostgreSQL refuses to run as
root, so under euid 0 the server runs as the ``postgres`` system user."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def find_bindir() -> str | None:
    """The newest ``/usr/lib/postgresql/*/bin`` with initdb, else the folder of an initdb on PATH."""
    def version(path: str) -> float:
        try:
            return float(Path(path).parent.parent.name)
        except ValueError:
            return 0.0

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    if found:
        return str(Path(found[-1]).parent)
    which = shutil.which("initdb")
    return str(Path(which).parent) if which else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self, bindir: str, *, durable: bool = False):
        self.bindir, self.durable = bindir, durable  # durable: fsync on, as a production server
        self.root = Path(tempfile.mkdtemp(prefix="skyplan-pg-"))
        self.data = self.root / "data"
        self.sock = self.root / "sock"
        self.port = _free_port()
        self.as_root = os.geteuid() == 0

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [os.path.join(self.bindir, args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)

    @property
    def url(self) -> str:
        return f"postgresql://skyplan:pw-secret@127.0.0.1:{self.port}/skyplan"

    def init(self) -> "PgServer":
        self.sock.mkdir()
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.sock, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-instructions" if self._initdb_knows_no_instructions() else "-N")
        with open(self.data / "postgresql.conf", "a") as f:
            f.write(f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
                    f"unix_socket_directories = '{self.sock}'\n{'' if self.durable else 'fsync = off'}\n"
                    "full_page_writes = off\nmax_connections = 200\nshared_buffers = 32MB\n")
        self.start()
        self.psql("CREATE ROLE skyplan LOGIN PASSWORD 'pw-secret'")
        self.psql("CREATE DATABASE skyplan OWNER skyplan")
        return self

    def _initdb_knows_no_instructions(self) -> bool:
        out = self._run("initdb", "--help", check=False).stdout
        return "--no-instructions" in out

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def restart(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "60", "restart",
                  "-l", str(self.root / "log"))

    def psql(self, sql: str, db: str = "postgres") -> str:
        return self._run("psql", "-h", str(self.sock), "-p", str(self.port), "-U", "postgres", "-d", db,
                         "-v", "ON_ERROR_STOP=1", "-Atc", sql).stdout

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

"""The detached supervisor of one local node: ``python supervisor.py SPEC`` (or ``python -m
skyplan.providers.local.supervisor SPEC``). Standard library only, so it starts fast.

It runs in its own session (process group) so it outlives the skyplan command
that started it. It writes its pid file, runs ``setup`` then ``run`` with bash in
the node's working directory (stdout and stderr appended to the node's log), and

- for a job: writes the exit code of the first failing step (or 0) to the exit file
  and ends;
- for a service: restarts ``run`` whenever it ends, waiting 1, 2, 4 ... up to 30 s
  between restarts (back to 1 s after a run that lasted a minute). A failing
  ``setup`` ends a service too, with its exit code recorded.

SIGTERM (sent to the whole group by ``LocalProvider.delete``) stops it: the
child gets SIGTERM as well and no exit code is written for a service.

With ``autostop`` (a service's idle window, in seconds) a watcher thread reads,
every minute (every fifth of the window when that is shorter, at least every
second), the CPU time the kernel counts for the node's other processes (its
process group, from ``/proc/PID/stat``). A window in which that total and the
set of processes did not change is idle: the supervisor writes the stop file
(``{"by": "autostop", ...}``) and sends SIGTERM to its own group, so the node
stops as a cloud node stopped by its idle timer does, without an exit code.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


class Supervisor:
    def __init__(self, spec: dict):
        self.spec = spec
        self.workdir = Path(spec["workdir"])
        self.env = {str(k): str(v) for k, v in spec["env"].items()}
        self.log_path = Path(spec["log"])
        self.stopping = False
        self.child: subprocess.Popen | None = None

    def event(self, text: str) -> None:
        with open(self.log_path, "a") as f:
            f.write(f"[skyplan] {time.strftime('%Y-%m-%dT%H:%M:%S')} {text}\n")

    def on_term(self, signum, frame) -> None:
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            try:
                self.child.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass

    def bash(self, script: str) -> int:
        with open(self.log_path, "ab") as log:
            self.child = subprocess.Popen(["bash", "-c", script], cwd=self.workdir, env=self.env,
                                          stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            while True:
                try:
                    return self.child.wait()
                except InterruptedError:  # pragma: no cover - PEP 475 retries for us
                    continue

    def finish(self, code: int) -> int:
        write_atomic(Path(self.spec["exit_file"]), f"{code}\n")
        self.event(f"exited with code {code}")
        return code

    def activity(self) -> tuple[frozenset, int]:
        """(pids, CPU ticks) of the other processes in this node's process group."""
        pgid, me, pids, ticks = os.getpgid(0), os.getpid(), set(), 0
        for d in Path("/proc").glob("[0-9]*"):
            try:
                text = (d / "stat").read_text()
            except OSError:
                continue
            fields = text[text.rfind(")") + 2:].split()
            if int(d.name) == me or int(fields[2]) != pgid or fields[0] in ("Z", "X"):
                continue
            pids.add(int(d.name))
            ticks += int(fields[11]) + int(fields[12])  # utime + stime
        return frozenset(pids), ticks

    def watch_idle(self, window: float) -> None:
        every = max(1.0, min(60.0, window / 5))
        seen, since = self.activity(), time.monotonic()
        while not self.stopping:
            time.sleep(every)
            now = self.activity()
            if now != seen:
                seen, since = now, time.monotonic()
            elif time.monotonic() - since >= window and not self.stopping:
                write_atomic(Path(self.spec["stop_file"]),
                             json.dumps({"by": "autostop", "at": time.time(), "window_seconds": window}))
                self.event(f"autostop: no process activity for {window:g}s; stopping the node")
                os.killpg(os.getpgid(0), signal.SIGTERM)
                return

    def main(self) -> int:
        signal.signal(signal.SIGTERM, self.on_term)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        self.workdir.mkdir(parents=True, exist_ok=True)
        write_atomic(Path(self.spec["pid_file"]), f"{os.getpid()}\n")
        if self.spec.get("setup"):
            self.event("running setup")
            code = self.bash(self.spec["setup"])
            if self.stopping:
                return 0
            if code != 0:
                self.event(f"setup failed with code {code}")
                return self.finish(code)
        run = self.spec.get("run") or ""
        if self.spec.get("autostop") and self.spec.get("kind") == "service" and Path("/proc/self/stat").exists():
            threading.Thread(target=self.watch_idle, args=(float(self.spec["autostop"]),), daemon=True).start()
        if self.spec.get("kind") != "service":
            code = self.bash(run) if run else 0
            return 0 if self.stopping else self.finish(code)
        delay = 1.0
        while not self.stopping:
            t0 = time.monotonic()
            self.event("starting service")
            code = self.bash(run) if run else self.wait_forever()
            if self.stopping:
                break
            delay = 1.0 if time.monotonic() - t0 >= 60 else delay
            self.event(f"service ended with code {code}; restarting in {delay:.0f}s")
            end = time.monotonic() + delay
            while not self.stopping and time.monotonic() < end:
                time.sleep(0.1)
            delay = min(30.0, delay * 2)
        return 0

    def wait_forever(self) -> int:
        while not self.stopping:
            time.sleep(0.5)
        return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m skyplan.providers.local.supervisor SPEC_JSON", file=sys.stderr)
        return 2
    spec = json.loads(Path(args[0]).read_text())
    return Supervisor(spec).main()


if __name__ == "__main__":
    sys.exit(main())

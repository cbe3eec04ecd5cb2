"""State at scale: 100,000 resources.

Prints
  - the time to load the full snapshot (target < 2 s), against the same rows
    decoded through the dataclass constructors (ResourceRecord.from_json);
  - the latency of 1,000 single-action commits (record(): upsert + journal +
    serial in one synchronous=FULL transaction; target median < 5 ms), against a
    bare one-row INSERT + COMMIT on the same file;
  - crash-safety: a writer SIGKILLed at random moments N times; every run must
    reopen with every resource whole and every reported commit present.

Usage: python bench/state_scale.py [--resources 100000] [--commits 1000] [--kills 200]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from skyplan.providers.base import Instance  # noqa: E402
from skyplan.solver.model import Placement  # noqa: E402
from skyplan.state.model import GroupRecord, ResourceRecord  # noqa: E402
from skyplan.state.store import StateStore  # noqa: E402


def record(i: int, version: int = 1, lineage: str = "L") -> ResourceRecord:
    address = f"workload.w[{i}]"
    nodes = 1 + i % 4
    p = Placement("aws", f"us-east-{1 + i % 2}", f"us-east-{1 + i % 2}a", "g5.xlarge", "spot",
                  0.5 + (i % 100) / 100, nodes=nodes, accelerators="A10G:1", vcpus=4, memory_gib=16)
    insts = tuple(Instance("aws", f"i-{i:08d}{r}v{version}", address, lineage, group=0, rank=r,
                           region=p.region, zone=p.zone, instance_type="g5.xlarge", pricing="spot",
                           tags={"skyplan:address": address, "skyplan:lineage": lineage},
                           attributes={"private_ip": f"10.0.{i % 250}.{r}"}) for r in range(nodes))
    attrs = {"kind": "job", "num_nodes": nodes, "replicas": 1, "pricing": ["spot"], "run": "python train.py",
             "env": {"EPOCHS": str(version)}, "resources": {"accelerators": ["A10G:1"], "cpus": "4+"}}
    return ResourceRecord(address, "workload", groups=(GroupRecord(p, insts),), attributes=attrs,
                          config_hash=f"{i:x}-{version}")


def build(path: Path, n: int) -> float:
    t = time.perf_counter()
    with StateStore.open(path) as store:
        batch = 5000
        for start in range(0, n, batch):
            with store.atomic():
                for i in range(start, min(n, start + batch)):
                    store.record(record(i, lineage=store.lineage), action="create")
    return time.perf_counter() - t


def snapshot_times(path: Path, runs: int = 3) -> tuple[float, float, float, int]:
    """Best of ``runs`` fresh processes (as a CLI command would load it): wall and CPU seconds
    of StateStore.open + snapshot(); and the baseline decode of the same records."""
    import subprocess

    code = ("import sys, time\n"
            "from skyplan.state.store import StateStore\n"
            "t, c = time.perf_counter(), time.process_time()\n"
            "s = StateStore.open(sys.argv[1], create=False); snap = s.snapshot()\n"
            "print(time.perf_counter() - t, time.process_time() - c, len(snap.resources))")
    walls, cpus = [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True,
                             cwd=Path(__file__).resolve().parent.parent).stdout.split()
        walls.append(float(out[0]))
        cpus.append(float(out[1]))
        count = int(out[2])
    with StateStore.open(path) as store:
        snap = store.snapshot()
    # Baseline: the same records stored as readable to_json() text, decoded by from_json.
    texts = [json.dumps(r.to_json(), separators=(",", ":")) for r in snap.resources.values()]
    t = time.perf_counter()
    baseline = {r.address: r for r in (ResourceRecord.from_json(json.loads(x)) for x in texts)}
    base = time.perf_counter() - t
    assert baseline == dict(snap.resources)
    return min(walls), min(cpus), base, count


def commit_latencies(path: Path, n: int, total: int) -> tuple[list[float], list[float]]:
    ours = []
    with StateStore.open(path) as store:
        with store.lock("bench"):
            for k in range(n):
                rec = record(k * 97 % total, version=2, lineage=store.lineage)
                t = time.perf_counter()
                store.record(rec, action="update")
                ours.append(time.perf_counter() - t)
        conn = store._conn
        conn.execute("CREATE TABLE IF NOT EXISTS bench_bare (k INTEGER PRIMARY KEY, v TEXT)")
        bare = []
        for k in range(n):
            t = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT OR REPLACE INTO bench_bare VALUES (?, ?)", (k, "x" * 64))
            conn.execute("COMMIT")
            bare.append(time.perf_counter() - t)
        conn.execute("DROP TABLE bench_bare")
    return ours, bare


def _writer(path: str, fd: int, seed: int) -> None:
    rng = random.Random(seed)
    store = StateStore.open(path)
    v = store.serial
    while True:
        v += 1
        serial = store.record(record(rng.randrange(50), version=v, lineage=store.lineage), action="update")
        os.write(fd, f"{serial}\n".encode())


def kill_runs(path: Path, runs: int) -> tuple[int, int]:
    StateStore.open(path).close()
    rng = random.Random(7)
    committed = 0
    for run in range(runs):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                _writer(str(path), w, run)
            finally:
                os._exit(0)
        os.close(w)
        time.sleep(rng.uniform(0, 0.08))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        with os.fdopen(r) as f:
            reported = [int(x) for x in f.read().split()]
        with StateStore.open(path) as store:
            snap = store.snapshot()
            if reported and not reported[-1] <= snap.serial <= reported[-1] + 1:
                raise SystemExit(f"run {run}: committed serial {reported[-1]} lost (state at {snap.serial})")
            for rec in snap.resources.values():
                v = rec.attributes["env"]["EPOCHS"]
                if not (rec.config_hash.endswith(f"-{v}") and all(i.id.endswith(f"v{v}") for i in rec.instances)):
                    raise SystemExit(f"run {run}: torn record {rec.address}")
        committed = snap.serial
    return runs, committed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resources", type=int, default=100_000)
    ap.add_argument("--commits", type=int, default=1_000)
    ap.add_argument("--kills", type=int, default=200)
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "state.db"
        built = build(path, args.resources)
        size = path.stat().st_size / 1e6
        print(f"built {args.resources:,} resources in {built:.1f} s ({size:.0f} MB)")
        snap, cpu, base, count = snapshot_times(path)
        print(f"snapshot load ({count:,} resources, fresh process, open + snapshot()): {snap:.3f} s wall, "
              f"{cpu:.3f} s CPU  [target < 2 s]  baseline: readable JSON + from_json, decode only "
              f"{base:.3f} s  (ratio {snap / base:.2f}x)")
        ours, bare = commit_latencies(path, args.commits, args.resources)
        med, p95 = statistics.median(ours) * 1e3, sorted(ours)[int(0.95 * len(ours))] * 1e3
        bmed = statistics.median(bare) * 1e3
        print(f"single-action commit x{args.commits}: median {med:.2f} ms, p95 {p95:.2f} ms  [target median < 5 ms]  "
              f"baseline bare INSERT+COMMIT median {bmed:.2f} ms  (ratio {med / bmed:.2f}x)")
        runs, serial = kill_runs(Path(d) / "kill.db", args.kills)
        print(f"SIGKILL at random moments: {runs} runs, every reopen whole and durable (final serial {serial})")


if __name__ == "__main__":
    main()

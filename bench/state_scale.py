"""State at scale: 100,000 resources.

Prints
  - the time to load the full snapshot (target < 2 s), against the same rows
    decoded through the dataclass constructors (ResourceRecord.from_json);
  - the latency of 1,000 single-action commits (record(): upsert + journal +
    serial in one synchronous=FULL transaction; target median < 5 ms), against a
    bare one-row INSERT + COMMIT on the same file;
  - crash-safety: a writer SIGKILLed at random moments N times; every run must
    reopen with every resource whole and every reported commit present.

The snapshot and commit figures are printed for SQLite and, in the same run, for
PostgreSQL (``--postgres-url``, else a throwaway server of the local postgresql
package with fsync on, as in production), with a third PostgreSQL figure:
8 appliers on 8 different states of one database at once, against one alone
(states never wait on each other: the ratio should stay near 1 on enough cores).

Usage: python bench/state_scale.py [--resources 100000] [--commits 1000] [--kills 200] [--postgres-url URL]
       [--no-postgres]
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
from skyplan.state.location import PostgresLocation, open_store  # noqa: E402
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


def build(path, n: int) -> float:
    t = time.perf_counter()
    with open_store(path) as store:
        batch = 5000
        for start in range(0, n, batch):
            with store.atomic():
                for i in range(start, min(n, start + batch)):
                    store.record(record(i, lineage=store.lineage), action="create")
    return time.perf_counter() - t


def _args(path) -> list[str]:
    return [path.url, path.name] if isinstance(path, PostgresLocation) else [str(path)]


def snapshot_times(path, runs: int = 3) -> tuple[float, float, float, int]:
    """Best of ``runs`` fresh processes (as a CLI command would load it): wall and CPU seconds
    of StateStore.open + snapshot(); and the baseline decode of the same records."""
    import subprocess

    code = ("import sys, time\n"
            "from skyplan.state.location import PostgresLocation, open_store\n"
            "t, c = time.perf_counter(), time.process_time()\n"
            "a = sys.argv[1:]; s = open_store(PostgresLocation(*a) if len(a) == 2 else a[0], create=False)\n"
            "snap = s.snapshot()\n"
            "print(time.perf_counter() - t, time.process_time() - c, len(snap.resources))")
    walls, cpus = [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code, *_args(path)], capture_output=True, text=True, check=True,
                             cwd=Path(__file__).resolve().parent.parent).stdout.split()
        walls.append(float(out[0]))
        cpus.append(float(out[1]))
        count = int(out[2])
    with open_store(path) as store:
        snap = store.snapshot()
    # Baseline: the same records stored as readable to_json() text, decoded by from_json.
    texts = [json.dumps(r.to_json(), separators=(",", ":")) for r in snap.resources.values()]
    t = time.perf_counter()
    baseline = {r.address: r for r in (ResourceRecord.from_json(json.loads(x)) for x in texts)}
    base = time.perf_counter() - t
    assert baseline == dict(snap.resources)
    return min(walls), min(cpus), base, count


def commit_latencies(path, n: int, total: int) -> tuple[list[float], list[float]]:
    ours = []
    with open_store(path) as store:
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
            conn.execute(store._BEGIN_WRITE)
            conn.execute("INSERT INTO bench_bare VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
                         (k, "x" * 64))
            conn.execute("COMMIT")
            bare.append(time.perf_counter() - t)
        conn.execute("DROP TABLE bench_bare")
    return ours, bare


def commits_line(backend: str, ours: list[float], bare: list[float], n: int) -> None:
    med, p95 = statistics.median(ours) * 1e3, sorted(ours)[int(0.95 * len(ours))] * 1e3
    bmed = statistics.median(bare) * 1e3
    print(f"{backend} single-action commit x{n}: median {med:.2f} ms, p95 {p95:.2f} ms  [target median < 5 ms]  "
          f"baseline bare INSERT+COMMIT median {bmed:.2f} ms  (ratio {med / bmed:.2f}x)")


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


_APPLIER = """
import sys, time
from skyplan.state.location import PostgresLocation, open_store
sys.path.insert(0, sys.argv[4])
from bench.state_scale import record
url, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = open_store(PostgresLocation(url, name))
s.on_notice = lambda text: None
start = float(sys.argv[5])
while time.time() < start:
    time.sleep(0.001)
t = time.perf_counter()
with s.lock("apply"):
    waited = time.perf_counter() - t
    for k in range(n):
        s.record(record(k, lineage=s.lineage), action="create")
print(time.perf_counter() - t, waited)
"""


def concurrent_appliers(url: str, states: int, n: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """(wall seconds, longest wait for the lock) of one applier making ``n`` commits on its
    own state, and of the slowest of ``states`` appliers doing the same at once, each on its
    own state of one database."""
    import subprocess
    import uuid

    root = str(Path(__file__).resolve().parent.parent)

    def run(count: int) -> tuple[float, float]:
        tag = uuid.uuid4().hex[:8]
        start = time.time() + 2.0
        procs = [subprocess.Popen([sys.executable, "-c", _APPLIER, url, f"bench/{tag}-{i}", str(n), root, str(start)],
                                  stdout=subprocess.PIPE, text=True, cwd=root) for i in range(count)]
        outs = [p.communicate(timeout=600)[0].split() for p in procs]
        return max(float(o[0]) for o in outs), max(float(o[1]) for o in outs)

    return run(1), run(states)


def _postgres(args) -> tuple[str | None, object]:
    """The PostgreSQL URL to measure: --postgres-url, else a throwaway local server."""
    if args.no_postgres:
        return None, None
    if args.postgres_url:
        return args.postgres_url, None
    from tests.pgserver import PgServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        print("PostgreSQL: no --postgres-url and no local postgresql package (initdb); PostgreSQL figures skipped")
        return None, None
    server = PgServer(bindir, durable=True).init()
    return server.url, server


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resources", type=int, default=100_000)
    ap.add_argument("--commits", type=int, default=1_000)
    ap.add_argument("--kills", type=int, default=200)
    ap.add_argument("--postgres-url", default=None, help="a database to measure (a throwaway one otherwise)")
    ap.add_argument("--no-postgres", action="store_true", help="SQLite figures only")
    ap.add_argument("--appliers", type=int, default=8)
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
        commits_line("SQLite", *commit_latencies(path, args.commits, args.resources), args.commits)
        url, server = _postgres(args)
        if url:
            try:
                import uuid

                loc = PostgresLocation(url, f"bench/{uuid.uuid4().hex[:8]}")
                built = build(loc, args.resources)
                print(f"PostgreSQL: built {args.resources:,} resources in {built:.1f} s")
                snap, cpu, base, count = snapshot_times(loc)
                print(f"PostgreSQL snapshot load ({count:,} resources, fresh process, open + snapshot()): {snap:.3f} s "
                      f"wall, {cpu:.3f} s CPU  [target < 2 s]")
                commits_line("PostgreSQL", *commit_latencies(loc, args.commits, args.resources), args.commits)
                n = max(1, args.commits // 4)
                (alone, _), (together, waited) = concurrent_appliers(url, args.appliers, n)
                print(f"PostgreSQL: {args.appliers} appliers on {args.appliers} states of one database, {n} commits "
                      f"each: slowest {together:.2f} s at once vs {alone:.2f} s alone (ratio {together / alone:.2f}x "
                      f"on {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}); longest wait for a lock "
                      f"{waited * 1e3:.1f} ms")
            finally:
                if server is not None:
                    server.destroy()
        runs, serial = kill_runs(Path(d) / "kill.db", args.kills)
        print(f"SIGKILL at random moments: {runs} runs, every reopen whole and durable (final serial {serial})")


if __name__ == "__main__":
    main()

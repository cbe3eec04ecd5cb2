"""The distinct-workload mode of bench/solver_scale.py (see its docstring)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE_MAX = 2000


# The child reports its own peak resident set: a forked child's rusage also
# counts the parent's memory it was copied from before exec.
_CHILD = """
import atexit, sys
def _peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            sys.stderr.write("peak-kib " + line.split()[1] + "\\n")
atexit.register(_peak)
from skyplan.cli import main
sys.argv = ["skyplan"] + sys.argv[1:]
main()
"""


def _optimize(folder: Path, command: tuple[str, ...] = ("optimize", "--json")) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds, peak RSS (MiB) and exit code of `skyplan optimize --json`
    (or another ``command``) on ``folder``."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-c", _CHILD, command[0], str(folder), *command[1:]],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=str(folder))
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    err = p.stderr.read().decode() if p.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    peak = usage.ru_maxrss / 1024.0
    phases = []
    for line in err.splitlines():
        if line.startswith("peak-kib "):
            peak = int(line.split()[1]) / 1024.0
        elif line.startswith('{"type": "progress"'):  # the phases that took over a second
            import json

            doc = json.loads(line)
            phases.append(f"{doc['phase']} {doc['seconds']:.1f} s")
    if phases:
        print(f"    ({folder.name}: skyplan {command[0]} {', '.join(phases)})", flush=True)
    if code:
        print(f"    skyplan {command[0]} exited {code}: {err.strip()[:400]}")
    return wall, usage.ru_utime + usage.ru_stime, peak, code


def run_distinct(sizes: list[int], seed: int) -> None:
    from distinct_mix import write_config
    from scan_baseline import scan_candidates

    from skyplan import workflow
    from skyplan.catalog import load_catalog
    from skyplan.solver import build_problem, solve
    import importlib

    solve_mod = importlib.import_module("skyplan.solver.solve")
    from skyplan.solver.capacity import Rows
    from skyplan.solver.items import Item

    catalog = load_catalog()
    print(f"catalog: {len(catalog.offers)} offers ({catalog.source}, {catalog.observed_at})")
    print("times are wall seconds, with CPU seconds after the slash (the machine may be shared)")
    print(f"{'workloads':>9} {'load s':>7} {'candidates s':>13} {'scan s':>13} {'ratio':>6} {'solve s':>11} "
          f"{'first s':>8} {'optimize s':>11} {'plan s':>7} {'peak MiB':>9} {'status':>8} {'backend':>11} {'total $':>14}")
    replans: list[tuple] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            folder = write_config(Path(tmp) / f"team{n}", n, seed, catalog)
            t = time.perf_counter()
            graph = workflow.load_config(folder, {}, [])
            offers, _ = workflow.build_offers(graph)
            problem = build_problem(graph, offers)
            load_s = time.perf_counter() - t
            items = [Item.of_workload(w) for _, w in sorted(problem.workloads.items())]
            rows = Rows(problem.providers, problem.fleets, problem.offers)
            t, c = time.perf_counter(), time.process_time()
            solve_mod._entries(problem, items, rows)
            cands = (time.perf_counter() - t, time.process_time() - c)
            sample = items[:BASELINE_MAX]
            scale = len(items) / len(sample)
            t, c = time.perf_counter(), time.process_time()
            scan_candidates(problem, sample, rows)
            scan = ((time.perf_counter() - t) * scale, (time.process_time() - c) * scale)
            mark = "~" if len(sample) < len(items) else ""
            t, c = time.perf_counter(), time.process_time()
            solution = solve(problem)
            solved = (time.perf_counter() - t, time.process_time() - c)
            # the first run in the folder parses the file (its trees are cached by the path it
            # is read from, here the folder's own name); the second is every run after it
            first = _optimize(folder)[0]
            wall, cpu, peak, code = _optimize(folder)
            # what a pull request's preview runs: the plan, with its comparison against each cloud alone
            plan = _optimize(folder, ("plan", "--no-refresh"))[0]
            print(f"{n:>9} {load_s:>7.2f} {_pair(cands):>13} {mark + _pair(scan):>13} "
                  f"{scan[1] / max(cands[1], 1e-9):>5.1f}x {_pair(solved):>11} {first:>8.2f} {_pair((wall, cpu)):>11} "
                  f"{plan:>7.2f} {peak:>9.0f} {solution.status:>8} {solution.backend:>11} {solution.total_cost:>14,.2f}",
                  flush=True)
            replans.append((n, solved, wall) + _replan(folder, graph, solution))
    print("\nre-plan after a one-line change (one job's duration_hours), the last plan's placements in state:")
    print(f"{'workloads':>9} {'kept':>6} {'full solve s':>13} {'re-plan solve s':>16} {'full optimize s':>16} "
          f"{'re-plan optimize s':>19} {'same':>5}")
    for n, solved, wall, kept, full_s, re_s, re_wall, same in replans:
        print(f"{n:>9} {kept:>6} {_pair(full_s):>13} {_pair(re_s):>16} {wall:>16.2f} {re_wall:>19.2f} "
              f"{'yes' if same else 'NO':>5}", flush=True)


def _replan(folder: Path, graph, solution) -> tuple:
    """Keep ``solution``'s memo in the folder's state as a plan does, change one
    workload's duration_hours, and re-plan: in process (solve with the memo against a
    full solve of the changed config) and end to end (`skyplan optimize`)."""
    import re

    from skyplan import workflow
    from skyplan.solver import build_problem, solve
    from skyplan.state.location import open_store

    with open_store(workflow.state_path(graph), create=True) as store:
        store.keep_placements(solution.memo)
    main = folder / "main.sky.hcl"
    main.write_text(re.sub(r"(duration_hours = )(\d+)", lambda m: m.group(1) + str(int(m.group(2)) + 1),
                           main.read_text(), count=1))
    changed = workflow.load_config(folder, {}, [])
    offers, _ = workflow.build_offers(changed)
    with open_store(workflow.state_path(changed), create=False) as store:
        memo = store.placement_memo()
    t, c = time.perf_counter(), time.process_time()
    full = solve(build_problem(changed, offers))
    full_s = (time.perf_counter() - t, time.process_time() - c)
    t, c = time.perf_counter(), time.process_time()
    again = solve(build_problem(changed, offers, memo=memo))
    re_s = (time.perf_counter() - t, time.process_time() - c)
    same = dict(again.placements) == dict(full.placements) and again.total_cost == full.total_cost
    wall = _optimize(folder)[0]
    return again.reused, full_s, re_s, wall, same


def _pair(v: tuple[float, float]) -> str:
    return f"{v[0]:.2f}/{v[1]:.2f}"

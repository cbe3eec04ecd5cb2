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


def _optimize(folder: Path) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MiB) and exit code of `skyplan optimize --json` on ``folder``."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-m", "skyplan.cli", "optimize", str(folder), "--json"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=str(folder))
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    err = p.stderr.read().decode() if p.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code:
        print(f"    skyplan optimize exited {code}: {err.strip()[:400]}")
    return wall, usage.ru_maxrss / 1024.0, code


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
    print(f"{'workloads':>9} {'load s':>7} {'cands s':>8} {'scan s':>9} {'ratio':>7} {'solve s':>8} "
          f"{'optimize s':>10} {'peak MiB':>9} {'status':>8} {'backend':>11} {'total $':>14}")
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
            t = time.perf_counter()
            solve_mod._entries(problem, items, rows)
            cands_s = time.perf_counter() - t
            sample = items[:BASELINE_MAX]
            t = time.perf_counter()
            scan_candidates(problem, sample, rows)
            scan_s = (time.perf_counter() - t) * len(items) / len(sample)
            mark = "~" if len(sample) < len(items) else ""
            t = time.perf_counter()
            solution = solve(problem)
            solve_s = time.perf_counter() - t
            wall, peak, code = _optimize(folder)
            print(f"{n:>9} {load_s:>7.2f} {cands_s:>8.3f} {mark + format(scan_s, '.2f'):>9} "
                  f"{scan_s / max(cands_s, 1e-9):>6.1f}x {solve_s:>8.2f} {wall:>10.2f} {peak:>9.0f} "
                  f"{solution.status:>8} {solution.backend:>11} {solution.total_cost:>14,.2f}", flush=True)

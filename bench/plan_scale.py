"""How `skyplan plan` scales: 1,000 and 10,000 workloads against a state where 10%
of them changed.

For each size, in a fresh process: write a configuration of N workloads, load and
solve it once, record the result as prior state, change 10% of the workloads
(their run command, so they are replaced), then time a full plan by stage:

    load    config.load of the folder
    solve   build_problem + solve against the prior state (stability keeps the rest)
    diff    planner.plan
    render  text + JSON + Markdown

and the process's peak memory. Prints a table and the growth between sizes
(time ratio vs the n log n ratio). The configuration is written two ways: ``count`` (five blocks expanded with
count; what large configurations look like) and ``blocks`` (one block per
workload; bound by HCL parsing). Usage:
python bench/plan_scale.py [N ...] [--style=count|blocks]
"""

from __future__ import annotations

import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = (1_000, 10_000)
CHANGED = 0.10

_SHAPES = [
    ('accelerators = ["H100:8"]', 1),
    ('accelerators = ["A100:8"]', 1),
    ('accelerators = ["L4:1"]', 1),
    ('cpus = "4+"\n    memory = "16+"', 1),
    ('cpus = "8+"', 2),
]


def write_config(folder: Path, n: int, changed: set[int], style: str = "blocks") -> None:
    """``blocks``: one workload block per workload (parse-bound); ``count``: one block
    per shape expanded with ``count`` (evaluation-bound), every 10th index changed."""
    if style == "count":
        return _write_count_config(folder, n, bool(changed))
    lines = ['provider "aws" {\n  regions = ["us-east-1", "us-west-2"]\n}\n']
    for i in range(n):
        res, nodes = _SHAPES[i % len(_SHAPES)]
        kind = "service" if i % 3 == 0 else "job"
        run = f"python step.py --shard {i}" + (" --epochs 2" if i in changed else "")
        lines.append(
            f'workload "w{i}" {{\n  kind = "{kind}"\n  num_nodes = {nodes}\n'
            f'  resources {{\n    {res}\n  }}\n  run = "{run}"\n}}\n')
    (folder / "main.sky.hcl").write_text("\n".join(lines))


def _write_count_config(folder: Path, n: int, changed: bool) -> None:
    lines = ['provider "aws" {\n  regions = ["us-east-1", "us-west-2"]\n}\n']
    per = n // len(_SHAPES)
    for k, (res, nodes) in enumerate(_SHAPES):
        extra = '${count.index % 10 == 0 ? " --epochs 2" : ""}' if changed else ""
        lines.append(
            f'workload "s{k}" {{\n  count = {per}\n  kind = "{"service" if k % 2 else "job"}"\n'
            f'  num_nodes = {nodes}\n  resources {{\n    {res}\n  }}\n'
            f'  run = "python step.py --shard ${{count.index}}{extra}"\n}}\n')
    (folder / "main.sky.hcl").write_text("\n".join(lines))


def prior_state(graph, solution):
    from skyplan.config.model import resource_hash
    from skyplan.providers.base import Instance
    from skyplan.state.model import GroupRecord, ResourceRecord, Snapshot

    records = {}
    for addr, w in graph.workloads.items():
        wp = solution.placements[addr]
        groups = []
        for gi, g in enumerate(wp.groups):
            p = g.chosen
            insts = tuple(Instance(p.provider, f"i-{addr}-{gi}-{r}", addr, "bench", gi, r, p.region, p.zone,
                                   p.instance_type, p.pricing) for r in range(p.nodes))
            groups.append(GroupRecord(p, insts))
        records[addr] = ResourceRecord(addr, "workload", "running", tuple(groups), w.attributes(),
                                       resource_hash(w))
    return Snapshot("bench", 7, records)


def measure(n: int, style: str) -> dict:
    from skyplan import config, planner
    from skyplan.planner.options import PlanOptions
    from skyplan.planner.render_json import render_json
    from skyplan.planner.render_markdown import render_markdown
    from skyplan.planner.render_text import render_text
    from skyplan.workflow import build_offers, solve_placements

    options = PlanOptions(refresh=False, lock=False)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_config(folder, n, set(), style)
        graph0 = config.load(str(folder))
        offers, info = build_offers(graph0)
        from skyplan.state.model import Snapshot

        sol0 = solve_placements(graph0, offers, Snapshot.empty(), options)
        prior = prior_state(graph0, sol0)
        step = int(1 / CHANGED)
        write_config(folder, n, set(range(0, n, step)), style)

        t = {}
        start = time.perf_counter()
        graph = config.load(str(folder))
        t["load"] = time.perf_counter() - start
        s = time.perf_counter()
        sol = solve_placements(graph, offers, prior, options)
        t["solve"] = time.perf_counter() - s
        s = time.perf_counter()
        p = planner.plan(graph, sol, prior, None, options, catalog=info)
        t["diff"] = time.perf_counter() - s
        s = time.perf_counter()
        text = render_text(p)
        render_json(p)
        render_markdown(p)
        t["render"] = time.perf_counter() - s
        t["total"] = time.perf_counter() - start
    counts = p.counts()
    return {"n": n, "style": style, "times": t, "counts": counts, "text_chars": len(text),
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--one":
        print(json.dumps(measure(int(argv[1]), argv[2])))
        return
    styles = [a.split("=", 1)[1] for a in argv if a.startswith("--style=")] or ["count", "blocks"]
    sizes = [int(a) for a in argv if not a.startswith("--")] or list(SIZES)
    for style in styles:
        report(style, [_run(n, style) for n in sizes])


def _run(n: int, style: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", str(n), style], capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stderr, file=sys.stderr)
        raise SystemExit(f"size {n} ({style}) failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(style: str, results: list[dict]) -> None:
    stages = ("load", "solve", "diff", "render", "total")
    print(f"plan scale, config as {style!r}: {int(CHANGED * 100)}% of workloads changed (replaced), "
          "refresh off, built-in catalog")
    print(f"{'workloads':>10} " + " ".join(f"{s + ' s':>9}" for s in stages) + f" {'peak MiB':>9}  plan")
    for r in results:
        c = r["counts"]
        print(f"{r['n']:>10,} " + " ".join(f"{r['times'][s]:>9.2f}" for s in stages)
              + f" {r['peak_mib']:>9.0f}  +{c['add']} ~{c['change']} -{c['destroy']}")
    for a, b in zip(results, results[1:]):
        ratio_n = b["n"] / a["n"]
        nlogn = ratio_n * math.log(b["n"]) / math.log(a["n"])
        print(f"growth {a['n']:,} -> {b['n']:,} (n x{ratio_n:.0f}, n log n x{nlogn:.1f}):")
        for s in stages[:-1]:
            ta, tb = a["times"][s], b["times"][s]
            ratio = tb / ta if ta > 0 else float("inf")
            flag = "ok" if ratio <= nlogn * 1.25 or tb < 0.05 else "FASTER THAN n log n"
            print(f"  {s:<7} x{ratio:6.1f}  {flag}")
    big = results[-1]
    target = "met" if big["times"]["total"] < 20 else "MISSED"
    print(f"target: {big['n']:,} workloads end to end < 20 s: {big['times']['total']:.1f} s ({target})")
    print()


if __name__ == "__main__":
    main(sys.argv[1:])

"""Deadline-aware spot: Uniform Progress against greedy and the omniscient optimum.

skyplan's own simulator (`skyplan.deadline.simulate`, the decision function
`skyplan watch` runs, stepped over a trace) is run over spot-availability traces: synthetic ones with
the public benchmark's settings (48 h job, deadlines 52 h and 70 h, changeover
0.05 h and 0.2 h, availability high 43-78% and low 4-40%, fixed seeds) or
trace files (`--trace FILE`, JSON {"step_hours": 0.1, "available": [1, 0, ...]}).
Costs are in spot-hours, on-demand priced at `--price-ratio`. Every (re)start
adds the changeover to the work left, as a restart loses it.

    python bench/deadline_spot.py [--trace FILE ...] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from skyplan.deadline.simulate import simulate, synthetic


def optimal(avail, step, job, deadline, d, ratio) -> float:
    """Least cost that finishes by the deadline knowing the whole trace (backward DP)."""
    n = int(round(deadline / step))
    ds = int(round(d / step))
    work = int(round(job / step))
    width = work + 40 * ds + 2
    inf = float("inf")
    # value[m][w]: least cost from step i in mode m (0 idle, 1 spot, 2 on-demand) with w steps of work left
    final = np.full(width, inf)
    final[0] = 0.0
    value = [final.copy(), final.copy(), final.copy()]
    for i in range(n - 1, -1, -1):
        a = avail[i] if i < len(avail) else 0
        new = []
        for m in range(3):
            best = value[0].copy()  # go idle
            best[0] = 0.0
            for m2, price in ((1, 1.0), (2, ratio)):
                if m2 == 1 and not a:
                    continue
                shift = (0 if m2 == m else ds) - 1
                nxt = np.full(width, inf)
                src = np.arange(width) + shift
                ok = (src >= 0) & (src < width)
                nxt[ok] = value[m2][np.clip(src, 0, width - 1)][ok] + price * step
                nxt[0] = 0.0
                best = np.minimum(best, nxt)
            new.append(best)
        value = new
    return float(value[0][work])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trace", action="append", default=[])
    ap.add_argument("--job-hours", type=float)
    ap.add_argument("--deadline-hours", type=float)
    ap.add_argument("--changeover-hours", type=float)
    ap.add_argument("--price-ratio", type=float, default=3.0)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    traces = []
    for path in args.trace:
        data = json.load(open(path))
        traces.append((path, float(data["step_hours"]), [int(x) for x in data["available"]]))
    if not traces:
        for name, lo, hi in (("high", 0.43, 0.78), ("low", 0.04, 0.40)):
            for seed in range(args.seeds):
                traces.append((f"synthetic-{name}-{seed}", 0.1, synthetic(seed, lo, hi, 80, 0.1)))
    jobs = [args.job_hours] if args.job_hours else [48.0]
    deadlines = [args.deadline_hours] if args.deadline_hours else [52.0, 70.0]
    changeovers = [args.changeover_hours] if args.changeover_hours is not None else [0.05, 0.2]
    all_met = True
    for job in jobs:
        for deadline in deadlines:
            for d in changeovers:
                for name, step, avail in traces:
                    run = simulate(avail, step, job, deadline, d)
                    met, cost = run.met, run.cost(args.price_ratio)
                    greedy = simulate(avail, step, job, deadline, d, greedy=True).cost(args.price_ratio)
                    best = optimal(avail, step, job, deadline, d, args.price_ratio)
                    od = job * args.price_ratio
                    all_met &= met
                    if args.json:
                        print(json.dumps({"trace": name, "job_hours": job, "deadline_hours": deadline,
                                          "changeover_hours": d, "met_deadline": met, "cost": round(cost, 3),
                                          "cost_on_demand": od, "cost_greedy": round(greedy, 3),
                                          "cost_optimal": round(best, 3)}))
                    else:
                        print(f"job {job:g} h deadline {deadline:g} h d {d:g} h {name}: "
                              f"met {'yes' if met else 'NO'}  cost {cost:.1f}  "
                              f"vs on-demand {cost / od:.0%}  vs greedy {cost / greedy:.0%}  "
                              f"vs optimal {cost / best:.0%}")
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())

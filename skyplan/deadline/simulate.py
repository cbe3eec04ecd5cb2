"""Uniform Progress run over a spot-availability trace, step by step.

``simulate`` drives ``policy.decide`` (the function ``skyplan watch`` runs) over
one trace: one availability sample per step, a spot node lost when the sample
says none, every (re)start adding the changeover to the work left (a restart
loses it). ``synthetic`` makes a trace of alternating available/unavailable runs
around a mean availability. ``bench/deadline_spot.py`` compares these runs with
greedy and the omniscient optimum; ``expected`` averages them to price a job.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

from skyplan.deadline.policy import Mode, Progress, decide

CYCLE_HOURS = 4.0  # one available run and one unavailable run take about this long together


@dataclass(frozen=True)
class Run:
    """How one simulated job went; hours are node-hours of one node."""

    met: bool  # all work done by the deadline
    spot_hours: float
    on_demand_hours: float

    def cost(self, ratio: float) -> float:
        """In spot-hours, on-demand priced at ``ratio`` times spot."""
        return self.spot_hours + ratio * self.on_demand_hours


def synthetic(seed: int, low: float, high: float, hours: float, step: float, up: bool | None = None) -> list[int]:
    """Spot availability as alternating runs whose mean fraction is drawn from [low, high];
    ``up``: whether the trace starts available (None: drawn with that fraction)."""
    rng = random.Random(seed)
    target = rng.uniform(low, high)
    out: list[int] = []
    drawn = rng.random() < target
    up = drawn if up is None else up
    while len(out) * step < hours:
        mean = (target if up else 1 - target) * CYCLE_HOURS
        run = max(1, int(rng.expovariate(1 / max(mean, step)) / step))
        out.extend([1 if up else 0] * run)
        up = not up
    return out[: int(round(hours / step))]


def simulate(avail: Sequence[int], step: float, job: float, deadline: float, changeover: float,
             greedy: bool = False) -> Run:
    """Run a ``job``-hour job due ``deadline`` hours from now over ``avail`` with Uniform
    Progress (``greedy``: spot whenever available until the safety net forces on-demand)."""
    remaining, t, mode = job, 0.0, Mode.WAIT
    spot = on_demand = 0.0
    for i in range(int(round(deadline / step))):
        if remaining <= 1e-9:
            break
        a = avail[i] if i < len(avail) else 0
        if mode is Mode.SPOT and not a:
            mode = Mode.WAIT  # preempted
        left = deadline - t
        if greedy:
            if mode is Mode.ON_DEMAND or left < remaining + 2 * changeover:
                new = Mode.ON_DEMAND
            else:
                new = Mode.SPOT if a else Mode.WAIT
        else:
            new = decide(Progress(remaining, left, changeover, job, deadline, mode, int(a), 1)).mode
        if new in (Mode.SPOT, Mode.ON_DEMAND):
            if new is not mode:
                remaining += changeover
            remaining -= step
            if new is Mode.SPOT:
                spot += step
            else:
                on_demand += step
        mode = new
        t += step
    return Run(remaining <= 1e-9, spot, on_demand)

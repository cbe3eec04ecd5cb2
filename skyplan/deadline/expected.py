"""What a deadline job is expected to cost under Uniform Progress, for the solver.

A job with ``recovery.strategy = "uniform_progress"``, a deadline and both spot
and on-demand in its ``pricing`` does not run on spot all the way: when spot is
lost and the job falls behind, the policy runs it on on-demand. Its spot option
is therefore priced by ``expected_hours``: the mean spot and on-demand hours of
``simulate`` (the same decisions ``skyplan watch`` makes) over synthetic traces at
the offer's spot availability. The job pays its spot hours at the spot price and
its on-demand hours at the on-demand price of the same machine.

Availability is not something catalogs publish. It is taken from the offer's
interruption band (``availability``): the more often spot machines of a type are
interrupted, the less of the time spot capacity for it is there. Where spot was
lost lately (the capacity memory in state) spot is not an option at all.
"""

from __future__ import annotations

from functools import lru_cache

from skyplan.deadline.simulate import simulate, synthetic

# The share of the time spot capacity is there, assumed per interruption band
# (frequency of interruption per month); a band not given reads as the middle one.
BAND_AVAILABILITY = {"<5%": 0.9, "5-10%": 0.75, "10-15%": 0.6, "15-20%": 0.45, ">20%": 0.3}
DEFAULT_AVAILABILITY = 0.6
SEEDS = 16  # traces averaged per estimate; the share of them that start available is the availability
STEPS = 400  # steps per trace over the job's window


def availability(band: str | None) -> float:
    return BAND_AVAILABILITY.get(band or "", DEFAULT_AVAILABILITY)


def expected_hours(job: float, window: float, changeover: float, available: float) -> tuple[float, float]:
    """Mean (spot hours, on-demand hours) of one node of a ``job``-hour job due in
    ``window`` hours, under Uniform Progress with spot there ``available`` of the time.
    Their sum exceeds ``job`` by the changeovers paid on restarts."""
    return _expected(rounded(job), rounded(window), rounded(changeover), round(available, 3))


def rounded(hours: float) -> float:
    """To four significant digits: estimates for nearly equal jobs are shared, a job of
    seconds (the local provider's) keeps its size."""
    return float(f"{float(hours):.4g}")


@lru_cache(maxsize=4096)
def _expected(job: float, window: float, changeover: float, available: float) -> tuple[float, float]:
    if job <= 0:
        return 0.0, 0.0
    if window < job + 2 * changeover:  # the safety net from the start: on-demand all the way
        return 0.0, job + changeover
    step = window / STEPS
    spot = on_demand = 0.0
    for seed in range(SEEDS):
        # a window shorter than a cycle is mostly one run: which one it starts with weighs most
        up = seed < round(available * SEEDS)
        run = simulate(synthetic(seed, available, available, window, step, up=up), step, job, window, changeover)
        spot += run.spot_hours
        on_demand += run.on_demand_hours
    return spot / SEEDS, on_demand / SEEDS

"""Changes that wait behind a failed job the configuration keeps.

A job that failed and has ``lifecycle { retry_failed = false }`` stays failed: the
plan leaves it as it is. Apply never starts what depends on a failed job (it skips
it: "upstream job failed"), so planning a create, update or replacement of a
dependant would promise what apply will not do, and a replacement would even
destroy the old object before skipping the new one. Such a change is planned as
no change, with reason ``held_by_failed_dependency`` and the job named, and so is
whatever waits on it in turn."""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from skyplan.planner.model import Action, Change
from skyplan.state.model import FAILED

HELD = "held_by_failed_dependency"


def hold_behind_failed_jobs(changes: Sequence[Change]) -> list[Change]:
    """``changes`` with every change that depends (directly or through another held
    one) on a kept failed job turned into a no-op; ``Change.held_by`` names the job."""
    failed = {c.address for c in changes if c.action is Action.NOOP and c.prior is not None
              and c.prior.status == FAILED and c.prior.attributes.get("kind") == "job"}
    if not failed:
        return list(changes)
    root = {a: a for a in failed}  # held or failed address -> the failed job it waits on
    out = list(changes)
    moved = True
    while moved:  # dependencies may come in any order: repeat until nothing more is held
        moved = False
        for n, c in enumerate(out):
            if c.address in root or c.action in (Action.NOOP, Action.DELETE):
                continue
            blocker = next((root[d] for d in c.depends_on if d in root), None)
            if blocker is None:
                continue
            root[c.address] = blocker
            out[n] = replace(c, action=Action.NOOP, after=c.before, placement=None, replace_paths=(),
                             update_paths=(), reason=HELD, held_by=blocker)
            moved = True
    return out


def held_lines(changes: Sequence[Change]) -> list[str]:
    """One line per held change, saying what it waits on and how to go on."""
    return [f"{c.address} is not planned: it depends on {c.held_by}, a job that failed and is kept "
            f"(lifecycle {{ retry_failed = false }}). Fix the job and run it again with "
            f"`skyplan apply -replace {c.held_by}`, or set retry_failed = true."
            for c in changes if c.reason == HELD and c.held_by]

"""Incremental re-plan (skyplan.solver.memo): a solve that keeps the self-contained
workloads found in an earlier solve's memo gives exactly what a full solve gives,
and keeps exactly the workloads whose inputs did not change.

Random small configurations (some providers with quotas) are solved, changed
(one workload, one key's offers, a quota, what runs, a workload dropped) and
solved again with and without the first memo;
every data case of tests/cases/solver is solved again with its own memo; the
re-plan cases under tests/cases/replan/<name>/ ({problem.json, change.json,
expected.json}: change.json is merged into the problem, expected.json names the
workloads kept) say which workloads are kept."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from skyplan.config.model import Quota
from skyplan.errors import InfeasibleError
from skyplan.solver import Problem, solve

from tests.solver.cases import case_names, load_case, load_problem
from tests.solver.test_decompose import _team

REPLAN = Path(__file__).resolve().parents[1] / "cases" / "replan"


def _solve(problem: Problem):
    try:
        return solve(problem)
    except InfeasibleError as e:
        return e


def _identical(incremental, full) -> None:
    if isinstance(full, InfeasibleError):
        assert isinstance(incremental, InfeasibleError), "kept placements hid an infeasibility"
        assert str(incremental) == str(full)
        return
    assert not isinstance(incremental, InfeasibleError), f"incremental says {incremental}, full solves"
    assert list(incremental.placements.items()) == list(full.placements.items())
    assert list(incremental.candidates.items()) == list(full.candidates.items())
    assert (incremental.total_cost, incremental.total_hourly_cost) == (full.total_cost, full.total_hourly_cost)
    assert (incremental.status, incremental.backend) == (full.status, full.backend)
    assert incremental.single_cloud == full.single_cloud
    assert incremental.fleets == full.fleets
    assert incremental.memo == full.memo  # what a re-plan stores does not depend on what it kept


def _changed(rng: random.Random, problem: Problem) -> Problem:
    """``problem`` with one to three things changed, as an edit of the configuration or the catalog would."""
    for _ in range(rng.randint(1, 3)):
        what = rng.choice(["workload", "workload", "offers", "quota", "current", "drop"])
        if what == "workload" and problem.workloads:
            a = rng.choice(sorted(problem.workloads))
            w = problem.workloads[a]
            w = rng.choice([replace(w, duration_hours=rng.choice([1.0, 3.0, 30.0])),
                            replace(w, pricing=("on_demand",)),
                            replace(w, replicas=rng.choice([1, 2, 3])),
                            replace(w, placement=replace(w.placement, providers=()))])
            problem = replace(problem, workloads={**problem.workloads, a: w})
        elif what == "offers":
            key = rng.choice(sorted(problem.offers))
            offers = [replace(o, on_demand=o.on_demand and round(o.on_demand * rng.uniform(0.5, 1.2), 3))
                      for o in problem.offers[key]]
            problem = replace(problem, offers={**problem.offers, key: tuple(offers)})
        elif what == "quota":
            key = rng.choice(sorted(problem.providers))
            cfg = problem.providers[key]
            quotas = () if cfg.quotas else (Quota("vcpus", rng.choice([8, 64])),)
            problem = replace(problem, providers={**problem.providers, key: replace(cfg, quotas=quotas)})
        elif what == "drop" and len(problem.workloads) > 1:
            a = rng.choice(sorted(problem.workloads))
            problem = replace(problem, workloads={k: v for k, v in problem.workloads.items() if k != a})
    return problem


def _base(rng: random.Random) -> Problem:
    """A random team (tests/solver/test_decompose.py) with the quotas of some keys
    and mostly the budget removed, so that some workloads are self-contained."""
    problem = _team(rng)
    gcp_free = rng.random() < 0.5  # each kind has an aliased key with a quota; free one or both
    providers = {k: (replace(cfg, quotas=()) if cfg.kind == "gcp" and gcp_free or rng.random() < 0.5 else cfg)
                 for k, cfg in problem.providers.items()}
    budget = problem.options.budget if rng.random() < 0.2 else None
    return replace(problem, providers=providers, options=replace(problem.options, budget=budget))


def _replan(problem: Problem, changed: Problem) -> None:
    first = _solve(problem)
    if isinstance(first, InfeasibleError):
        return
    incremental = _solve(replace(changed, memo=first.memo))
    _identical(incremental, _solve(changed))


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_incremental_replan_matches_a_full_solve_on_random_configs(seed):
    rng = random.Random(seed)
    problem = _base(rng)
    _replan(problem, _changed(rng, problem))


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_incremental_replan_matches_when_the_first_plan_runs(seed):
    rng = random.Random(seed)
    problem = _base(rng)
    first = _solve(problem)
    if isinstance(first, InfeasibleError):
        return
    running = replace(problem, current={a: tuple(g.chosen for g in wp.groups)
                                        for a, wp in first.placements.items() if rng.random() < 0.7})
    _replan(problem, _changed(rng, running))


def test_an_unchanged_config_is_kept_whole_and_a_catalog_change_solves_again():
    rng = random.Random(11)
    problem = _team(rng)
    problem = replace(problem, providers={k: replace(cfg, quotas=()) for k, cfg in problem.providers.items()},
                      options=replace(problem.options, budget=None))
    first = solve(problem)
    again = solve(replace(problem, memo=first.memo))
    assert again.reused == len(problem.workloads) > 0
    _identical(again, first)
    moved = {k: tuple(replace(o, on_demand=o.on_demand and o.on_demand * 0.5) for o in v)
             for k, v in problem.offers.items()}
    cheaper = solve(replace(problem, offers=moved, memo=first.memo))
    assert cheaper.reused == 0
    _identical(cheaper, solve(replace(problem, offers=moved)))


def test_a_solve_nothing_keeps_skips_the_memo_but_still_reads_one_it_is_given():
    """``memoize=False`` (optimize, or no state): the same answer with no entries worked
    out; handed a memo, it still keeps what the memo holds."""
    rng = random.Random(11)
    problem = _team(rng)
    problem = replace(problem, providers={k: replace(cfg, quotas=()) for k, cfg in problem.providers.items()},
                      options=replace(problem.options, budget=None))
    first = solve(problem)
    assert first.memo
    quiet = replace(problem, options=replace(problem.options, memoize=False))
    alone = solve(quiet)
    assert alone.memo == {} and alone.reused == 0
    assert list(alone.placements.items()) == list(first.placements.items())
    assert list(alone.candidates.items()) == list(first.candidates.items())
    assert solve(replace(quiet, memo=first.memo)).reused == len(problem.workloads)


@pytest.mark.parametrize("name", case_names())
def test_every_solver_case_solved_again_from_its_own_memo_is_unchanged(name):
    problem, expected = load_case(name)
    if "error" in expected:
        return
    first = solve(problem)
    _identical(solve(replace(problem, memo=first.memo)), first)


def _merged(spec: dict, change: dict) -> dict:
    out = dict(spec)
    for k, v in change.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            merged = dict(out[k])
            for name, value in v.items():
                if value is None:
                    merged.pop(name, None)
                elif isinstance(value, dict) and isinstance(merged.get(name), dict):
                    merged[name] = {**merged[name], **value}
                else:
                    merged[name] = value
            out[k] = merged
        else:
            out[k] = v
    return out


@pytest.mark.parametrize("name", sorted(p.name for p in REPLAN.iterdir() if (p / "problem.json").exists()))
def test_replan_case(name):
    folder = REPLAN / name
    spec = json.loads((folder / "problem.json").read_text())
    change = json.loads((folder / "change.json").read_text())
    expected = json.loads((folder / "expected.json").read_text())
    first = solve(load_problem(spec))
    changed = load_problem(_merged(spec, change))
    incremental = solve(replace(changed, memo=first.memo))
    _identical(incremental, solve(changed))
    kept = sorted(a for a in incremental.placements if a in _kept(first.memo, incremental))
    assert kept == sorted(expected["kept"])
    assert incremental.reused == len(expected["kept"])


def _kept(memo, solution) -> set[str]:
    """Addresses whose stored entry the re-plan found unchanged (same digest in both memos)."""
    return {a for digest, members in solution.memo.items() if digest in memo for a in members}


@pytest.mark.parametrize("part", ["placement", "candidates"])
def test_an_entry_of_another_shape_is_solved_again_not_an_error(part):
    """A kept candidate table is read only when shown, so its shape is checked when kept."""
    rng = random.Random(5)
    problem = _base(rng)
    while isinstance(_solve(problem), InfeasibleError):
        problem = _base(rng)
    first = solve(problem)
    assert first.memo
    bad = {"placement": lambda a: {"address": a}, "candidates": lambda a: [{"infra": "aws/us-east-1"}]}[part]
    damaged = {d: {a: {**doc, part: bad(a)} for a, doc in members.items()} for d, members in first.memo.items()}
    again = solve(replace(problem, memo=damaged))
    assert again.reused == 0
    _identical(again, first)

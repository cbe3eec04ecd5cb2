"""Mandatory cost and place policies as solver constraints (pure).

``constrain(graph, policies, offers)`` gives the graph the solver sees, so the
plan it finds is the cheapest that passes:

- allowed/denied providers narrow each covered workload's ``placement.providers``
  to the configured keys that pass; allowed regions narrow ``placement.regions`` to
  the offered regions that pass, denied ones join ``exclude_regions``; pricing
  models and accelerators filter the workload's ``pricing`` and its any-of
  ``resources.accelerators`` — the solver's candidate filters do the rest;
- a cap over the whole plan becomes the solver's budget row (the tighter of it and
  ``skyplan { max_hourly_cost }``), a cap per workload (``per = "workload"``, or a
  group that covers one workload) that workload's ``max_hourly_cost``, a cap over a
  group of several workloads (by address glob or tag) one of the solver's group
  budgets (``Settings.group_budgets``, a row over their summed $/h).

Each narrowed value's position is the policy attribute it comes from, so an
infeasibility blames the policy at its file:line:col; ``blamed_policies`` turns
the solver's blame back into the policies that bind. A rule that leaves a
workload nothing at all is reported here, before solving. check.py still checks
every cap on the plan (the costs it reads are the ones the solver kept within).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping, Sequence

from skyplan.config.model import DesiredGraph, Workload
from skyplan.errors import InfeasibleError
from skyplan.policy.model import (
    Policy, accelerator_passes, glob_match, pricing_passes, provider_passes, region_passes,
)
from skyplan.solver.items import provider_allowed
from skyplan.solver.problem import GroupBudget

HINT = "change the workload's placement or pricing, or relax the policy named above"


def constrain(graph: DesiredGraph, policies: Sequence[Policy], offers: Mapping[str, Sequence]
              ) -> tuple[DesiredGraph, dict[tuple[str, str], str]]:
    """(the graph to solve, (owner, attribute path) -> policy name of every value a policy set)."""
    active = [p for p in policies if p.mandatory]
    if not active:
        return graph, {}
    blame: dict[tuple[str, str], str] = {}
    positions = dict(graph.positions)
    copied: set[str] = set()

    def own(owner: str) -> dict:
        """``owner``'s positions, copied before a policy writes to them (the rest stay unread)."""
        if owner not in copied:
            positions[owner] = dict(positions.get(owner, {}))
            copied.add(owner)
        return positions[owner]

    settings = graph.settings
    for p in active:
        cap = p.hourly_cap
        if cap is not None and p.selects_all and p.per == "plan" and (
                settings.max_hourly_cost is None or cap[0] < settings.max_hourly_cost):
            settings = replace(settings, max_hourly_cost=cap[0])
            own("skyplan")["max_hourly_cost"] = p.positions.get(cap[1]) or p.source
            blame[("skyplan", "max_hourly_cost")] = p.name
    workloads = dict(graph.workloads)
    regions_of = _regions(offers)
    groups = list(settings.group_budgets)
    for p in active:
        covered = [a for a, w in workloads.items() if p.covers(a, w.tags)]
        single = len(covered) == 1 and p.per == "plan" and not p.selects_all
        cap = p.hourly_cap
        if cap is not None and len(covered) > 1 and p.per == "plan" and not p.selects_all:
            owner = f"policy.{p.name}"
            own(owner)[cap[1]] = p.positions.get(cap[1]) or p.source
            blame[(owner, cap[1])] = p.name
            stated = f"max_monthly_cost ${p.max_monthly_cost:,.2f}/month" if cap[1] == "max_monthly_cost" else ""
            groups.append(GroupBudget(p.name, cap[0], tuple(sorted(covered)), owner, cap[1], stated))
        for address in covered:
            w = _narrow(workloads[address], p, graph, regions_of, own(address), blame,
                        per_workload=p.per == "workload" or single)
            workloads[address] = w
    if groups:
        settings = replace(settings, group_budgets=tuple(groups))
    return replace(graph, settings=settings, workloads=workloads, positions=positions), blame


def _regions(offers: Mapping[str, Sequence]):
    memo: dict[str, list[str]] = {}

    def of(key: str) -> list[str]:
        hit = memo.get(key)
        if hit is None:
            hit = memo[key] = sorted({o.region for o in offers.get(key, ())})
        return hit
    return of


def _narrow(w: Workload, p: Policy, graph: DesiredGraph, regions_of, pos: dict, blame: dict,
            per_workload: bool) -> Workload:
    a = str(w.address)

    def mark(path: str, attribute: str) -> None:
        pos[path] = p.positions.get(attribute) or p.source
        blame[(a, path)] = p.name

    def none_left(what: str, attribute: str) -> InfeasibleError:
        return InfeasibleError(f'No placement satisfies mandatory policy "{p.name}" ({p.where(attribute)})',
                               causes=[f"{a}: {what}"], hint=HINT)

    spec, changes = w.placement, {}
    if (p.allowed_providers or p.denied_providers) and not spec.fleet:
        keys = tuple(k for k, cfg in sorted(graph.providers.items())
                     if provider_allowed(k, cfg.kind, spec) and provider_passes(p, k, cfg.kind))
        if not keys:
            attr = "allowed_providers" if p.allowed_providers else "denied_providers"
            raise none_left(f"none of its providers ({', '.join(spec.providers) or 'every configured one'}) "
                            f"passes {attr}", attr)
        spec = replace(spec, providers=keys)
        mark("placement.providers", "allowed_providers" if p.allowed_providers else "denied_providers")
    if p.allowed_regions and not spec.fleet:
        keys = [k for k, cfg in sorted(graph.providers.items()) if provider_allowed(k, cfg.kind, spec)]
        regions = tuple(sorted({r for k in keys for r in regions_of(k) if region_passes(p, r)
                                and (not spec.regions or glob_match(r, spec.regions))}))
        if not regions:
            raise none_left(f"no offered region of {', '.join(keys) or 'its providers'} is in "
                            f"allowed_regions {list(p.allowed_regions)}"
                            + (f" and in its placement regions {list(spec.regions)}" if spec.regions else ""),
                            "allowed_regions")
        spec = replace(spec, regions=regions)
        mark("placement.regions", "allowed_regions")
    if p.denied_regions and not spec.fleet:
        spec = replace(spec, exclude_regions=tuple(dict.fromkeys(spec.exclude_regions + p.denied_regions)))
        mark("placement.exclude_regions", "denied_regions")
    if spec is not w.placement:
        changes["placement"] = spec
    if p.allowed_pricing or p.denied_pricing:
        pricing = tuple(x for x in w.pricing if pricing_passes(p, x))
        attr = "allowed_pricing" if p.allowed_pricing else "denied_pricing"
        if not pricing:
            raise none_left(f"it buys {' or '.join(w.pricing)}, which {attr} rules out", attr)
        if pricing != w.pricing:
            changes["pricing"] = pricing
            mark("pricing", attr)
    if (p.allowed_accelerators or p.denied_accelerators) and w.resources.accelerators:
        accs = tuple(x for x in w.resources.accelerators if accelerator_passes(p, x.name))
        attr = "allowed_accelerators" if p.allowed_accelerators else "denied_accelerators"
        if not accs:
            raise none_left(f"it asks for {' or '.join(str(x) for x in w.resources.accelerators)}, "
                            f"which {attr} rules out", attr)
        if accs != w.resources.accelerators:
            changes["resources"] = replace(w.resources, accelerators=accs)
            mark("resources.accelerators", attr)
    cap = p.hourly_cap
    if cap is not None and per_workload and (w.max_hourly_cost is None or cap[0] < w.max_hourly_cost):
        changes["max_hourly_cost"] = cap[0]
        mark("max_hourly_cost", cap[1])
    return replace(w, **changes) if changes else w


def blamed_policies(err: InfeasibleError, blame: Mapping[tuple[str, str], str]) -> list[str]:
    """The policies whose values the solver blamed for ``err``, in order."""
    out: list[str] = []
    for b in err.blame:
        name = blame.get(tuple(b)) if b else None
        if name and name not in out:
            out.append(name)
    return out

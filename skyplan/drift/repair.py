"""Repair: plan and apply what restores the declared state after drift.

The caller holds the state lock for the whole repair. ``skyplan.watch.plan_repair``
asks the workflow for a plan with what this module decides (the planner recreates
missing nodes, adopts or deletes unmanaged objects, and raises PlanError rather
than destroy anything with ``prevent_destroy``); this module calls nothing in
``workflow``. Addresses whose nodes drifted in what cannot change in
place (instance type, region, zone, pricing, a service that is no longer
running, a spot node stopped by its interruption) are planned as
replacements (of a service, only its replicas that need it: ``replica_groups``). A lost spot node's zone is handed to the solver as blocked
(``blocked_from_drift``), so the replacement avoids it; a service with
``spot { fallback_on_demand = true }`` gets no new spot replica while that holds,
so its lost replica comes back on on-demand (and on spot again once nothing
blocks it). Drift that can be put back in place (tags, a stopped node, a node tagged with an empty or another lineage)
becomes ``Restore`` steps that ``restore_in_place`` carries out through
``Provider.update`` after apply; drift that is only state lagging the cloud
(nodes adopted from an interrupted apply) is written to state. Every repaired
placement must stay within its approved hourly cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

from skyplan.drift.classify import FINISHED_STATES, Refreshed
from skyplan.errors import PlanError
from skyplan.planner.model import Action, Plan
from skyplan.providers.base import PREEMPTED, TAG_LINEAGE, Instance, Provider

REPLACE_PATHS = ("instance_type", "region", "zone", "pricing")
BOOKKEEPING_PATHS = frozenset({"instances", "id"})  # state lags the cloud; nothing to change there


@dataclass(frozen=True)
class Restore:
    """Put one node back in place: ``changes`` for Provider.update."""

    address: str
    instance: Instance
    changes: Mapping[str, Any]


@dataclass
class RepairPlan:
    plan: Plan | None
    replace: tuple[str, ...] = ()
    restores: tuple[Restore, ...] = ()
    accept: tuple[str, ...] = ()  # addresses whose refreshed record is written to state as is
    providers: dict[str, Provider] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.restores and not self.accept and (self.plan is None or not self.plan.has_changes)


def needs_replacement(refreshed: Refreshed, declared: Sequence[str]) -> tuple[str, ...]:
    """Declared addresses whose live nodes differ in something only a replacement fixes."""
    out = []
    for item in refreshed.drift:
        if item.category == "unhealthy" and item.address in declared:
            out.append(item.address)  # a replica that runs but does not serve is replaced
            continue
        if item.category != "changed" or item.address not in declared:
            continue
        after = item.after or {}
        immutable = any(p in REPLACE_PATHS for p in item.paths)
        rec = refreshed.snapshot.resources.get(item.address)
        is_service = rec is not None and rec.attributes.get("kind") == "service"
        exited = "state" in item.paths and after.get("state") in FINISHED_STATES and is_service
        preempted = "state" in item.paths and after.get("state") == PREEMPTED
        if immutable or exited or preempted:
            out.append(item.address)
    return tuple(sorted(set(out)))


def replica_groups(refreshed: Refreshed, addresses: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """For the services among ``addresses``: the replicas (group numbers) that need
    replacing, when that is not all of them: those whose nodes the drift names
    (unhealthy, preempted) or that stopped running. The planner replaces those alone
    (``PlanOptions.replace_groups``); the others keep serving."""
    out: dict[str, tuple[int, ...]] = {}
    for address in addresses:
        rec = refreshed.snapshot.resources.get(address)
        if rec is None or rec.attributes.get("kind") != "service" or len(rec.groups) < 2:
            continue
        named = {pid for d in refreshed.drift if d.address == address for pid in d.provider_ids}
        bad = sorted({n for n, g in enumerate(rec.groups) for i in g.instances
                      if i.id in named or i.state == PREEMPTED or i.state in FINISHED_STATES})
        if bad and len(bad) < len(rec.groups):
            out[address] = tuple(bad)
    return out


def in_place_restores(prior_snapshot, refreshed: Refreshed, skip: Sequence[str]) -> tuple[Restore, ...]:
    """Tag and stopped-state drift to put back with Provider.update, per node."""
    out: list[Restore] = []
    drifted = {d.address for d in refreshed.drift if d.category == "changed"}
    for address in sorted(drifted - set(skip)):
        before = prior_snapshot.resources.get(address)
        now = refreshed.snapshot.resources.get(address)
        if before is None or now is None:
            continue
        old_by_key = {(i.group, i.rank): i for i in before.instances}
        item = next(d for d in refreshed.drift if d.address == address and d.category == "changed")
        for inst in now.instances:
            old = old_by_key.get((inst.group, inst.rank))
            if old is None:
                continue
            changes: dict[str, Any] = {}
            if any(p == "tags" or p.startswith("tags.") for p in item.paths):
                tags = {k: v for k, v in old.tags.items() if inst.tags.get(k) != v}
                tags.update({k: None for k in inst.tags if k not in old.tags})
                if tags:
                    changes["tags"] = tags
            if "state" in item.paths and inst.state == "stopped" and old.state != "stopped":
                changes["state"] = "running"
            if "lineage" in item.paths and inst.lineage != refreshed.snapshot.lineage:
                changes["tags"] = {**changes.get("tags", {}), TAG_LINEAGE: refreshed.snapshot.lineage}
            if changes:
                out.append(Restore(address, inst, changes))
    return tuple(out)


def state_fixes(refreshed: Refreshed, skip: Sequence[str]) -> tuple[str, ...]:
    """Addresses whose only drift is bookkeeping (nodes adopted from an interrupted
    apply, a node found under a new id): state is brought up to date, the cloud
    is left alone."""
    out = [d.address for d in refreshed.drift
           if d.category == "changed" and d.address not in skip and set(d.paths) <= BOOKKEEPING_PATHS]
    return tuple(sorted(set(out)))


def accept_fixes(store, refreshed: Refreshed, addresses: Sequence[str]) -> int:
    """Write the refreshed records of ``addresses`` into state (no cloud change)."""
    from skyplan.drift.accept import accept_refreshed

    wanted = set(addresses)
    part = replace(refreshed,
                   snapshot=replace(refreshed.snapshot, resources={
                       a: r for a, r in refreshed.snapshot.resources.items() if a in wanted}),
                   drift=tuple(d for d in refreshed.drift if d.address in wanted))
    return accept_refreshed(store, part)


def check_envelope(plan: Plan) -> None:
    """Refuse a repair whose new placements exceed what was approved for them. A job
    Uniform Progress paces keeps within the envelope the applied plan recorded with it
    (``ResourceRecord.envelope``), since watch steers its pricing and the repair plan's
    own approval would bound nothing: on spot the approved $/h, moved to on-demand (a
    deadline switch) up to the recorded on-demand $/h, and no further. Anything else
    keeps within the repair plan's approval (its placement and fallbacks)."""
    for c in plan.changes:
        if c.placement is None or c.action in (Action.NOOP, Action.DELETE):
            continue
        hourly = c.placement.hourly_cost
        env = c.prior.envelope if c.prior is not None else {}
        if "on_demand_hourly" not in env:
            if hourly > c.placement.approved_hourly_cost + 1e-9:
                raise PlanError(
                    f"repairing {c.address} would cost ${hourly:.4f}/h, above its approved "
                    f"${c.placement.approved_hourly_cost:.4f}/h",
                    hint="raise max_hourly_cost for it, or repair by hand with skyplan plan/apply")
            continue
        limit, what = float(env["hourly"]), f"the ${float(env['hourly']):.4f}/h approved for it"
        on_demand = all(g.chosen.pricing == "on_demand" for g in c.placement.groups)
        if on_demand:
            limit = max(limit, float(env["on_demand_hourly"]))
            what = (f"the ${float(env['on_demand_hourly']):.4f}/h of on-demand its approved plan allowed for a "
                    f"deadline switch")
        if hourly > limit + 1e-9:
            approved = f" on {env['approved_at']}" if env.get("approved_at") else ""
            raise PlanError(
                f"repairing {c.address} would cost ${hourly:.4f}/h, above {what}{approved}",
                hint="apply a plan that places it again (skyplan plan/apply), which approves a new envelope")


def restore_in_place(store, restores: Sequence[Restore], providers: Mapping[str, Provider]) -> list[str]:
    """Carry out ``restores`` and record each node's new form in state; returns errors."""
    errors: list[str] = []
    by_address: dict[str, list[Restore]] = {}
    for r in restores:
        by_address.setdefault(r.address, []).append(r)
    for address, steps in sorted(by_address.items()):
        current = store.get(address)
        if current is None:
            continue
        updated: dict[str, Instance] = {}
        for step in steps:
            try:
                updated[step.instance.id] = providers[step.instance.provider].update(step.instance, step.changes)
            except Exception as e:  # reported, the rest still runs
                errors.append(f"{address} ({step.instance.id}): {e}")
        if not updated:
            continue
        groups = tuple(replace(g, instances=tuple(updated.get(i.id, i) for i in g.instances))
                       for g in current.groups)
        store.record(replace(current, groups=groups), action="repair", before=current,
                     detail="drift repair: restored " + ", ".join(sorted({k for s in steps for k in s.changes})))
    return errors

"""plan(): the pure diff of the desired graph and its placements against state.

For every address the configuration declares or state records it decides one
Action and a reason (for people only):

- not in state -> create (or adopt, when refresh found its nodes unmanaged);
- a create that failed with nothing launched -> create (``create_because_create_failed``);
- in state, every node gone -> create again (``replace_because_missing``);
  some nodes gone -> replace (``replace_because_nodes_missing``);
- a job that failed -> replace (``replace_because_failed``), unless its
  ``lifecycle { retry_failed = false }``;
- a job that finished with the same configuration -> no-op;
- ``-replace`` -> replace (``replace_by_request``); tainted -> replace;
- placement identity changed -> replace (``replace_because_placement_changed``);
- attributes changed -> replace when the provider schema says the attribute
  cannot change in place (``replace_because_cannot_update``), else update;
- nodes with its address and this lineage that state does not hold -> deleted with
  the record's change (an update ``delete_unmanaged_nodes`` when nothing else changes);
- in state but not in config -> delete (``delete_because_no_config``, or
  ``delete_because_count_index`` / ``delete_because_each_key``).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from skyplan.addrs import Address
from skyplan.config.model import DesiredGraph, Fleet, Workload, resource_hash
from skyplan.errors import PlanError
from skyplan.planner import attrs as A
from skyplan.planner.costs import estimated
from skyplan.planner.model import Action, Change, DriftItem, Plan
from skyplan.planner.networks import is_network, network_changes
from skyplan.planner.options import PlanOptions
from skyplan.planner.replicas import align, relaunched
from skyplan.planner.outputs import output_changes
from skyplan.planner.schema import REPLACE, provider_kind, rules_for
from skyplan.planner.fleets import check_fleet_destroys
from skyplan.planner.held import hold_behind_failed_jobs
from skyplan.planner.targets import select
from skyplan.providers.base import Instance
from skyplan.solver.model import Solution, WorkloadPlacement
from skyplan.state.model import FAILED, STOPPED, SUCCEEDED, GroupRecord, ResourceRecord, Snapshot

FINISHED = (SUCCEEDED, FAILED)


def moved_state(desired: DesiredGraph, prior: Snapshot, refreshed: Snapshot | None):
    """(prior, refreshed, {new address: old}) with state's records renamed by the
    configuration's moved blocks; raises PlanError naming the moved block."""
    from skyplan.config.moves import MoveError, rename, renamed_snapshot

    try:
        mapping = rename(desired.moves, prior.resources)
    except MoveError as e:
        raise PlanError(str(e), hint=e.hint) from None
    prior = renamed_snapshot(prior, mapping)
    refreshed = renamed_snapshot(refreshed, mapping) if refreshed is not None else None
    return prior, refreshed, {new: old for old, new in mapping.items()}


def plan(desired: DesiredGraph, solution: Solution, prior: Snapshot, refreshed: Snapshot | None,
         options: PlanOptions, drift: Sequence[DriftItem] = (), unmanaged: Sequence[Instance] = (),
         catalog: Mapping[str, Any] | None = None, created_at: str = "") -> Plan:
    """Decide what apply must do. Pure: reads its arguments, returns a Plan."""
    for r in getattr(desired, "removed", ()):
        still = sorted(a for a in desired.resources() if r.covers(a))
        if still:
            raise PlanError(f"{r.source}: removed block names {r.address}, which the configuration still declares "
                            f"({still[0]})", hint="delete the declaration, or drop the removed block")
    previous: dict[str, str] = {}
    if getattr(desired, "moves", ()):
        prior, refreshed, previous = moved_state(desired, prior, refreshed)
    base = refreshed if refreshed is not None else prior
    unbought = solution.unbought  # provisioned fleets that cost more than their workloads bought directly
    declared = {a: r for a, r in desired.resources().items()
                if not (isinstance(r, Fleet) and (r.existing or a in unbought))}
    deps = desired.dependencies()
    stray = _group_unmanaged(unmanaged)

    wanted = select(options.targets, declared, base, deps, destroy=options.destroy, excludes=options.excludes)
    for addr in options.replace:
        if addr not in declared:
            raise PlanError(f"-replace {addr}: no such resource in the configuration",
                            hint="give the address of a declared workload or fleet, e.g. workload.train")

    changes: list[Change] = []
    if not options.refresh_only:
        if not options.destroy:
            for addr in _order(desired, declared):
                if wanted is not None and addr not in wanted:
                    continue
                changes.append(_declared_change(addr, declared[addr], solution.placements.get(addr),
                                                base.resources.get(addr), stray.pop(addr, None),
                                                deps.get(addr, ()), options, prior.sensitive.get(addr, ())))
        for addr in sorted(base.resources):
            if (addr in declared and not options.destroy) or (wanted is not None and addr not in wanted):
                continue
            rec = base.resources[addr]
            if is_network(rec):
                continue  # planned with the nodes that need it, below
            kept = next((r for r in getattr(desired, "removed", ()) if r.covers(addr)), None)
            if kept is not None and not kept.destroy:
                changes.append(Change(address=addr, action=Action.NOOP, kind=rec.kind, before=_before(rec),
                                      after=None, reason="forget_because_removed", depends_on=tuple(rec.depends_on),
                                      prior=rec, config_hash=rec.config_hash, forget=True))
                stray.pop(addr, None)
                continue
            if addr in stray:  # nodes of it that state lost track of go with it
                rec = _with_strays(rec, stray.pop(addr))
            reason = "delete_because_destroy" if options.destroy else (
                "delete_because_not_bought" if addr in unbought else _delete_reason(addr, declared))
            changes.append(_delete(rec, reason, declared.get(addr), prior.sensitive.get(addr, ())))
        planned = {c.address for c in changes}
        kept_running = [r for r in getattr(desired, "removed", ()) if not r.destroy]
        for addr in sorted(stray):
            if (wanted is not None and addr not in wanted) or addr in planned:
                continue  # the address has its own change, which deletes its strays
            if any(r.covers(addr) for r in kept_running):
                continue  # forgotten on purpose: its nodes still carry the lineage tag
            changes.append(_delete(_synthesise(addr, stray[addr]), "delete_because_unmanaged", None))
        changes = hold_behind_failed_jobs(changes)  # before networks: a held create needs none
        changes += network_changes(desired, changes, base, options, wanted)

    for c in changes:
        if (c.action is Action.DELETE or c.action.is_replace) and c.lifecycle.get("prevent_destroy"):
            verb = "destroy" if c.action is Action.DELETE else "replace"
            src = getattr(declared.get(c.address), "source", None)
            raise PlanError(
                (f"{src}: " if src else "")
                + f"{c.address} has lifecycle.prevent_destroy set, but the plan would {verb} it ({c.reason})",
                hint="remove prevent_destroy from its lifecycle block to allow this, or change the plan "
                     "(e.g. -target other resources)")

    check_fleet_destroys(changes, base)

    cost_before = sum(_running_cost(r) for r in prior.resources.values())
    changed = {c.address for c in changes}
    cost_after = sum(_cost_after(c) for c in changes)
    cost_after += sum(_running_cost(r) for a, r in base.resources.items() if a not in changed)
    estimated_before, estimated_after = estimated(changes, solution, prior, base)
    from skyplan.planner.tags import with_tags

    changes = [with_tags(c, desired) for c in changes]
    has_resource_changes = any(c.action is not Action.NOOP for c in changes)
    if previous:
        from dataclasses import replace as _replace

        changes = [_replace(c, previous_address=previous[c.address]) if c.address in previous else c for c in changes]
    return Plan(
        changes=tuple(changes), lineage=prior.lineage, serial=prior.serial, config_hash=desired.config_hash,
        drift=tuple(drift), output_changes={} if options.refresh_only else output_changes(
            desired, prior, has_resource_changes, options.destroy),
        variables={k: v.value for k, v in desired.variables.items() if not v.sensitive},
        sensitive_variables={k: v.value for k, v in desired.variables.items() if v.sensitive},
        catalog=dict(catalog or {}), options=options.to_json(),
        solver=_solver_info(solution),
        cost_before=round(cost_before, 6), cost_after=round(cost_after, 6),
        estimated_before=round(estimated_before, 6), estimated_after=round(estimated_after, 6), created_at=created_at,
        config_dir=desired.root,
    )


def _solver_info(solution: Solution) -> dict:
    """How the solver did, the spread of its placements over providers, and the
    single-cloud comparison when it made one (plain JSON, kept in plan files)."""
    from skyplan.solver.single_cloud import provider_spread

    info = {"status": solution.status, "gap": solution.gap, "backend": solution.backend,
            "seconds": round(solution.solve_seconds, 3), "spread": provider_spread(solution),
            "reused": solution.reused}
    if solution.single_cloud is not None:
        info["single_cloud"] = solution.single_cloud.to_json()
    if solution.fleets:
        info["fleets"] = [c.to_json() for c in solution.fleets]
    return info


def _order(desired: DesiredGraph, declared: Mapping[str, Any]) -> list[str]:
    order = [a for a in desired.topological_order() if a in declared]
    seen = set(order)
    return order + sorted(a for a in declared if a not in seen)


def _group_unmanaged(unmanaged: Sequence[Instance]) -> dict[str, list[Instance]]:
    out: dict[str, list[Instance]] = {}
    for inst in unmanaged:
        out.setdefault(inst.address, []).append(inst)
    return out


def _lifecycle(res: Workload | Fleet | None) -> dict:
    if res is None:
        return {"prevent_destroy": False, "create_before_destroy": False, "ignore_changes": []}
    lc = res.lifecycle
    out = {"prevent_destroy": lc.prevent_destroy, "create_before_destroy": lc.create_before_destroy,
           "ignore_changes": list(lc.ignore_changes)}
    if not lc.retry_failed:
        out["retry_failed"] = False
    return out


def _resource_kind(res: Workload | Fleet) -> str:
    return res.kind if isinstance(res, Workload) else "fleet"


def _after(res: Workload | Fleet, wp: WorkloadPlacement | None) -> tuple[dict, dict]:
    raw = res.attributes()
    after, unknown = A.strip_unknown(raw)
    after["placement"] = wp.to_json() if wp else None
    unknown_tree = A.marker_tree(unknown)
    return after, unknown_tree


def _before(rec: ResourceRecord | None) -> dict | None:
    if rec is None:
        return None
    before = dict(rec.attributes)
    before["placement"] = A.record_placement_json(rec) if rec.groups else None
    return before


def _sensitive(res: Workload | Fleet | None, recorded: Sequence[str] = ()) -> dict:
    """The sensitive marker tree of ``res`` (its config) and of the paths state
    recorded as sensitive for it: a value hidden when applied stays hidden in
    every later plan, also when the config no longer has it (destroy, removal)."""
    from skyplan.state.redact import parse_path  # env["MY.KEY"] is one step, not two

    declared = getattr(res, "sensitive_paths", ()) if res is not None else ()
    return A.marker_tree(tuple(str(s) for s in parse_path(p)) for p in (*declared, *recorded))


def _synthesise(addr: str, instances: Sequence[Instance]) -> ResourceRecord:
    """A state record for instances refresh found with our lineage but not in state."""
    from skyplan.solver.model import Placement

    by_group: dict[int, list[Instance]] = {}
    for inst in instances:
        by_group.setdefault(inst.group, []).append(inst)
    groups = []
    for g in sorted(by_group):
        insts = sorted(by_group[g], key=lambda i: i.rank)
        first = insts[0]
        p = Placement(provider=first.provider, region=first.region, zone=first.zone,
                      instance_type=first.instance_type, pricing=first.pricing, hourly_price=0.0,
                      nodes=len(insts))
        groups.append(GroupRecord(p, tuple(insts)))
    try:
        kind = Address.parse(addr).kind
    except ValueError:
        kind = "workload"
    return ResourceRecord(address=addr, kind=kind, status="running", groups=tuple(groups))


def _with_strays(rec: ResourceRecord, instances: Sequence[Instance]) -> ResourceRecord:
    """``rec`` with extra groups holding ``instances`` (so deleting it deletes them too)."""
    from dataclasses import replace

    return replace(rec, groups=rec.groups + _synthesise(rec.address, instances).groups)


def _delete_reason(addr: str, declared: Mapping[str, Any]) -> str:
    try:
        a = Address.parse(addr)
    except ValueError:
        return "delete_because_no_config"
    if a.key is not None and any(_base_of(d) == a.base for d in declared):
        return "delete_because_count_index" if isinstance(a.key, int) else "delete_because_each_key"
    return "delete_because_no_config"


def _base_of(addr: str) -> Address | None:
    try:
        return Address.parse(addr).base
    except ValueError:
        return None


def _delete(rec: ResourceRecord, reason: str, res: Workload | Fleet | None,
            recorded_sensitive: Sequence[str] = ()) -> Change:
    return Change(address=rec.address, action=Action.DELETE, kind=rec.kind, before=_before(rec), after=None,
                  before_sensitive=_sensitive(res, recorded_sensitive), reason=reason,
                  depends_on=tuple(rec.depends_on), prior=rec, lifecycle=_lifecycle(res),
                  config_hash=rec.config_hash)


def _missing_nodes(rec: ResourceRecord) -> tuple[int, int]:
    """(provider objects state expects, objects the refreshed record still has):
    nodes, or the reservation holding a fleet's nodes."""
    expected = sum(g.objects for g in rec.groups)
    have = sum(min(len(g.instances), g.objects) for g in rec.groups)
    return expected, have


def _declared_change(addr: str, res: Workload | Fleet, wp: WorkloadPlacement | None, rec: ResourceRecord | None,
                     stray: list[Instance] | None, deps: tuple[str, ...], options: PlanOptions,
                     recorded_sensitive: Sequence[str] = ()) -> Change:
    """The change of one declared address. Nodes refresh found carrying its address
    and this lineage that state does not hold (``stray``; those completing a
    recorded group were already adopted by refresh) go with the state record's
    change: deleted by its replacement, or by an update of their own
    (``delete_unmanaged_nodes``) when nothing else changes."""
    from dataclasses import replace

    change = _decide(addr, res, wp, rec, stray, deps, options, recorded_sensitive)
    if rec is None or not stray:
        return change
    change = replace(change, prior=_with_strays(change.prior or rec, stray))
    if change.action is Action.NOOP:
        change = replace(change, action=Action.UPDATE, reason="delete_unmanaged_nodes")
    return change


def _decide(addr: str, res: Workload | Fleet, wp: WorkloadPlacement | None, rec: ResourceRecord | None,
            stray: list[Instance] | None, deps: tuple[str, ...], options: PlanOptions,
            recorded_sensitive: Sequence[str] = ()) -> Change:
    wp = align(wp, rec)  # a group placed where it runs keeps its number
    after, after_unknown = _after(res, wp)
    lifecycle = _lifecycle(res)
    sens = _sensitive(res)
    common = dict(address=addr, kind=res.address.kind, after_unknown=after_unknown, after_sensitive=sens,
                  depends_on=tuple(deps), placement=wp, lifecycle=lifecycle, config_hash=resource_hash(res))
    # a service updated "rolling" replaces its replicas new-first too (apply.rollout)
    rolls = getattr(res, "kind", "") == "service" and getattr(res, "update", None) is not None and res.update.rolling
    replace_action = Action.CREATE_THEN_DELETE if res.lifecycle.create_before_destroy or rolls \
        else Action.DELETE_THEN_CREATE
    adopting = rec is None and bool(stray)
    if rec is None and stray:
        rec = _synthesise(addr, stray)
    if rec is None:
        return Change(action=Action.CREATE, before=None, after=after, **common)

    before = _before(rec)
    common.update(before=before, before_sensitive=_sensitive(res, recorded_sensitive), prior=rec)
    is_job = isinstance(res, Workload) and res.kind == "job"
    same_config = rec.config_hash == common["config_hash"]

    if addr in options.replace:
        return Change(action=replace_action, after=after, reason="replace_by_request", **common)
    if rec.status == FAILED and not rec.groups:
        return Change(action=Action.CREATE, after=after, reason="create_because_create_failed", **common)
    if is_job and rec.status == FAILED and same_config and res.lifecycle.retry_failed:
        return Change(action=replace_action, after=after, reason="replace_because_failed", **common)
    if is_job and rec.status in FINISHED and same_config:
        return Change(action=Action.NOOP, after=before, **common)
    if rec.tainted:
        return Change(action=replace_action, after=after, reason="replace_because_tainted", **common)
    expected, have = _missing_nodes(rec)
    if rec.groups and have == 0 and rec.status not in FINISHED + (STOPPED,):
        return Change(action=Action.CREATE, after=after, reason="replace_because_missing", **common)
    if not rec.groups and not adopting:
        return Change(action=Action.CREATE, after=after, reason="replace_because_missing", **common)
    ignore = [A.parse_path(p) for p in res.lifecycle.ignore_changes]
    some = () if adopting else _some_replicas(addr, res, wp, rec, options, ignore)
    if have < expected and rec.status not in FINISHED and not some:
        return Change(action=replace_action, after=after, reason="replace_because_nodes_missing", **common)

    after = A.keep_ignored(before, after, ignore)
    # default_tags come from the provider block: planner/tags.py compares them
    attr_before = {k: v for k, v in before.items() if k not in ("placement", "default_tags")}
    attr_after = {k: v for k, v in after.items() if k not in ("placement", "default_tags")}
    # Adopted nodes carry no recorded configuration: only their placement is compared.
    paths = [] if adopting else [p for p in A.diff_paths(attr_before, attr_after) if not A.under(p, ignore)]

    rules = rules_for(provider_kind(_provider_key(wp, rec)), _resource_kind(res))
    replace_paths = tuple(p for p in paths if rules.effect(p[0]) == REPLACE)
    update_paths = tuple(p for p in paths if rules.effect(p[0]) != REPLACE)

    placement_moved = False
    if wp is not None and not A.under(("placement",), ignore):
        new, old = A.placement_view(A.planned_groups(wp)), A.placement_view(A.recorded_groups(rec))
        common_n = min(len(new), len(old))
        placement_moved = new[:common_n] != old[:common_n]
        if not placement_moved and len(new) != len(old) and ("replicas",) not in paths:
            placement_moved = True  # group count changed without a replicas change

    if replace_paths:
        return Change(action=replace_action, after=after, replace_paths=replace_paths, update_paths=update_paths,
                      reason="replace_because_cannot_update", **common)
    if some:
        return Change(action=Action.UPDATE, after=after, update_paths=update_paths, relaunch_groups=some,
                      reason="replace_some_replicas", **common)
    if placement_moved:
        return Change(action=replace_action, after=after, replace_paths=(("placement",),),
                      update_paths=update_paths, reason="replace_because_placement_changed", **common)
    if adopting:
        return Change(action=Action.UPDATE, after=after, update_paths=update_paths, reason="adopt_unmanaged",
                      **common)
    if update_paths:
        return Change(action=Action.UPDATE, after=after, update_paths=update_paths, **common)
    return Change(action=Action.NOOP, after=after, **common)


def _some_replicas(addr: str, res: Workload | Fleet, wp: WorkloadPlacement | None, rec: ResourceRecord,
                   options: PlanOptions, ignore) -> tuple[int, ...]:
    """The replicas of a service to launch afresh when only some of them need it
    (planner/replicas.py); () when none do, or all do (then the whole is replaced)."""
    if not isinstance(res, Workload) or res.kind != "service" or wp is None or not rec.groups:
        return ()
    again = relaunched(wp, rec, options.replace_groups.get(addr, ()), A.under(("placement",), ignore))
    return again if len(again) < min(len(wp.groups), len(rec.groups)) else ()


def _provider_key(wp: WorkloadPlacement | None, rec: ResourceRecord | None) -> str | None:
    if wp is not None and wp.groups:
        return wp.groups[0].chosen.provider
    if rec is not None and rec.placement is not None:
        return rec.placement.provider
    return None


def _running_cost(rec: ResourceRecord) -> float:
    if rec.status in FINISHED + (STOPPED,):
        return 0.0
    return rec.hourly_cost


def _cost_after(c: Change) -> float:
    if c.action is Action.DELETE:
        return 0.0
    if c.action is Action.NOOP:
        return _running_cost(c.prior) if c.prior is not None else 0.0
    if c.placement is not None:
        return c.placement.hourly_cost
    return _running_cost(c.prior) if c.prior is not None else 0.0

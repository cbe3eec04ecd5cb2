"""Match what providers report to state and classify every difference (pure).

``classify(snapshot, listings)`` takes the prior Snapshot and, per provider
key, the instances that provider listed for this state's lineage. Matching is
by provider id first, then by the address tag (same address, group and rank:
the object was replaced under the same name), then by adoption (a group with
fewer nodes than placed picks up nodes carrying its address that fit its
placement: same provider, region, zone, instance type and pricing).
Whatever is left over is ``unmanaged``.

Classification, per record:

- ``changed``: a node exists but differs in instance type, state, pricing,
  region, zone or tags (attribute paths from deepdiff, e.g. ``tags.owner``);
  a job's nodes finishing (running -> succeeded/failed) is not drift, it
  updates the record's status; nor is a service's node stopped by its idle
  timer (``autostop``: the provider reports ``stopped_by = "autostop"``), nor
  such a node started again: the record becomes ``stopped`` with reason
  ``autostop`` (shown as ``stopped (autostop)``), and back;
- ``missing``: nodes recorded in state are gone (the item's ``before`` lists
  each missing node's group, rank, id, zone and pricing); a job already
  recorded as finished whose nodes were cleaned up is not missing;
- ``unmanaged``: objects carrying the lineage that state does not hold;
- ``unhealthy`` (``unhealthy_items``, after refresh probed readiness): a service
  replica that failed its readiness probe ``failure_threshold`` times in a row
  after its initial delay; repair replaces it.

A node state recorded (same provider id, same address tag) found under an empty
or another lineage is ``changed`` at path ``lineage``, never missing; nodes of
another lineage are otherwise left alone (another state may own them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping

from skyplan.drift.ignore import IgnoreRules
from skyplan.planner.model import DriftItem
from skyplan.providers.base import GONE_STATES, STOPPED_BY_AUTOSTOP, TAG_LINEAGE, Instance
from skyplan.state.model import CREATING, FAILED, RUNNING, STOPPED, SUCCEEDED, GroupRecord, ResourceRecord, Snapshot

FINISHED_STATES = frozenset({"succeeded", "failed"})
LIVE_STATES = frozenset({"pending", "running"})
COMPARED = ("instance_type", "state", "pricing", "region", "zone", "tags")
LINEAGE_TAG_PATH = f"tags.{TAG_LINEAGE}"


@dataclass(frozen=True)
class Refreshed:
    """The prior snapshot updated to what the providers report, and the drift found.

    ``managed`` counts the live objects matched to state, so coverage is
    ``managed / (managed + len(unmanaged))``. ``providers`` are the keys asked.
    """

    snapshot: Snapshot
    drift: tuple[DriftItem, ...] = ()
    unmanaged: tuple[Instance, ...] = ()
    managed: int = 0
    providers: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def in_sync(self) -> bool:
        return not self.drift

    def counts(self) -> dict[str, int]:
        out = {"changed": 0, "missing": 0, "unmanaged": 0}
        for item in self.drift:
            out[item.category] = out.get(item.category, 0) + 1
        return out

    @property
    def coverage(self) -> float:
        total = self.managed + len(self.unmanaged)
        return 1.0 if total == 0 else self.managed / total


def _is_job(rec: ResourceRecord) -> bool:
    return rec.kind == "workload" and rec.attributes.get("kind", "job") == "job"


def _view(inst: Instance) -> dict[str, Any]:
    return {k: (dict(getattr(inst, k)) if k == "tags" else getattr(inst, k)) for k in COMPARED}


_ROOT_STEP = re.compile(r"\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]")


def dotted(deepdiff_path: str) -> str:
    """``root['tags']['owner']`` -> ``tags.owner``; ``root['env'][0]`` -> ``env[0]``."""
    out = ""
    for m in _ROOT_STEP.finditer(deepdiff_path):
        if m.group(1) is not None:
            out += ("." if out else "") + m.group(1)
        else:
            out += f"[{m.group(2)}]"
    return out


def _lookup(view: Mapping[str, Any], path: str) -> Any:
    head, _, rest = path.partition(".")
    value = view.get(head)
    if rest and isinstance(value, Mapping):
        return value.get(rest)
    return value


def diff_paths(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Attribute paths that differ between two plain-JSON views."""
    from deepdiff import DeepDiff

    dd = DeepDiff(dict(before), dict(after), ignore_order=False)
    paths: set[str] = set()
    for key in ("values_changed", "type_changes", "dictionary_item_added", "dictionary_item_removed",
                "iterable_item_added", "iterable_item_removed"):
        for p in dd.get(key, ()):
            paths.add(dotted(p))
    return sorted(paths)


def autostopped(inst: Instance) -> bool:
    """A node its idle timer stopped (``autostop``), as its provider reports it."""
    return inst.state == "stopped" and inst.attributes.get("stopped_by") == STOPPED_BY_AUTOSTOP


def _benign(rec: ResourceRecord, path: str, old: Instance, new: Instance) -> bool:
    """A difference that is the object's normal life, not drift."""
    if path != "state":
        return False
    if old.state in LIVE_STATES and new.state in LIVE_STATES:
        return True
    if autostopped(new) or (autostopped(old) and new.state in LIVE_STATES):
        return True
    return _is_job(rec) and new.state in FINISHED_STATES


def _reason(rec: ResourceRecord, status: str, present: list[Instance]) -> str:
    """``autostop`` while every node is stopped by its idle timer; otherwise what was recorded."""
    if status == STOPPED and present and all(autostopped(i) for i in present):
        return STOPPED_BY_AUTOSTOP
    return "" if rec.reason == STOPPED_BY_AUTOSTOP else rec.reason


def _status(rec: ResourceRecord, present: list[Instance], expected: int) -> str:
    states = {i.state for i in present}
    if not present:
        return rec.status
    if _is_job(rec) and states <= FINISHED_STATES and len(present) >= expected:
        return FAILED if "failed" in states else SUCCEEDED
    if states == {"stopped"}:
        return STOPPED
    if rec.status == CREATING and len(present) < expected:
        return CREATING
    return RUNNING if states & LIVE_STATES else rec.status


class _Pool:
    """The live instances providers listed, and which ones have been claimed."""

    def __init__(self, listed: Iterable[Instance], foreign: Iterable[Instance] = ()):
        self.live = [i for i in listed if i.state not in GONE_STATES]
        self.by_id = {(i.provider, i.id): i for i in self.live}
        # Nodes under another lineage are matched by the id state recorded, never
        # adopted by address nor counted as unmanaged (another state may own them).
        for i in foreign:
            if i.state not in GONE_STATES:
                self.by_id.setdefault((i.provider, i.id), i)
        self.by_address: dict[str, list[Instance]] = {}
        for i in self.live:
            self.by_address.setdefault(i.address, []).append(i)
        self.claimed: set[tuple[str, str]] = set()

    def take(self, inst: Instance) -> Instance:
        self.claimed.add((inst.provider, inst.id))
        return inst

    def by_id_free(self, provider: str, id_: str) -> Instance | None:
        found = self.by_id.get((provider, id_))
        return found if found and (provider, id_) not in self.claimed else None

    def free(self, address: str) -> list[Instance]:
        return [i for i in self.by_address.get(address, ()) if (i.provider, i.id) not in self.claimed]

    def unclaimed(self) -> list[Instance]:
        return [i for i in self.live if (i.provider, i.id) not in self.claimed]


def _fits(inst: Instance, p) -> bool:
    """A node that can complete a group placed at ``p``: same provider, and the same
    region, zone, instance type and pricing wherever both the node and the
    placement say."""
    if inst.provider != p.provider:
        return False
    # a fleet's reservation is priced by its placement, whatever the object says
    pricing = (None, None) if inst.attributes.get("reservation") else (inst.pricing, p.pricing)
    return all(not a or not b or a == b for a, b in ((inst.region, p.region), (inst.zone, p.zone),
                                                      (inst.instance_type, p.instance_type), pricing))


def node_view(inst: Instance) -> dict[str, Any]:
    return {"group": inst.group, "rank": inst.rank, "id": inst.id, "provider": inst.provider,
            "region": inst.region, "zone": inst.zone, "pricing": inst.pricing,
            "instance_type": inst.instance_type}


def _refresh_record(rec: ResourceRecord, pool: _Pool, ignore: IgnoreRules,
                    lineage: str = "") -> tuple[ResourceRecord, list[DriftItem]]:
    groups: list[GroupRecord] = []
    gone: list[Instance] = []
    changes: list[tuple[Instance, Instance, list[str]]] = []
    adopted: list[Instance] = []
    present_all: list[Instance] = []
    expected = 0
    for gi, group in enumerate(rec.groups):
        expected += group.objects
        kept: list[Instance] = []
        unmatched: list[Instance] = []
        for inst in group.instances:
            found = pool.by_id_free(inst.provider, inst.id)
            if found:
                kept.append(pool.take(found))
                changes.append((inst, found, []))
            else:
                unmatched.append(inst)
        candidates = [c for c in pool.free(rec.address) if c.group == gi]
        for inst in unmatched:
            same = next((c for c in candidates if c.rank == inst.rank and c.provider == inst.provider), None)
            if same:
                candidates.remove(same)
                kept.append(pool.take(same))
                changes.append((inst, same, ["id"]))
            else:
                gone.append(inst)
        ranks = {i.rank for i in kept}
        for cand in candidates:
            if len(kept) < group.objects and cand.rank not in ranks and _fits(cand, group.placement):
                kept.append(pool.take(cand))
                ranks.add(cand.rank)
                adopted.append(cand)
        kept.sort(key=lambda i: i.rank)
        present_all.extend(kept)
        groups.append(replace(group, instances=tuple(kept)))

    items: list[DriftItem] = []
    provider = rec.placement.provider if rec.placement else ""
    paths: dict[str, tuple[Any, Any]] = {}
    changed_ids: list[str] = []
    relabelled = 0
    for old, new, extra in changes:
        vo, vn = _view(old), _view(new)
        differing = [p for p in diff_paths(vo, vn) if not _benign(rec, p, old, new)] if vo != vn else []
        differing += extra
        if lineage and new.lineage != lineage:
            # This state's node (its recorded id, its address tag) under an empty or
            # another lineage tag: said as such, and repaired by tagging it again.
            differing = [p for p in differing if p != LINEAGE_TAG_PATH] + ["lineage"]
            relabelled += 1
        differing = [p for p in differing if not ignore.ignores_path(rec.address, p)]
        if differing:
            changed_ids.append(new.id)
        for p in differing:
            if p == "lineage":
                paths.setdefault(p, (lineage, new.lineage))
                continue
            before = old.id if p == "id" else _lookup(_view(old), p)
            after = new.id if p == "id" else _lookup(_view(new), p)
            paths.setdefault(p, (before, after))
    if adopted:
        paths.setdefault("instances", (None, [i.id for i in adopted]))
        changed_ids.extend(i.id for i in adopted)
    if paths:
        n = len(set(changed_ids))
        detail = f"{n} of {len(present_all)} node(s) differ from state" if len(present_all) > 1 else ""
        if adopted:
            detail = (detail + "; " if detail else "") + \
                f"found {len(adopted)} node(s) created by an interrupted apply"
        if relabelled and "lineage" in paths:
            tag = paths["lineage"][1]
            detail = (detail + "; " if detail else "") + \
                f"{relabelled} node(s) carry {'an empty lineage tag' if not tag else f'lineage {tag}'}, " \
                f"not this state's {lineage} (matched by provider id and address tag)"
        items.append(DriftItem(
            address=rec.address, category="changed", provider=provider, provider_ids=tuple(changed_ids),
            paths=tuple(sorted(paths)), before={p: v[0] for p, v in sorted(paths.items())},
            after={p: v[1] for p, v in sorted(paths.items())}, detail=detail))

    finished = rec.status in (SUCCEEDED, FAILED)
    short = expected - len(present_all) - len(gone)  # nodes state never recorded (or already let go)
    lacking = short > 0 and not finished and rec.status != STOPPED
    if (gone and not finished) or lacking:
        missing_nodes = [node_view(i) for i in gone]
        if not gone:
            detail = ("state records an interrupted creation and the provider holds nothing for it"
                      if rec.status == CREATING and not present_all else
                      f"{short} of {expected} node(s) are recorded as gone")
        elif present_all:
            desc = "; ".join(
                f"group {g} rank(s) {', '.join(str(i.rank) for i in gone if i.group == g)}"
                for g in sorted({i.group for i in gone}))
            detail = f"{len(gone)} of {len(gone) + len(present_all)} node(s) gone: {desc}"
        else:
            detail = f"all {len(gone)} node(s) gone"
        items.append(DriftItem(
            address=rec.address, category="missing", provider=provider,
            provider_ids=tuple(i.id for i in gone), before={"nodes": missing_nodes},
            after={"nodes": [node_view(i) for i in present_all]}, detail=detail))

    status = _status(rec, present_all, expected)
    new_rec = replace(rec, groups=tuple(groups), status=status, reason=_reason(rec, status, present_all))
    return new_rec, items


def _unmanaged_items(insts: list[Instance]) -> list[DriftItem]:
    by_key: dict[tuple[str, str], list[Instance]] = {}
    for inst in insts:
        by_key.setdefault((inst.address or "(no address tag)", inst.provider), []).append(inst)
    items = []
    for (address, provider), group in sorted(by_key.items()):
        where = sorted({"/".join(p for p in (i.region, i.zone) if p) for i in group} - {""})
        items.append(DriftItem(
            address=address, category="unmanaged", provider=provider,
            provider_ids=tuple(i.id for i in group), after={"nodes": [node_view(i) for i in group]},
            detail=f"{len(group)} object(s) carry this state's lineage but are not in state"
                   + (f" ({', '.join(where)})" if where else "")))
    return items


def classify(snapshot: Snapshot, listings: Mapping[str, Iterable[Instance]],
             ignore: IgnoreRules | None = None) -> Refreshed:
    """Refresh ``snapshot`` against per-provider listings. Pure: no I/O."""
    ignore = ignore or IgnoreRules()
    every = [i for insts in listings.values() for i in insts]
    ours = [i for i in every if not i.lineage or not snapshot.lineage or i.lineage == snapshot.lineage]
    pool = _Pool(ours, foreign=[i for i in every if i.lineage and snapshot.lineage and i.lineage != snapshot.lineage])
    resources: dict[str, ResourceRecord] = {}
    drift: list[DriftItem] = []
    for address in sorted(snapshot.resources):
        rec = snapshot.resources[address]
        if ignore.ignores_address(address):
            for inst in rec.instances:
                if pool.by_id_free(inst.provider, inst.id):
                    pool.take(pool.by_id[(inst.provider, inst.id)])
            for inst in pool.free(address):
                pool.take(inst)
            resources[address] = rec
            continue
        new_rec, items = _refresh_record(rec, pool, ignore, snapshot.lineage)
        resources[address] = new_rec
        drift.extend(items)
    orphans = [i for i in pool.unclaimed() if not ignore.ignores_address(i.address)]
    managed = len(pool.claimed)
    for inst in pool.unclaimed():
        if ignore.ignores_address(inst.address):
            pool.take(inst)
    drift.extend(_unmanaged_items(orphans))
    refreshed = replace(snapshot, resources=resources)
    return Refreshed(snapshot=refreshed, drift=tuple(drift), unmanaged=tuple(orphans),
                     managed=managed, providers=tuple(sorted(listings)))


def unhealthy_items(snapshot: Snapshot, ignore: IgnoreRules | None = None,
                    zones: Mapping[str, Mapping[str, int]] | None = None) -> list[DriftItem]:
    """One ``unhealthy`` item per service whose replicas failed readiness past the
    threshold (``drift.readiness`` put the verdicts on the nodes); ``zones``: address
    -> "provider/region/zone" -> replicas that turned unhealthy there so far. Pure."""
    from skyplan.drift.readiness import unhealthy, zone_key

    ignore = ignore or IgnoreRules()
    items = []
    for address, rec in sorted(snapshot.resources.items()):
        bad = unhealthy(rec)
        if not bad or ignore.ignores_address(address):
            continue
        desc = "; ".join(f"group {i.group}: {i.attributes['readiness'].get('failures')} failed probes, "
                         f"last {i.attributes['readiness'].get('last')}" for i in bad)
        items.append(DriftItem(
            address=address, category="unhealthy", provider=bad[0].provider, provider_ids=tuple(i.id for i in bad),
            before={"nodes": [node_view(i) for i in bad]},
            after={"readiness": {i.id: dict(i.attributes["readiness"]) for i in bad},
                   "zone_failures": {zone_key(i): int(((zones or {}).get(address) or {}).get(zone_key(i), 1))
                                     for i in bad}},
            detail=f"{len(bad)} of {len(rec.groups)} replica(s) not ready: {desc}"))
    return items

"""What each step of the apply graph does against its provider, and how it is recorded.

create      mark the address ``creating`` in state (the crash marker), then launch each
            replica group through failover (with transient retries), then record the
            resource with its groups and instances in one transaction; a create that
            failed with nothing launched leaves a ``failed`` record with no groups
update      ``provider.update`` every node with the changed attributes, then record
delete      ``provider.delete`` the prior nodes (plus any found by lineage tag when state
            only holds a crash marker), then forget the address
delete-old  delete the nodes a create_before_destroy replacement superseded

A new service's replicas are waited for until their readiness probe passes, and a
rolling replacement of a service is carried out batch by batch by its create step
(``rollout.ServiceSteps``).

Network pieces (kind ``network``) are created and deleted by ``networks.NetworkSteps``.

A job that depends on another job starts only after that job has succeeded, and a
new job is watched for its outcome (``jobs.JobSteps``); if the upstream job failed
or vanished the step is skipped. A dependency on a service needs only that it
runs, which its create already waited for.

Before every step and every provider call that starts something, the state lock
is checked (``StateStore.check_lock``): once it is gone (force-unlocked, taken
over) nothing more starts, and what a running step already did but can no longer
record is journaled (``journal_lost``); its nodes carry their address and lineage
tags, so the next run finds them, as after a crash.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Sequence

from skyplan.apply import graph as g
from skyplan.apply.failover import Attempt, Blocklist, FailoverExhausted, launch_group
from skyplan.apply.jobs import JOB_GRACE, JOB_WAIT_LIMIT, JobFailed, JobSteps, job_status, now_iso  # noqa: F401 (job_status re-exported)
from skyplan.apply.networks import NetworkSteps
from skyplan.apply.progress import Reporter
from skyplan.apply.rollout import NeverReady, ServiceSteps, rolling
from skyplan.config.service import SKYPLAN_ONLY
from skyplan.apply.retry import RetryPolicy, call_with_retry
from skyplan.apply.walker import Skip
from skyplan.errors import ApplyError, AuthError, LockLostError, ProviderError
from skyplan.planner.model import Action, Change, Plan
from skyplan.planner.options import parse_duration
from skyplan.policy.model import merge_tags, tag_update
from skyplan.providers.base import Instance, LaunchRequest, Provider
from skyplan.solver.model import Placement
from skyplan.state.model import CREATING, FAILED, RUNNING, SUCCEEDED, GroupRecord, ResourceRecord
from skyplan.state.redact import paths_from_tree

_NOT_ATTRS = ("placement",)


def _number(q: Any) -> float | None:
    """``"8+"`` -> 8.0; ``16`` -> 16.0; None stays None."""
    if q is None or q == "":
        return None
    try:
        return float(str(q).rstrip("+"))
    except ValueError:
        return None


def _marked_paths(tree: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths marked ``True`` in a nested-boolean tree (a change's ``after_unknown``)."""
    if tree is True:
        return [path]
    if isinstance(tree, Mapping):
        return [p for k, v in tree.items() for p in _marked_paths(v, path + (str(k),))]
    if isinstance(tree, (list, tuple)):
        return [p for v in tree for p in _marked_paths(v, path)]
    return []


def _tags_change(change: Change) -> dict[str, str | None]:
    """Every tag the nodes carry after (own over default_tags), and None for each they
    carried before and no longer do."""
    after = dict(change.tags_after or {})
    return {**after, **{k: None for k in (change.tags_before or {}) if k not in after}}


def failure_reason(error: BaseException) -> str:
    """One line saying why a create failed: the error's first line, and for a failover
    that ran out of placements what each one answered."""
    text = (str(error).splitlines() or [""])[0] or type(error).__name__
    attempts = getattr(error, "attempts", None)
    if attempts:
        reasons = list(dict.fromkeys(f"{a.placement.infra}: {a.reason}" for a in attempts))
        text = f"no approved placement could be launched ({'; '.join(reasons)})"
    return text[:500]


@dataclass
class Executor(JobSteps, NetworkSteps, ServiceSteps):
    plan: Plan
    store: Any  # StateStore
    providers: Mapping[str, Provider]
    reporter: Reporter
    retry: RetryPolicy = RetryPolicy()
    cancel: threading.Event | None = None
    poll_interval: float = 0.05  # first wait between job polls; doubles up to poll_max
    poll_max: float = 2.0
    job_grace: float = JOB_GRACE
    job_wait_limit: float = JOB_WAIT_LIMIT
    graph: Any = None  # the DesiredGraph, to resolve values only known after upstream steps ran

    def __post_init__(self) -> None:
        self._kinds = {c.address: (c.after or c.before or {}).get("kind", "") for c in self.plan.changes}
        self._state_lock = threading.Lock()
        # Attribute paths whose values came from sensitive input: state keeps them out of the journal.
        self._sensitive = {c.address: tuple(paths_from_tree(c.after_sensitive)) for c in self.plan.changes}
        self._resolved: dict[str, Mapping[str, Any]] = {}
        self.lock_lost = ""  # why this apply stopped: its state lock is gone
        self.state_unreachable = False  # ... because the state database could not be reached
        # Jobs something in this plan waits for: their own step waits for their outcome.
        self._awaited = {d for c in self.plan.changes if c.action is not Action.NOOP for d in c.depends_on}
        # Nodes carry the lineage of the state that records them. A plan made before
        # that state existed (``plan -out`` in a fresh folder) has none; the store it
        # is applied to was created with one, and a plan made against another state
        # was refused before this point (planfile.check_plan_against_state).
        self.lineage = str(getattr(self.store, "lineage", "") or self.plan.lineage or "")

    # -- the state lock ----------------------------------------------------------------------------
    def check_lock(self) -> None:
        """Raise Skip (and stop the walk) once this apply's state lock is gone."""
        check = getattr(self.store, "check_lock", None)
        if check is None:
            return
        try:
            check()
        except LockLostError as e:
            self._lost(e)
            raise Skip(f"not started: {e}") from None

    def _lost(self, e: LockLostError) -> None:
        with self._state_lock:
            if not self.lock_lost:
                self.lock_lost = str(e)
                self.state_unreachable = bool(getattr(e, "unreachable", False))
        if self.cancel is not None:
            self.cancel.set()  # the walker starts nothing more

    # -- helpers ---------------------------------------------------------------------------------
    def provider(self, key: str) -> Provider:
        try:
            return self.providers[key]
        except KeyError:
            raise ProviderError(f"provider {key!r} is not configured for this apply", provider=key,
                                hint=f'add a provider "{key.split(".")[0]}" block, or plan again') from None

    def _retry(self, key: str, fn: Callable[[], Any]) -> Any:
        return call_with_retry(fn, self.retry, on_retry=lambda n, wait, e: self.reporter.note(
            key, f"transient error ({str(e).splitlines()[0] if str(e) else type(e).__name__}); retry {n} in {wait:.1f}s"))

    def _record(self, rec: ResourceRecord, action: str, before: ResourceRecord | None) -> None:
        try:
            with self._state_lock:
                self.store.record(rec, action=action, before=before,
                                  sensitive_paths=self._sensitive.get(rec.address, ()))
        except LockLostError as e:
            self._journal_lost(rec.address, action, e, rec)
            raise

    def _forget(self, address: str, action: str) -> None:
        try:
            with self._state_lock:
                if self.store.get(address) is not None:
                    self.store.forget(address, action=action)
        except LockLostError as e:
            self._journal_lost(address, action, e, None)
            raise

    def _journal_lost(self, address: str, action: str, e: LockLostError, rec: ResourceRecord | None) -> None:
        self._lost(e)
        nodes = f"{len(rec.instances)} node(s) ({rec.status})" if rec is not None else "its deletion"
        journal = getattr(self.store, "journal_lost", None)
        if journal is not None:
            journal(address, action, f"{action} done but not recorded in state, the lock was lost: {nodes}; "
                    "the next refresh finds the nodes by their address and lineage tags", rec,
                    sensitive_paths=self._sensitive.get(address, ()))

    def _current(self, address: str) -> ResourceRecord | None:
        with self._state_lock:
            return self.store.get(address)

    def live_instances(self, address: str, provider_keys: Sequence[str]) -> list[Instance]:
        """Nodes of ``address`` the providers report under this plan's lineage."""
        out: list[Instance] = []
        for key in dict.fromkeys(provider_keys):
            if key in self.providers:
                out.extend(i for i in self._retry(address, lambda: self.providers[key].list_managed(self.lineage))
                           if i.address == address)
        return out

    def adopt_refreshed(self) -> int:
        """Record what refresh found for unchanged addresses whose state is only a crash
        marker (nodes launched by an interrupted apply) or whose job has since ended.
        Returns how many were recorded."""
        n = 0
        for c in self.plan.changes:
            if c.action is not Action.NOOP or c.prior is None or not c.prior.instances:
                continue
            current = self._current(c.address)
            if current is None:
                continue
            job_ended = current.status != c.prior.status and c.prior.status in (SUCCEEDED, FAILED)
            if current.status == CREATING or job_ended:
                status = c.prior.status if c.prior.status != CREATING else RUNNING
                self._record(replace(c.prior, status=status, updated_at=now_iso()), action="refresh", before=current)
                n += 1
        return n

    # -- the entry the walker calls ----------------------------------------------------------------
    def run(self, step: g.Step) -> str:
        self.check_lock()
        if step.change.kind == g.NETWORK:
            if step.op == g.CREATE:
                return self.create_network(step.change)
            if step.op == g.DELETE:
                return self.delete_network(step.change)
            raise ApplyError(f"{step.change.address}: a network piece is only created or deleted, not {step.op}")
        if step.op == g.CREATE:
            return self.create(step.change)
        if step.op == g.UPDATE:
            return self.update(step.change)
        if step.op in (g.DELETE, g.DELETE_OLD):
            return self.delete(step.change, old_only=step.op == g.DELETE_OLD)
        raise ApplyError(f"unknown step {step.op!r}")

    # -- create ----------------------------------------------------------------------------------------
    def after(self, change: Change) -> Mapping[str, Any]:
        """The change's attributes, with values the plan could only mark as known after
        apply (``env = { HEAD = workload.head.ip }``) evaluated now that the resources
        they reference exist. ApplyError (nothing launched) when a value is still unknown:
        the upstream reported none, or the configuration graph is not at hand."""
        after = change.after or {}
        if not change.after_unknown:
            return after
        if change.address not in self._resolved:
            resolved: Mapping[str, Any] = {}
            unknown: list[tuple[str, ...]] = [p for p in _marked_paths(change.after_unknown)]
            if self.graph is not None and change.address in self.graph.resources():
                from skyplan.config import resolve_after_apply
                from skyplan.planner.attrs import strip_unknown

                known = {}
                for dep in change.depends_on:
                    rec = self._current(dep)
                    if rec is not None:
                        known[dep] = rec.known_attributes()
                value = resolve_after_apply(self.graph, change.address, known).attributes()
                resolved, unknown = strip_unknown(value)
            if unknown:
                # Launching with a placeholder (or None) in place of an address would run the
                # workload with wrong settings and record them as applied: never launch it.
                paths = ", ".join(sorted({".".join(p) for p in unknown}))
                ups = ", ".join(change.depends_on) or "the resources it references"
                raise ApplyError(
                    f"{change.address}: {paths} is still unknown after {ups} were created "
                    f"(the provider reported no such value); not launched",
                    hint="check that the referenced workload exists and reports the attribute, then apply again")
            self._resolved[change.address] = {**after, **resolved}
        return self._resolved[change.address]

    def launch_request(self, change: Change, group: int, placement: Placement) -> LaunchRequest:
        if not self.lineage:
            raise ApplyError(f"{change.address}: the state has no lineage to tag new nodes with; nothing was launched",
                             hint="open the state with skyplan (it gives every state a lineage) and plan again")
        after = self.after(change)
        res = after.get("resources") or {}
        return LaunchRequest(
            address=change.address, lineage=self.lineage, group=group, placement=placement,
            kind="service" if change.kind == "fleet" else (after.get("kind") or "job"), image=after.get("image"), setup=after.get("setup"),
            run=after.get("run"), env={str(k): str(v) for k, v in (after.get("env") or {}).items()},
            ports=tuple(after.get("ports") or ()), accelerators=placement.accelerators,
            cpus=_number(res.get("cpus")), memory_gib=_number(res.get("memory")), disk_gb=res.get("disk_gb"),
            workdir=self.plan.config_dir or None, token=uuid.uuid4().hex,
            reserve=after.get("reservation") if change.kind == "fleet" else None,
            reserve_hours=_number(after.get("duration_hours")) if change.kind == "fleet" else None,
            reserve_start=after.get("start") if change.kind == "fleet" else None,
            reservation_id=self.reservation_of(placement) if placement.fleet else None,
            autostop=int(parse_duration(after["autostop"])) if after.get("autostop") else None,
            user_tags=merge_tags(after.get("tags"), getattr(self.providers.get(placement.provider), "cfg", None)),
        )

    def reservation_of(self, placement: Placement) -> str | None:
        """The cloud reservation a group placed on a fleet launches into: the one
        the fleet's record holds (made earlier in this apply or before), else the
        one the plan names (a brought reservation); None for fleets without one."""
        rec = self._current(placement.fleet or "")
        if rec is not None:
            for grp in rec.groups:
                for inst in grp.instances:
                    if inst.attributes.get("reservation"):
                        return inst.id
        return placement.reservation

    def _record_of(self, change: Change, status: str, groups: Sequence[GroupRecord], *, tainted: bool = False,
                   created_at: str = "") -> ResourceRecord:
        after = self.after(change)
        return ResourceRecord(
            address=change.address, kind=change.kind, status=status, groups=tuple(groups),
            attributes={k: v for k, v in after.items() if k not in _NOT_ATTRS},
            config_hash=change.config_hash, tainted=tainted, depends_on=tuple(change.depends_on),
            created_at=created_at or now_iso(), updated_at=now_iso(), envelope=self.envelope_of(change),
        )

    def envelope_of(self, change: Change) -> dict:
        """What the record of a job Uniform Progress paces keeps as approved: a repair
        (drift --repair, watch) carries the prior record's over, since the user approved
        it and not the repair; a plan the user applied approves its placement's $/h and
        the on-demand $/h a deadline switch may reach for the job's work."""
        prior, wp = change.prior, change.placement
        if prior is not None and prior.envelope and (self.plan.options.get("repair") or wp is None):
            return dict(prior.envelope)
        if wp is None or wp.on_demand_ceiling is None or self.plan.options.get("repair"):
            return {}
        return {"hourly": wp.approved_hourly_cost, "on_demand_hourly": wp.on_demand_ceiling,
                "work_hours": float((change.after or {}).get("duration_hours") or 0.0),
                "approved_at": self.plan.created_at or now_iso()}

    def create(self, change: Change) -> str:
        key = f"{change.address} (create)"
        wp = change.placement
        if wp is None or not wp.groups:
            raise ApplyError(f"{change.address}: the plan has no placement for this create", hint="plan again")
        self.wait_for_jobs(change, key)
        self.check_lock()
        if self.cancel is not None and self.cancel.is_set():
            raise Skip("cancelled")
        prior = change.prior
        strategy = rolling(change)
        if strategy is not None and prior is not None and prior.groups:
            return self.roll(change, key, strategy)
        replacing_in_place = change.action is Action.CREATE_THEN_DELETE
        if prior is not None and prior.status == CREATING and not replacing_in_place:
            # A crash left a marker: anything launched under it is found by tag and removed.
            keys = [grp.chosen.provider for grp in wp.groups] + [f.provider for grp in wp.groups for f in grp.fallbacks]
            orphans = self.live_instances(change.address, keys)
            if orphans:
                self.reporter.note(key, f"removing {len(orphans)} node(s) left by an interrupted apply")
                self._delete_instances(change.address, orphans)
        created_at = now_iso()
        if not replacing_in_place:
            # The crash marker carries the planned groups (no nodes yet), so refresh can adopt
            # nodes that were launched before a crash kept this step from recording them.
            marker = tuple(GroupRecord(gp.chosen) for gp in wp.groups)
            try:
                self._record(self._record_of(change, CREATING, marker, created_at=created_at), action="create",
                             before=prior)
            except LockLostError as e:
                raise Skip(f"not started: {e}") from None

        try:
            done = self._launch_groups(change, key, [], range(len(wp.groups)), created_at=created_at,
                                       action="create")
        except Exception as e:
            if not replacing_in_place:
                self._record_failed_create(change, e, created_at=created_at, before=prior)
            raise

        # Recorded as running first: while apply watches a job, state shows the nodes it runs on.
        self._record(self._record_of(change, RUNNING, done, created_at=created_at), action="create", before=prior)
        status = RUNNING
        if (change.after or {}).get("kind") == "service" and (change.after or {}).get("readiness"):
            try:
                done = self.wait_ready(change, done, key)
            except NeverReady as e:
                self._record(self._record_of(change, RUNNING, e.groups, created_at=created_at), action="refresh",
                             before=None)
                raise
            self._record(self._record_of(change, RUNNING, done, created_at=created_at), action="refresh", before=None)
        if (change.after or {}).get("kind") == "job":
            done, status = self.watch_job(change, done, key)
            if status == RUNNING:
                self.reporter.note(key, "the job is still running; `skyplan status` shows its outcome")
            else:
                self._record(self._record_of(change, status, done, created_at=created_at), action="refresh",
                             before=None)
        if status == FAILED:
            raise JobFailed(change.address, self.failure_text(done))
        return f"created {sum(len(grp.instances) for grp in done)} node(s)"

    def _record_failed_create(self, change: Change, error: Exception, *, created_at: str,
                              before: ResourceRecord | None) -> None:
        """Replace the crash marker of a create that failed with nothing launched by a
        ``failed`` record without groups (it costs nothing; the next plan creates it
        again; destroy forgets it). Nothing launched is known when every placement
        refused the launch (capacity, quota) or the provider refused the caller
        (credentials); otherwise when listing the lineage finds no node of the
        address. When that cannot be known the marker stays, for refresh to settle."""
        current = self._current(change.address)
        if current is None or current.status != CREATING:
            return  # groups already launched were recorded (tainted) by _launch_groups
        if not isinstance(error, (FailoverExhausted, AuthError)):
            wp = change.placement
            keys = [grp.chosen.provider for grp in wp.groups] + [f.provider for grp in wp.groups for f in grp.fallbacks]
            try:
                if self.live_instances(change.address, keys):
                    return
            except Exception:  # noqa: BLE001 - cannot tell: keep the marker
                return
        rec = replace(self._record_of(change, FAILED, (), created_at=created_at), reason=failure_reason(error))
        self._record(rec, action="create", before=current)

    def _launch_groups(self, change: Change, key: str, done: list[GroupRecord], indices: range, *,
                       created_at: str, action: str) -> list[GroupRecord]:
        """Launch groups ``indices`` of the change's placement after ``done`` (kept groups),
        each through failover. On failure what exists is recorded, tainted, and the error raised."""
        wp = change.placement
        assert wp is not None
        done = list(done)
        blocklist = Blocklist()
        for n in indices:
            others = sum(d.placement.hourly_cost for d in done) + sum(x.chosen.hourly_cost for x in wp.groups[n + 1:])
            try:
                done.append(self.launch_group(change, key, n, others, blocklist))
            except BaseException:
                if done:  # keep what exists, marked for replacement on the next plan
                    self._record(self._record_of(change, RUNNING, done, tainted=True, created_at=created_at),
                                 action=action, before=None)
                raise
        return done

    def launch_group(self, change: Change, key: str, n: int, others: float, blocklist: Blocklist) -> GroupRecord:
        """Group ``n`` of the change's placement, launched through failover (its
        fallbacks, within the approved cost given what the ``others`` groups cost)."""
        wp = change.placement
        assert wp is not None
        gp = wp.groups[n]

        def launch(p: Placement) -> list[Instance]:
            self.check_lock()
            req = self.launch_request(change, n, p)
            return list(self._retry(key, lambda: self.provider(p.provider).create(req)))

        def on_attempt(a: Attempt) -> None:
            self.reporter.note(key, f"group {n}: {a.placement.infra} {a.placement.instance_type}: {a.reason}")
            if not a.reason.startswith(("skipped", "refused")):
                self.record_networks(a.placement)  # a launch was tried there: what it set up stays known
            if a.no_capacity and a.placement.pricing == "spot":
                self.remember_no_spot(change.address, a.placement, a.no_capacity)

        placement, insts = launch_group(
            gp, launch, address=change.address, index=n, other_groups_cost=others,
            approved_hourly_cost=wp.approved_hourly_cost, blocklist=blocklist, on_attempt=on_attempt,
            cancel=self.cancel)
        if placement != gp.chosen:
            self.reporter.note(key, f"group {n}: failed over to {placement.infra} {placement.instance_type}")
        self.record_networks(placement)
        return GroupRecord(placement, tuple(insts))

    def remember_no_spot(self, address: str, p: Placement, scope: str) -> None:
        """A spot launch the cloud had no capacity for is kept in the state's capacity
        memory (``state.capacity``), as a preemption is: the next plan, repair or
        watch tick avoids that zone (or region) for this workload until it expires."""
        if scope == "provider":  # a whole provider is no zone or region to avoid
            return
        from datetime import datetime, timezone

        from skyplan.state import capacity

        where = (p.provider, p.region, p.zone if scope == "zone" else None)
        with self._state_lock:
            capacity.remember(self.store, {address: [where]}, datetime.now(timezone.utc), reason=capacity.NO_CAPACITY)

    # -- update ----------------------------------------------------------------------------------------
    def update(self, change: Change) -> str:
        key = f"{change.address} (update)"
        prior = change.prior
        if prior is None:
            raise ApplyError(f"{change.address}: the plan updates an object state does not hold", hint="plan again")
        self.wait_for_jobs(change, key)
        prior = self._without_strays(change, key)
        after = self.after(change)
        fields = sorted({p[0] for p in change.update_paths if p} - set(_NOT_ATTRS)) or \
            sorted(k for k in after if k not in _NOT_ATTRS and after.get(k) != (change.before or {}).get(k))
        if change.reason == "adopt_unmanaged":
            fields = []  # adopted nodes run as they are; only state learns of them
        changes = {f: after.get(f) for f in fields}
        # a readiness or update block is read by skyplan alone: no node changes for it
        node_changes = {k: v for k, v in changes.items() if k != "replicas" and k not in SKYPLAN_ONLY}
        if node_changes.pop("default_tags", None) is not None or "tags" in node_changes:
            # nodes carry their own tags over their provider's default_tags, as at launch;
            # a tag no longer there (own or default) is removed (None)
            node_changes["tags"] = _tags_change(change) if change.tags_after is not None else tag_update(
                (change.before or {}).get("tags"), node_changes.get("tags"), getattr(
                    self.providers.get(prior.groups[0].placement.provider) if prior.groups else None, "cfg", None))
        wp = change.placement
        want = len(wp.groups) if wp is not None and wp.groups else len(prior.groups)
        groups: list[GroupRecord] = []
        adopting = change.reason == "adopt_unmanaged" and wp is not None
        for n, grp in enumerate(prior.groups[:want]):
            new = list(grp.instances)
            if n in change.relaunch_groups:  # replaced below: its nodes are not changed first
                groups.append(grp)
                continue
            if node_changes:
                new = [self._retry(key, lambda i=i: self.provider(i.provider or grp.placement.provider).update(
                    i, node_changes)) for i in grp.instances]
            # Adopted nodes are recorded at the placement the plan approved for their group
            # (same infra, type and pricing: the plan replaces them otherwise), with its price.
            placement = wp.groups[n].chosen if adopting and n < len(wp.groups) else grp.placement
            groups.append(GroupRecord(placement, tuple(new)))
        gone = [i for grp in prior.groups[want:] for i in grp.instances]
        if gone:  # fewer replicas: the highest groups go
            self._delete_instances(change.address, gone)
        if len(groups) < want:  # more replicas: launch the new groups at their approved placements
            groups = self._launch_groups(change, key, groups, range(len(groups), want),
                                         created_at=prior.created_at, action="update")
        if change.relaunch_groups:
            groups = self.relaunch(change, key, groups)
        rec = self._record_of(change, prior.status if prior.status != CREATING else RUNNING, groups,
                              created_at=prior.created_at)
        self._record(rec, action="update", before=prior)
        done = [f"updated {', '.join(fields)}"] if fields else []
        if change.relaunch_groups:
            done.append(f"replaced {len(change.relaunch_groups)} of {len(groups)} replica(s)")
        return "; ".join(done) or "updated nothing"

    def _without_strays(self, change: Change, key: str) -> ResourceRecord:
        """Delete the nodes refresh found with the address and lineage but that state
        does not hold (the plan's unmanaged drift for the address, which the planner
        put in the prior); the prior without them."""
        prior = change.prior
        assert prior is not None
        if change.reason == "adopt_unmanaged":  # those nodes are what the update adopts
            return prior
        ids = {pid for d in self.plan.drift if d.category == "unmanaged" and d.address == change.address
               for pid in d.provider_ids}
        strays = [i for i in prior.instances if i.id in ids]
        if not strays:
            return prior
        self.reporter.note(key, "deleting node(s) state does not hold: " + ", ".join(i.id for i in strays))
        self._delete_instances(change.address, strays)
        groups = tuple(GroupRecord(g.placement, tuple(i for i in g.instances if i.id not in ids))
                       for g in prior.groups if not g.instances or any(i.id not in ids for i in g.instances))
        return replace(prior, groups=groups)

    # -- delete ----------------------------------------------------------------------------------------
    def _delete_instances(self, address: str, insts: Sequence[Instance]) -> None:
        by_provider: dict[str, list[Instance]] = {}
        for i in insts:
            by_provider.setdefault(i.provider, []).append(i)
        for key, group in by_provider.items():
            self._retry(address, lambda: self.provider(key).delete(group))

    def delete(self, change: Change, *, old_only: bool = False) -> str:
        prior = change.prior
        if prior is None:
            raise ApplyError(f"{change.address}: the plan deletes an object state does not hold", hint="plan again")
        if not old_only and prior.status == FAILED and not prior.groups:
            # A create that failed with nothing launched: there is nothing to delete.
            self._forget(change.address, action="delete")
            return "forgot a create that had failed (nothing was launched)"
        insts = list(prior.instances)
        if not old_only:
            # Nodes state recorded but the refresh did not match (it may have been unable
            # to see them) are deleted too: deleting a node already gone is no error, and
            # "destroyed" must mean nothing of the address is left running.
            seen = {(i.provider, i.id) for i in insts}
            current = self._current(change.address)
            insts += [i for i in (current.instances if current is not None else ())
                      if (i.provider, i.id) not in seen]
        if not old_only and (prior.status == CREATING or not insts):
            keys = [grp.placement.provider for grp in prior.groups] or list(self.providers)
            seen = {i.id for i in insts}
            insts += [i for i in self.live_instances(change.address, keys) if i.id not in seen]
        self._delete_instances(change.address, insts)
        if not old_only:
            self._forget(change.address, action="delete")
        return f"deleted {len(insts)} node(s)"

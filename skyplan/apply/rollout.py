"""Services in apply: waiting for new replicas to be ready, and rolling replacements.

``wait_ready``: a service with a readiness block is probed (``drift.readiness``,
from this machine) after its replicas launched, every ``period``, until each
head answers or fails ``failure_threshold`` probes past ``initial_delay``; the
verdicts are recorded on the nodes, so ``workload.NAME.endpoints`` lists the
ready ones to dependants and outputs. A replica that never becomes ready
fails the step (``NeverReady``).

``roll``: a replacement of a service with ``update { strategy = "rolling" }``
(planned create-then-delete). Old groups are ``O``, the wanted count ``n``::

    while fewer than n new groups are ready:
        launch min(n + max_surge - (old + new), n - new) new groups, wait until ready
        delete the oldest old groups while old + new ready > n - max_unavailable

so at most ``n + max_surge`` groups exist and never fewer than ``n -
max_unavailable`` are ready (without a readiness block a running replica
counts as ready). State is recorded after every batch: the old groups left
keep the old attributes, so a rollout that stops is planned again. A new
replica that never becomes ready is deleted and the rollout stops with the
old replicas still serving (``RolloutStopped``).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Sequence

from skyplan.config.service import UpdateStrategy
from skyplan.drift.readiness import READY, is_unhealthy, probe_record, spec_of
from skyplan.errors import ApplyError
from skyplan.planner.model import Action, Change
from skyplan.state.model import RUNNING, GroupRecord, ResourceRecord, Snapshot

READY_SLACK = 5.0  # seconds past a replica's readiness deadline before apply gives up on it


class NeverReady(ApplyError):
    """New replicas of a service did not pass their readiness probe in time."""


class RolloutStopped(ApplyError):
    """A rolling update stopped because a new replica never became ready."""


def rolling(change: Change) -> UpdateStrategy | None:
    """The rolling strategy of a service's create-then-delete replacement, else None."""
    after = change.after or {}
    u = UpdateStrategy.from_json(after.get("update"))
    if change.action is not Action.CREATE_THEN_DELETE or after.get("kind") != "service" or u is None:
        return None
    return u if u.rolling else None


class ServiceSteps:
    """Mixed into the Executor (which provides _record_of, _launch_groups, _record,
    _delete_instances, providers, reporter, cancel)."""

    def wait_ready(self, change: Change, groups: Sequence[GroupRecord], key: str) -> list[GroupRecord]:
        """``groups`` with their heads' readiness verdicts once every head is ready.
        Raises NeverReady (the groups, with their verdicts, on ``.groups``) when one is
        unhealthy or past its deadline. Without a readiness block: ``groups`` as they are."""
        probe_rec = self._record_of(change, RUNNING, groups)
        spec = spec_of(probe_rec)
        if spec is None:
            return list(groups)
        started = time.time()
        deadline = started + spec.deadline + spec.timeout + READY_SLACK
        memory: dict = {"nodes": {}}
        while True:
            probe_rec = probe_record(probe_rec, self.providers, memory, force=True)
            heads = [i for i in probe_rec.instances if i.rank == 0]
            verdicts = [i.attributes.get("readiness") or {} for i in heads]
            if all(v.get("status") == READY for v in verdicts):
                self._remember(probe_rec)
                return list(probe_rec.groups)
            bad = [i for i in heads if is_unhealthy(i.attributes.get("readiness"), spec)]
            if bad or time.time() > deadline or (self.cancel is not None and self.cancel.is_set()):
                who = bad or [i for i in heads if (i.attributes.get("readiness") or {}).get("status") != READY]
                why = "; ".join(f"group {i.group}: {(i.attributes.get('readiness') or {}).get('last')}" for i in who)
                err = NeverReady(f"{change.address}: {len(who)} new replica(s) never became ready ({why})",
                                 hint=f"see the replica's output with: skyplan logs {change.address}; "
                                      "fix the service or its readiness block and apply again")
                err.groups = list(probe_rec.groups)
                self._remember(probe_rec)
                raise err
            self.reporter.note(key, f"waiting for {sum(v.get('status') != READY for v in verdicts)} replica(s) "
                                    "to be ready")
            time.sleep(min(spec.period, max(0.05, deadline - time.time())))

    def _remember(self, rec: ResourceRecord) -> None:
        """Journal the verdicts, so the next refresh goes on from them (a refresh reads
        nodes afresh from the providers)."""
        from skyplan.drift import readiness

        with self._state_lock:
            readiness.remember(self.store, Snapshot(lineage="", serial=0, resources={rec.address: rec}),
                               readiness.recall(self.store), whole=False)

    def roll(self, change: Change, key: str, strategy: UpdateStrategy) -> str:
        """Replace the service's replicas batch by batch (see the module docstring)."""
        prior = change.prior
        wp = change.placement
        assert prior is not None and wp is not None
        n = len(wp.groups)
        old = list(prior.groups)
        new: list[GroupRecord] = []
        floor = max(0, n - strategy.max_unavailable)
        surge = max(1, strategy.max_surge)
        min_ready = len(old)
        while len(new) < n:
            room = max(1, n + surge - (len(old) + len(new)))
            batch = min(room, n - len(new))
            start = len(new)
            try:
                launched = self._launch_groups(change, key, new, range(start, start + batch),
                                               created_at=prior.created_at, action="update")
            except BaseException:
                self._record_mixed(change, prior, old, new)
                raise
            fresh = launched[start:]
            try:
                fresh = self.wait_ready(change, fresh, key)
            except NeverReady as e:
                self.reporter.note(key, f"stopping the rollout: {e}")
                self._delete_instances(change.address, [i for g in fresh for i in g.instances])
                self._record_mixed(change, prior, old, new)
                raise RolloutStopped(
                    f"{change.address}: rolling update stopped, {len(old) + len(new)} replica(s) still serving; {e}",
                    hint=e.hint) from None
            new.extend(fresh)
            while old and len(old) + len(new) - 1 >= floor and len(old) + len(new) > n:
                gone = old.pop(0)
                self._delete_instances(change.address, list(gone.instances))
            min_ready = min(min_ready, len(old) + len(new))
            self._record_mixed(change, prior, old, new)
        if old:
            self._delete_instances(change.address, [i for g in old for i in g.instances])
        self._record(self._record_of(change, RUNNING, new, created_at=prior.created_at), action="update",
                     before=prior)
        return f"rolled {n} replica(s), never fewer than {min_ready} ready"

    def relaunch(self, change: Change, key: str, groups: list[GroupRecord]) -> list[GroupRecord]:
        """Replace groups ``change.relaunch_groups`` of ``groups`` (some replicas of a
        service, planner/replicas.py), new first: a batch (``max_surge`` of a rolling
        update, else all of them) is launched at its planned placements, waited for
        until ready, and only then are the old nodes deleted; the other replicas are
        not touched. A launch that fails or a new replica that never becomes ready:
        the batch's new nodes are deleted, the old ones kept, the error raised."""
        from skyplan.apply.failover import Blocklist

        prior = change.prior
        assert prior is not None
        u = UpdateStrategy.from_json((change.after or {}).get("update"))
        todo = [n for n in change.relaunch_groups if n < len(groups)]
        size = max(1, u.max_surge) if u is not None and u.rolling else max(1, len(todo))
        groups = list(groups)
        blocklist = Blocklist()
        for start in range(0, len(todo), size):
            batch = todo[start:start + size]
            fresh: dict[int, GroupRecord] = {}
            try:
                for n in batch:
                    others = sum(g.placement.hourly_cost for i, g in enumerate(groups) if i != n)
                    fresh[n] = self.launch_group(change, key, n, others, blocklist)
                ready = self.wait_ready(change, list(fresh.values()), key)
            except BaseException as e:
                self._delete_instances(change.address, [i for g in fresh.values() for i in g.instances])
                self._record(replace(prior, groups=tuple(groups), status=RUNNING), action="update", before=None)
                if isinstance(e, NeverReady):
                    self.reporter.note(key, f"stopping the replacement: {e}")
                    raise RolloutStopped(f"{change.address}: replacing replicas stopped, the others still serving; "
                                         f"{e}", hint=e.hint) from None
                raise
            for n, g in zip(batch, ready):
                self._delete_instances(change.address, list(groups[n].instances))
                self.reporter.note(key, f"group {n}: replaced on {g.placement.infra} {g.placement.instance_type} "
                                        f"{g.placement.pricing}")
                groups[n] = g
            self._record(replace(prior, groups=tuple(groups), status=RUNNING), action="update", before=None)
        return groups

    def _record_mixed(self, change: Change, prior: ResourceRecord, old: list, new: list) -> None:
        """State during a rollout: the new groups first (their group numbers), then the old
        ones left, under the old attributes, so an interrupted rollout is planned again."""
        if not new:
            rec = replace(prior, groups=tuple(old))
        elif not old:
            rec = self._record_of(change, RUNNING, new, created_at=prior.created_at)
        else:
            rec = replace(prior, groups=tuple(new) + tuple(old), status=RUNNING)
        self._record(rec, action="update", before=None)

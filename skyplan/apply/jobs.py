"""Jobs during apply: waiting for an upstream job's success, and watching a new
job for its outcome (``JobSteps``, mixed into the executor), and the job
status of a set of nodes.

A job a step of the plan depends on, or one whose ``duration_hours`` fits in
``JOB_WAIT_LIMIT``, is watched to its end; any other for ``JOB_GRACE`` seconds,
long enough to catch a command that fails at once. A job that ends non-zero
within the apply makes its step fail with ``JobFailed``: its exit code and the
last lines of its output (for providers that keep logs).
"""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import replace
from typing import Sequence

from skyplan.apply.walker import Skip
from skyplan.errors import ApplyError, LockLostError
from skyplan.planner.model import Change
from skyplan.providers.base import Instance
from skyplan.state.model import FAILED, RUNNING, SUCCEEDED, GroupRecord, ResourceRecord


def now_iso() -> str:
    """Now, as apply stamps records (UTC, seconds)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _hours(q) -> float | None:
    try:
        return float(q) if q is not None and q != "" else None
    except (TypeError, ValueError):
        return None


def job_status(instances: Sequence[Instance]) -> str | None:
    """SUCCEEDED/FAILED once every node of a job has ended, else None (still running)."""
    if not instances:
        return None
    states = {i.state for i in instances}
    if "failed" in states:
        return FAILED if states <= {"failed", "succeeded", "terminated"} else None
    if states == {"succeeded"}:
        return SUCCEEDED
    return None


JOB_GRACE = 1.0  # seconds every new job is watched: a command that fails at once is reported failed
JOB_WAIT_LIMIT = 600.0  # a job whose duration_hours fits in this is waited for to its end


class JobFailed(ApplyError):
    """A job apply launched ended non-zero within the apply (its record says failed)."""

    def __init__(self, address: str, text: str):
        super().__init__(f"the job {text}", hint=f"see all of its output with: skyplan logs {address}; "
                                                 "the next plan replaces it (lifecycle { retry_failed = false } "
                                                 "keeps it as failed)")


class JobSteps:
    """What the executor does for jobs. Expects the executor's ``plan``, ``providers``,
    ``reporter``, ``cancel``, ``check_lock``, ``poll_interval``, ``poll_max``, ``job_grace``,
    ``job_wait_limit``, ``_awaited``, ``_kinds``, ``_current``, ``_record`` and
    ``live_instances``."""

    # -- waiting for upstream jobs -------------------------------------------------------------------
    def wait_for_jobs(self, change: Change, key: str) -> None:
        for dep in change.depends_on:
            rec = self._current(dep)
            kind = self._kinds.get(dep) or (rec.attributes.get("kind", "") if rec else "")
            if kind != "job" or rec is None:
                continue
            self._wait_job(dep, rec, key)

    def _wait_job(self, dep: str, rec: ResourceRecord, key: str) -> None:
        interval, noted, gone = self.poll_interval, False, 0
        while True:
            if rec.status == SUCCEEDED:
                return
            if rec.status == FAILED:
                raise Skip(f"upstream job {dep} failed")
            self.check_lock()  # a step that lost the lock while waiting starts nothing
            if self.cancel is not None and self.cancel.is_set():
                raise Skip(f"cancelled while waiting for job {dep}")
            keys = [grp.placement.provider for grp in rec.groups]
            live = self.live_instances(dep, keys)
            status = job_status(live)
            if status is not None:
                rec = replace(rec, status=status, groups=tuple(
                    GroupRecord(grp.placement, tuple(i for i in live if i.group == n) or grp.instances)
                    for n, grp in enumerate(rec.groups)), updated_at=now_iso())
                try:
                    self._record(rec, action="refresh", before=None)
                except LockLostError as e:
                    raise Skip(f"not started: {e}") from None
                continue
            gone = gone + 1 if not live else 0
            if gone >= 3:
                raise Skip(f"upstream job {dep} has no running nodes")
            if not noted:
                self.reporter.note(key, f"waiting for job {dep} to succeed")
                noted = True
            time.sleep(interval)
            interval = min(self.poll_max, interval * 2)

    # -- a job's outcome ---------------------------------------------------------------------------------
    def job_window(self, change: Change) -> float:
        """Seconds to wait for a new job's outcome: to its end when a step of this plan
        depends on it or its declared ``duration_hours`` fits within
        ``job_wait_limit``, else ``job_grace`` (long enough to catch a command that
        fails at once). A job with a deadline is paced by ``skyplan watch``, which may
        move it while it runs: apply does not wait for it to end."""
        if change.address in self._awaited:
            return float("inf")
        after = change.after or {}
        if after.get("deadline") is not None or after.get("deadline_hours") is not None:
            return self.job_grace
        hours = _hours(after.get("duration_hours"))
        if hours is not None and hours * 3600.0 <= self.job_wait_limit:
            return hours * 3600.0 + self.job_grace
        return self.job_grace

    def watch_job(self, change: Change, groups: Sequence[GroupRecord], key: str
                  ) -> tuple[list[GroupRecord], str]:
        """Poll the job's nodes until they end or its window passes: (groups with the
        nodes as last listed, SUCCEEDED/FAILED/RUNNING)."""
        groups = list(groups)
        ids = {i.id for grp in groups for i in grp.instances}
        status = job_status([i for grp in groups for i in grp.instances])
        deadline = time.monotonic() + self.job_window(change)
        interval, noted, gone = self.poll_interval, False, 0
        keys = [grp.placement.provider for grp in groups]
        while status is None and ids and gone < 3:  # nodes no longer listed: refresh tells what happened
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self.cancel is not None and self.cancel.is_set()):
                break
            if not noted and remaining > self.job_grace:
                self.reporter.note(key, "waiting for the job to end")
                noted = True
            time.sleep(min(interval, remaining))
            interval = min(self.poll_max, interval * 2)
            try:
                live = {i.id: i for i in self.live_instances(change.address, keys) if i.id in ids}
            except Exception as e:  # noqa: BLE001 - the job runs; its outcome is read by a later refresh
                self.reporter.note(key, f"cannot read the job's outcome now ({(str(e).splitlines() or [''])[0]})")
                break
            gone = 0 if live else gone + 1
            if not live:
                continue
            groups = [GroupRecord(grp.placement, tuple(live.get(i.id, i) for i in grp.instances)) for grp in groups]
            status = job_status([i for grp in groups for i in grp.instances])
        return groups, status or RUNNING

    def failure_text(self, groups: Sequence[GroupRecord], lines: int = 10) -> str:
        """``failed (exit 3)`` and the last lines of the first failed node's output
        (for providers that keep logs)."""
        from skyplan.providers.base import SupportsLogs

        failed = [i for grp in groups for i in grp.instances if i.state == "failed"]
        if not failed:
            return "failed"
        first = failed[0]
        code = first.attributes.get("exit_code")
        text = f"failed (exit {code})" if code is not None else "failed"
        if len(failed) > 1 or len(groups) > 1 or len(groups[0].instances) > 1:
            text += f" on {len(failed)} node(s)"
        prov = self.providers.get(first.provider)
        if isinstance(prov, SupportsLogs):
            try:
                tail = [ln for ln in prov.logs(first) if not ln.startswith("[skyplan] ")][-lines:]
            except Exception:  # noqa: BLE001 - the outcome stands without its output
                tail = []
            if tail:
                text += f"\nlast lines of its output ({first.id}):\n" + "\n".join(f"  {ln}" for ln in tail)
        return text

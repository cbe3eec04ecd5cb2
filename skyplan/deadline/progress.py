"""How far a deadline job has got, measured rather than guessed.

``measure`` reads the state journal of one address (oldest row first): each row
whose record shows a set of running nodes different from the one before ends
the previous run and, when nodes run, starts a new one. The time the nodes ran,
minus one changeover per (re)start (provisioning, setup and the work lost since
the last checkpoint), is the work done; C(t) = duration - work done. A node's own
``started_at`` (epoch seconds, when its provider reports it) is preferred to the
journal's time for the start of its run; the run still going ends now, or at the
node's ``ended_at`` when refresh finds it gone (``control`` journals such a
finding as an ``observe`` row, so a later run knows when the node stopped).

A job may say better itself: a line ``SKYPLAN_PROGRESS=0.42`` in its output (read
through the provider's logs API, ``reported_fraction``) is the fraction done, and
wins over the journal's estimate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Mapping, Sequence

from skyplan.deadline.policy import Mode

_LINE = re.compile(r"SKYPLAN_PROGRESS\s*=\s*([0-9]*\.?[0-9]+)")
RUNNING = ("pending", "running")


@dataclass(frozen=True)
class Measured:
    """What the journal (and the job's own report) say about one job."""

    ran_hours: float = 0.0  # time the job's nodes actually ran
    starts: int = 0  # (re)starts, each costing one changeover
    done_hours: float = 0.0  # work done: ran minus changeovers, or the reported fraction of the duration
    first_start: datetime | None = None  # when it first ran (deadline_hours counts from the first apply)
    mode: Mode = Mode.WAIT  # what it runs on now
    finished: bool = False  # its nodes ended with success
    reported: float | None = None  # the fraction the job printed last, if any

    def remaining(self, duration: float) -> float:
        return 0.0 if self.finished else max(0.0, duration - self.done_hours)


def parse_time(text: str) -> datetime:
    s = str(text).strip()
    return datetime.fromisoformat(s[:-1] + "+00:00" if s.endswith("Z") else s).astimezone(timezone.utc)


def _epoch(v) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(v), tz=timezone.utc) if v is not None else None
    except (TypeError, ValueError, OverflowError):
        return None


def _nodes(record: Mapping | None) -> list[Mapping]:
    if not record:
        return []
    return [i for g in record.get("groups", ()) for i in g.get("instances", ())]


def _mode(nodes: Sequence[Mapping]) -> Mode:
    return Mode.SPOT if any(n.get("pricing") == "spot" for n in nodes) else Mode.ON_DEMAND


def measure(rows: Iterable[Mapping], now: datetime, changeover: float, duration: float,
            current: Sequence[Mapping] | None = None, reported: float | None = None) -> Measured:
    """Progress of one job from its journal ``rows`` (oldest first, as ``StateStore.history``
    gives them newest first: reverse them) and ``current``, its nodes as refresh read them now
    (``Instance.to_json()``; None: as state last recorded)."""
    ran = 0.0
    starts = 0
    first: datetime | None = None
    open_ids: frozenset = frozenset()
    open_at: datetime | None = None
    open_nodes: list[Mapping] = []
    finished = False
    for row in rows:
        at = parse_time(row["at"])
        nodes = _nodes(row.get("after"))
        live = [n for n in nodes if n.get("state") in RUNNING]
        ids = frozenset(n.get("id") for n in live)
        if any(n.get("state") == "succeeded" for n in nodes) and not live:
            finished = True
        if ids == open_ids:
            continue
        if open_at is not None:
            by_id = {n.get("id"): n for n in nodes}
            ends = [_epoch(by_id[i].get("attributes", {}).get("ended_at")) for i in open_ids if i in by_id]
            end = min(at, max(t for t in ends if t)) if any(ends) else at  # a node seen gone says when
            ran += max(0.0, (end - open_at).total_seconds()) / 3600
        open_ids, open_nodes, open_at = ids, live, None
        if live:
            starts += 1
            began = min((t for t in (_epoch(n.get("attributes", {}).get("started_at")) for n in live) if t),
                        default=at)
            open_at = min(began, at)
            first = first or open_at
    mode = Mode.WAIT
    if open_at is not None:
        still = current if current is not None else open_nodes
        by_id = {n.get("id"): n for n in still}
        alive = [by_id[i] for i in open_ids if i in by_id and by_id[i].get("state") in RUNNING]
        ended = [_epoch(by_id[i].get("attributes", {}).get("ended_at")) for i in open_ids if i in by_id]
        end = now if alive or not any(ended) else max(t for t in ended if t)
        ran += max(0.0, (end - open_at).total_seconds()) / 3600
        if alive:
            mode = _mode(alive)
        if any(by_id.get(i, {}).get("state") == "succeeded" for i in open_ids):
            finished = True
    done = max(0.0, ran - starts * changeover)
    if reported is not None:
        done = max(0.0, min(1.0, reported)) * duration
    return Measured(ran_hours=ran, starts=starts, done_hours=min(done, duration), first_start=first,
                    mode=Mode.DONE if finished else mode, finished=finished, reported=reported)


def reported_fraction(lines: Iterable[str]) -> float | None:
    """The last ``SKYPLAN_PROGRESS=<fraction>`` a job printed (0..1), or None."""
    last = None
    for line in lines:
        for m in _LINE.finditer(line):
            last = float(m.group(1))
    return None if last is None else max(0.0, min(1.0, last))


def read_reported(providers: Mapping, nodes: Sequence) -> float | None:
    """The job's own report from its rank-0 node's output, through ``SupportsLogs``;
    None when its provider has no logs or the job prints none."""
    from skyplan.providers.base import SupportsLogs

    for inst in sorted(nodes, key=lambda i: (i.group, i.rank)):
        prov = providers.get(inst.provider)
        if inst.rank != 0 or not isinstance(prov, SupportsLogs):
            continue
        return reported_fraction(prov.logs(inst, follow=False))
    return None

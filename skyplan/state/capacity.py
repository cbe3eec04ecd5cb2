"""Capacity memory: where spot capacity was lost, kept in state across runs.

Refresh finds a spot node preempted (or gone); ``drift.blocked`` turns that into
scopes ``(provider, region, zone-or-None)`` a repair must avoid. Without a place
to keep them they were forgotten by the next run. ``remember`` writes each scope
for its address into the ``capacity_memory`` table (migration
``0004_capacity_memory``) with an expiry, ``recall`` reads the scopes not yet
expired, and ``clear`` drops a scope once a spot node of the address runs there
again. Neither bumps the serial: the memory is not a resource.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterable, Mapping

DEFAULT_TTL = timedelta(hours=1)  # how long a lost zone is avoided
NO_CAPACITY = "no capacity"  # the reason of a spot launch the cloud had no capacity for
_FMT = "%Y-%m-%dT%H:%M:%S.%fZ"


def _iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime(_FMT)


def _retry(store, fn):
    """Through the PostgreSQL store's reconnecting retry when it has one."""
    retrying = getattr(store, "_retrying", None)
    return retrying(fn) if retrying is not None else fn()


def remember(store, blocked: Mapping[str, Iterable[tuple]], now: datetime, *, ttl: timedelta = DEFAULT_TTL,
             pricing: str = "spot", reason: str = "preempted") -> int:
    """Record each (address, scope) of ``blocked`` until ``now + ttl``; returns how many."""
    rows = [(address, str(s[0]), str(s[1]), str(s[2] or ""), pricing, reason, _iso(now), _iso(now + ttl))
            for address, scopes in blocked.items() for s in scopes]
    if not rows:
        return 0

    def write():
        with store.atomic() as conn:
            for r in rows:
                conn.execute("DELETE FROM capacity_memory WHERE address = ? AND provider = ? AND region = ?"
                             " AND zone = ? AND pricing = ?", r[:5])
                conn.execute("INSERT INTO capacity_memory (address, provider, region, zone, pricing, reason,"
                             " observed_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", r)
        return len(rows)

    return _retry(store, write)


def recall(store, now: datetime, pricing: str = "spot", reason: str | None = None) -> dict[str, tuple[tuple, ...]]:
    """address -> scopes (provider, region, zone-or-None) still remembered at ``now``
    (only those recorded for ``reason`` when given); expired rows are deleted on the way."""
    def read():
        with store.atomic() as conn:
            conn.execute("DELETE FROM capacity_memory WHERE expires_at <= ?", (_iso(now),))
            if reason is not None:
                return conn.execute("SELECT address, provider, region, zone FROM capacity_memory WHERE pricing = ?"
                                    " AND reason = ? ORDER BY address, provider, region, zone",
                                    (pricing, reason)).fetchall()
            return conn.execute("SELECT address, provider, region, zone FROM capacity_memory WHERE pricing = ?"
                                " ORDER BY address, provider, region, zone", (pricing,)).fetchall()

    out: dict[str, list[tuple]] = {}
    for address, provider, region, zone in _retry(store, read):
        out.setdefault(address, []).append((provider, region, zone or None))
    return {a: tuple(s) for a, s in out.items()}


def clear(store, address: str, provider: str, region: str, zone: str | None, pricing: str = "spot") -> None:
    """Forget a scope of ``address`` (a spot node runs there again). A zone's node clears
    both the zone and its whole region."""
    def write():
        with store.atomic() as conn:
            conn.execute("DELETE FROM capacity_memory WHERE address = ? AND provider = ? AND region = ?"
                         " AND (zone = ? OR zone = '') AND pricing = ?",
                         (address, provider, region, zone or "", pricing))

    _retry(store, write)

"""Refresh: ask every provider in use what it holds for this lineage, concurrently.

``refresh(snapshot, providers)`` calls ``Provider.list_managed(lineage)`` once
per provider (each provider makes one list call per region or namespace), all
providers at once on a thread pool, then hands the listings to the pure
``classify``. A provider that fails makes the whole refresh fail with a
ProviderError naming it: its objects are never reported as missing on the
strength of an error.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Mapping

from skyplan.drift.classify import Refreshed, classify, unhealthy_items
from skyplan.drift.readiness import probe_snapshot, updated_memory
from skyplan.drift.ignore import IgnoreRules
from skyplan.errors import AuthError, ProviderError, SkyplanError
from skyplan.providers.base import Instance, Provider
from skyplan.state.model import Snapshot


def providers_in_state(snapshot: Snapshot) -> set[str]:
    """Provider keys that hold something recorded in ``snapshot``."""
    keys: set[str] = set()
    for rec in snapshot.resources.values():
        for group in rec.groups:
            if group.placement.provider and not group.placement.fleet:
                keys.add(group.placement.provider)
            keys.update(i.provider for i in group.instances if i.provider)
    return keys


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0] if len(text) > 300 else text


def refresh(snapshot: Snapshot, providers: Mapping[str, Provider], *, ignore: IgnoreRules | None = None,
            max_workers: int = 8, memory: Mapping | None = None) -> Refreshed:
    """Refresh ``snapshot`` against ``providers`` (keyed by provider key), then probe
    the readiness of every service replica that declares it (``drift.readiness``;
    ``memory`` is what ``readiness.recall`` read back): a replica past its failure
    threshold is drift ``unhealthy``.

    Raises ProviderError when a provider that holds something in state is not
    configured, or when any provider's list call fails.
    """
    needed = providers_in_state(snapshot)
    unconfigured = sorted(needed - set(providers))
    if unconfigured:
        raise ProviderError(
            f"cannot refresh: state holds resources on provider(s) {', '.join(unconfigured)}, "
            "which the configuration does not declare",
            provider=unconfigured[0],
            hint="keep the provider block until its resources are destroyed, "
                 "or drop them from state with `skyplan state rm ADDRESS`")
    keys = sorted(needed | set(providers))
    started = time.monotonic()
    listings: dict[str, list[Instance]] = {}
    failures: dict[str, BaseException] = {}
    if keys:
        with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(keys))),
                                thread_name_prefix="skyplan-refresh") as pool:
            futures = {k: pool.submit(providers[k].list_managed, snapshot.lineage) for k in keys}
            for key, fut in futures.items():
                try:
                    listings[key] = [_keyed(i, key) for i in fut.result()]
                except Exception as e:  # any failure means we do not know what exists
                    failures[key] = e
    if failures:
        names = ", ".join(sorted(failures))
        detail = "; ".join((f"{k}: " if len(failures) > 1 else "") + _describe(e)
                           for k, e in sorted(failures.items()))
        first = sorted(failures)[0]
        hint = getattr(failures[first], "hint", "") if isinstance(failures[first], SkyplanError) else ""
        unauthorized = sorted(k for k, e in failures.items() if isinstance(e, AuthError))
        if unauthorized:  # credentials, not the network: say so, with the provider's own hint
            first = unauthorized[0]
            raise AuthError(
                f"cannot refresh: provider {', '.join(unauthorized)} has no usable credentials: {detail}",
                provider=first, hint=getattr(failures[first], "hint", "") or "set the provider's credentials",
            ) from failures[first]
        raise ProviderError(
            f"cannot refresh: provider {names} unreachable: {detail}",
            provider=first,
            hint=hint or "nothing was reported missing; fix the provider's endpoint or credentials and run again",
        ) from failures[first]
    for key, found in probe_unlisted(snapshot, providers, listings).items():
        listings[key] = listings.get(key, []) + found
    result = classify(snapshot, listings, ignore)
    probed = probe_snapshot(result.snapshot, providers, memory)
    zones = updated_memory(probed, memory or {})["zones"]
    result = replace(result, snapshot=probed, drift=result.drift + tuple(unhealthy_items(probed, ignore, zones)))
    return replace(result, seconds=round(time.monotonic() - started, 3))


def probe_unlisted(snapshot: Snapshot, providers: Mapping[str, Provider],
                    listings: Mapping[str, list[Instance]]) -> dict[str, list[Instance]]:
    """Recorded nodes the lineage listing did not return, read back by provider id
    (providers that can read one object): a node that still exists but carries an
    empty or another lineage tag is this state's node (state recorded its id, it
    carries the address tag), and classify reports its lineage instead of calling
    it missing. A read that fails leaves the node unlisted, so it is missing as
    before; nothing is ever found on the strength of an error."""
    from skyplan.providers.base import SupportsImport

    listed = {(k, i.id) for k, insts in listings.items() for i in insts}
    out: dict[str, list[Instance]] = {}
    for rec in snapshot.resources.values():
        for inst in rec.instances:
            key = inst.provider
            prov = providers.get(key)
            if (key, inst.id) in listed or prov is None or not isinstance(prov, SupportsImport):
                continue
            try:
                found = _keyed(prov.read(inst.id), key)
            except Exception:  # noqa: BLE001 - not readable: it stays missing
                continue
            if found.id == inst.id and found.address == rec.address and found.lineage != snapshot.lineage:
                out.setdefault(key, []).append(found)
                listed.add((key, inst.id))
    return out


def _keyed(inst: Instance, key: str) -> Instance:
    """Instances carry the provider key they were listed by (aliases included)."""
    return inst if inst.provider == key else replace(inst, provider=key)

"""Preemption of a local spot node, as a cloud's interruption takes one away: its
process group is stopped and its stop file says ``preemption``, so it reads
``preempted`` from then on and cannot be started again. ``preempt_requested``
does it for what the file ``.skyplan/local/preempt`` names (node ids or
addresses, one a line), then empties it: a test or a person can preempt a node
from outside, and the next refresh finds it preempted."""

from __future__ import annotations

import json
import time

from skyplan.errors import ProviderError
from skyplan.providers.base import Instance
from skyplan.providers.local.registry import write_atomic

PREEMPTION = "preemption"  # who stopped a preempted spot node (its stop file)


def preempt(prov, node_id: str) -> Instance:
    """Stop the running spot node ``node_id`` of ``prov`` (a LocalProvider) as preempted.

    Failure contract: ProviderError if the node is not registered, not spot or not
    running; then nothing is changed."""
    entry = prov.registry.read(node_id)
    if entry is None:
        raise ProviderError(f"no local node {node_id!r} is registered under {prov.registry.dir}", provider=prov.name)
    if entry.get("pricing") != "spot" or prov._state(entry) != "running":
        raise ProviderError(f"local node {node_id} is not a running spot node; only those are preempted",
                            provider=prov.name)
    write_atomic(prov.registry.paths(node_id)["stopped"], json.dumps({"by": PREEMPTION, "at": time.time()}))
    prov._terminate(entry)
    return prov._instance(entry)


def preempt_requested(prov) -> None:
    """Preempt what ``.skyplan/local/preempt`` names (node ids or addresses), then empty it."""
    path = prov.registry.base / "preempt"
    try:
        wanted = {line.strip() for line in path.read_text().splitlines() if line.strip()}
    except FileNotFoundError:
        return
    path.unlink(missing_ok=True)
    for entry in list(prov.registry.entries()):
        if (entry["id"] in wanted or entry.get("address") in wanted) and entry.get("pricing") == "spot" \
                and prov._state(entry) == "running":
            preempt(prov, entry["id"])

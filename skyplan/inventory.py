"""Pricing a Kubernetes cluster without contacting it (``plan -refresh=false``, ``optimize``).

A preview must not need credentials for a cluster (a pull-request job has no
kubeconfig). Offers for a ``kubernetes`` provider then come, in this order:

1. from the declared capacity of an existing fleet on that provider — the solver
   uses a cluster a fleet declares through that fleet only, so no node offers
   are needed;
2. from the node inventory recorded in state the last time a plan read the
   cluster live (a journal entry ``inventory`` of address ``provider.KEY``, which
   changes no resource and no serial), with its date;
3. else none, and the plan names the provider it could not price and the
   settings that fix it.

A live read (a plan with refresh) records the inventory when it changed.
"""

from __future__ import annotations

from skyplan.catalog.kubernetes import NodeInfo, offers_from_nodes
from skyplan.config.model import DesiredGraph, ProviderConfig

ACTION = "inventory"


def _address(key: str) -> str:
    return f"provider.{key}"


def latest(store, key: str) -> dict | None:
    """The last inventory recorded for provider ``key``: {"nodes": [NodeInfo], "region", "at"}."""
    if store is None:
        return None
    for row in store.history(address=_address(key)):
        if row["action"] == ACTION and isinstance(row.get("after"), dict):
            after = row["after"]
            return {"nodes": [NodeInfo.from_json(n) for n in after.get("nodes") or ()],
                    "region": str(after.get("region") or "cluster"), "at": row["at"]}
    return None


def record(store, key: str, region: str, nodes: list[NodeInfo]) -> None:
    """Journal the inventory of ``key`` unless it is what was recorded last (no serial bump)."""
    if store is None:
        return
    doc = {"region": region, "nodes": [n.to_json() for n in nodes]}
    last = latest(store, key)
    if last is not None and last["region"] == region and [n.to_json() for n in last["nodes"]] == doc["nodes"]:
        return
    store.journal_event(_address(key), ACTION, "ok", detail=f"{len(nodes)} node(s) read from the cluster",
                        after=doc)


def live_offers(provider, key: str, store) -> list:
    """Offers read from the cluster now; the inventory is recorded in ``store``."""
    read = getattr(provider, "inventory", None)
    if read is None:
        return list(provider.offers())
    nodes = read()
    region = provider.region
    record(store, key, region, nodes)
    return offers_from_nodes(nodes, float(getattr(provider, "price", 0.0) or 0.0), region=region, provider="kubernetes")


def offline_offers(graph: DesiredGraph, key: str, cfg: ProviderConfig, store) -> tuple[list, str, str]:
    """(offers, how they were priced, "" or what to set when they could not be)."""
    fleets = [a for a, f in sorted(graph.fleets.items()) if f.existing and f.capacity and f.provider == key]
    if fleets:
        return [], f"{key}: from the declared capacity of {', '.join(fleets)}", ""
    last = latest(store, key)
    if last is not None:
        region = cfg.regions[0] if cfg.regions else last["region"]
        price = float((cfg.settings or {}).get("price", 0.0) or 0.0)
        offers = offers_from_nodes(last["nodes"], price, region=region, provider="kubernetes")
        return offers, f"{key}: from the node inventory recorded in state at {last['at']}", ""
    hint = (f"{key} could not be priced without contacting the cluster: declare its capacity with "
            f'fleet "NAME" {{ provider = "{key}", existing = true, capacity {{ ... }} }}, or run '
            "`skyplan plan` with refresh once where the cluster is reachable (it records the node inventory "
            "in state)")
    return [], f"{key}: not priced", hint

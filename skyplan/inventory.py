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

A live read offers each node as free as it is now: its allocatable minus what
pods other than this state's own request there, so a plan never stacks work on
room someone else's pods hold. An existing fleet on a Kubernetes provider that
declares no capacity is likewise the cluster's nodes as they are now (``live_node_fleets``): each node's allocatable
CPU, memory and GPUs minus what other pods already request there, one
capacity entry per node, so the solver packs per node and never promises a
workload room that only exists summed over nodes.
"""

from __future__ import annotations

from dataclasses import replace

from skyplan.catalog.kubernetes import NodeInfo, node_prices, offers_from_nodes
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
    """Offers read from the cluster now, each node as free as it is (``free_nodes``);
    the inventory as the cluster reports it is recorded in ``store``."""
    read = getattr(provider, "inventory", None)
    if read is None:
        return list(provider.offers())
    nodes = read()
    region = provider.region
    record(store, key, region, nodes)
    pods = provider.pods_on_nodes() if hasattr(provider, "pods_on_nodes") else ()
    free = free_nodes(nodes, pods, store.lineage if store is not None else "")
    return offers_from_nodes(free, region=region, provider="kubernetes",
                             **node_prices(getattr(getattr(provider, "cfg", None), "settings", None)))


def offline_offers(graph: DesiredGraph, key: str, cfg: ProviderConfig, store) -> tuple[list, str, str]:
    """(offers, how they were priced, "" or what to set when they could not be)."""
    fleets = [a for a, f in sorted(graph.fleets.items()) if f.existing and f.capacity and f.provider == key]
    if fleets:
        return [], f"{key}: from the declared capacity of {', '.join(fleets)}", ""
    last = latest(store, key)
    if last is not None:
        region = cfg.regions[0] if cfg.regions else last["region"]
        offers = offers_from_nodes(last["nodes"], region=region, provider="kubernetes", **node_prices(cfg.settings))
        return offers, f"{key}: from the node inventory recorded in state at {last['at']}", ""
    hint = (f"{key} could not be priced without contacting the cluster: declare its capacity with "
            f'fleet "NAME" {{ provider = "{key}", existing = true, capacity {{ ... }} }}, or run '
            "`skyplan plan` with refresh once where the cluster is reachable (it records the node inventory "
            "in state)")
    return [], f"{key}: not priced", hint


def is_live_node_fleet(fleet, providers_cfg) -> bool:
    """An existing fleet on a Kubernetes provider that declares no capacity: its
    nodes are read from the cluster (``live_node_fleets``)."""
    cfg = providers_cfg.get(fleet.provider or "")
    return bool(fleet.existing and not fleet.capacity and not fleet.reservation_id and cfg is not None
                and cfg.kind == "kubernetes")


def _requests(pod: dict) -> dict[str, float]:
    """What one pod takes of its node: the sum of its containers' requests (a GPU
    count may be given as a limit only, which Kubernetes then also requests)."""
    from skyplan.catalog.kubernetes import GPU_RESOURCE, quantity

    out = {"cpu": 0.0, "memory": 0.0, GPU_RESOURCE: 0.0}
    for c in (pod.get("spec") or {}).get("containers") or ():
        res = c.get("resources") or {}
        asked = {**(res.get("limits") or {}), **(res.get("requests") or {})} if res.get("limits", {}).get(
            GPU_RESOURCE) else dict(res.get("requests") or {})
        for k in out:
            try:
                out[k] += quantity(asked.get(k))
            except ValueError:
                continue
    return out


def _used_by_others(pods, lineage: str) -> dict[str, dict[str, float]]:
    """Per node name, what pods other than this state's own request there (its own
    pods are placed again by the plan, so their room stays theirs)."""
    from skyplan.providers.kubernetes.manifests import LABEL_LINEAGE

    used: dict[str, dict[str, float]] = {}
    for pod in pods:
        if lineage and ((pod.get("metadata") or {}).get("labels") or {}).get(LABEL_LINEAGE) == lineage:
            continue
        here = used.setdefault(pod["spec"]["nodeName"], {})
        for k, v in _requests(pod).items():
            here[k] = here.get(k, 0.0) + v
    return used


def free_nodes(nodes, pods, lineage: str) -> list[NodeInfo]:
    """Each node with its allocatable CPU, memory and GPUs reduced by what other
    pods request there. A node with no CPU or memory left is dropped."""
    from skyplan.catalog.kubernetes import GPU_RESOURCE, quantity

    used = _used_by_others(pods, lineage)
    out = []
    for node in sorted(nodes, key=lambda n: n.name):
        try:
            cpus = quantity(node.allocatable.get("cpu"))
            mem = quantity(node.allocatable.get("memory"))
            gpus = quantity(node.allocatable.get(GPU_RESOURCE))
        except ValueError:
            continue
        u = used.get(node.name, {})
        cpus, mem, gpus = cpus - u.get("cpu", 0.0), mem - u.get("memory", 0.0), gpus - u.get(GPU_RESOURCE, 0.0)
        if cpus <= 0 or mem <= 0:
            continue
        free = {**node.allocatable, "cpu": f"{cpus:g}", "memory": f"{mem:.0f}", GPU_RESOURCE: f"{max(gpus, 0):g}"}
        out.append(replace(node, allocatable=free))
    return out


def free_capacity(nodes, pods, lineage: str) -> tuple:
    """One FleetCapacity per node: what ``free_nodes`` leaves of it."""
    from skyplan.catalog.kubernetes import GPU_RESOURCE, accelerator_of, quantity
    from skyplan.config.model import FleetCapacity

    caps = []
    for node in free_nodes(nodes, pods, lineage):
        cpus = quantity(node.allocatable["cpu"])
        mem = quantity(node.allocatable["memory"]) / 2**30
        gpus = quantity(node.allocatable[GPU_RESOURCE])
        accel = accelerator_of(node.labels) if gpus > 0 else None
        caps.append(FleetCapacity(accel, int(gpus) if accel else 0, 1, round(cpus, 3), round(mem, 2), node.name))
    return tuple(caps)


def live_node_fleets(graph, snapshot, providers) -> dict:
    """``graph.fleets`` with each live-node Kubernetes fleet's capacity read from its
    cluster now: one entry per node, so the solver packs per node (fleet_packing)
    instead of on summed capacity.

    Raises ProviderError when the cluster cannot be read."""
    out = dict(graph.fleets)
    for address, fleet in sorted(graph.fleets.items()):
        if not is_live_node_fleet(fleet, graph.providers):
            continue
        prov = providers[fleet.provider]
        caps = free_capacity(prov.inventory(), prov.pods_on_nodes(), snapshot.lineage)
        out[address] = replace(fleet, capacity=caps, region=fleet.region or getattr(prov, "region", None))
    return out

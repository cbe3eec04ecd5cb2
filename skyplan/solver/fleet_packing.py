"""Exact per-node packing onto fleets whose capacity is nodes with slots.

A fleet capacity entry of ``nodes`` nodes, each with GPUs, CPUs and memory
(a Kubernetes cluster's declared capacity, a provisioned pool of plain nodes),
gets one row per node and dimension (``fleet fleet.k8s node 2 GPUs``), and a
workload group gets one option per place it can go:

- a single-node group: one option per fleet node, taking exactly its requests
  (GPUs, CPUs — one when it asks for none and the fleet has no GPUs — memory)
  from that node;
- a multi-node group of ``n`` pods: as many pods per node as fit (``p``), on
  ``ceil(n / p)`` consecutive nodes starting at each node in turn, each node
  taking the requests of the pods it holds.

So no node is ever over-committed, whatever mix of sizes shares the fleet
(six- and two-GPU jobs pair up on eight-GPU nodes, where summed and rounded
capacity would not admit them), and an infeasible packing names the nodes that
are full. The consecutive windows keep the option count linear in the fleet's
nodes; the nodes of one entry are alike, so a window stands for any choice of
that many nodes. Entries without any per-node resources count whole nodes.

Cloud reservations (``capacity.is_reserved_instances``) are already exact: each
workload node takes one whole reserved instance.
"""

from __future__ import annotations

import math

from skyplan.config.model import FleetCapacity, Resources


def node_dims(rows, what: str, cap: FleetCapacity) -> list[dict]:
    """The rows of each node of one entry: [{dimension: Row}] per node."""
    out = []
    for j in range(cap.nodes):
        where = what if cap.name else f"{what} node {j + 1}"  # a named entry is that one node
        dims = {}
        if cap.accelerator:
            dims["gpu"] = rows._add(f"{where} {cap.accelerator}", float(cap.per_node), cap.accelerator)
        if cap.cpus_per_node:
            dims["cpu"] = rows._add(f"{where} CPUs", float(cap.cpus_per_node), "CPUs")
        if cap.memory_per_node:
            dims["mem"] = rows._add(f"{where} memory", float(cap.memory_per_node), "GiB")
        if not dims:
            dims["node"] = rows._add(f"{where}", 1.0, "nodes")
        out.append(dims)
    return out


def pod_needs(cap: FleetCapacity, res: Resources) -> dict[str, float] | None:
    """What one pod of ``res`` takes per dimension of a node of ``cap``, or None when it does not fit one."""
    need: dict[str, float] = {}
    if res.accelerators:
        if not cap.accelerator:
            return None
        counts = [a.count for a in res.accelerators if a.name == cap.accelerator and a.count <= cap.per_node]
        if not counts:
            return None
        need["gpu"] = float(min(counts))
    elif cap.accelerator:
        return None
    cpus = res.cpus.value if res.cpus else None
    mem = res.memory.value if res.memory else None
    if cap.cpus_per_node:
        if cpus and cpus > cap.cpus_per_node:
            return None
        need["cpu"] = float(cpus or (0.0 if cap.accelerator else 1.0))
    if cap.memory_per_node:
        if mem and mem > cap.memory_per_node:
            return None
        if mem:
            need["mem"] = float(mem)
    if not (cap.accelerator or cap.cpus_per_node or cap.memory_per_node):
        need["node"] = 1.0
    return {k: v for k, v in need.items() if v > 0}


def per_node(cap: FleetCapacity, need: dict[str, float]) -> int:
    """How many pods of ``need`` one node holds."""
    limits = {"gpu": cap.per_node, "cpu": cap.cpus_per_node, "mem": cap.memory_per_node, "node": 1.0}
    fits = [int(float(limits[d]) // v) for d, v in need.items() if limits.get(d)]
    return max(1, min(fits)) if fits else 1


def placements(nodes: list[dict], cap: FleetCapacity, res: Resources, pods: int) -> list[tuple[int, tuple]]:
    """(first node index, usage) for every place a group of ``pods`` pods fits."""
    need = pod_needs(cap, res)
    if need is None:
        return []
    if not need:  # asks for nothing this fleet counts: any node holds it
        return [(j, ()) for j in range(len(nodes))]
    p = per_node(cap, need)
    span = math.ceil(pods / p)
    if span > len(nodes):
        return []
    out = []
    for j in range(len(nodes) if span < len(nodes) else 1):
        usage, left = [], pods
        for step in range(span):
            here = min(p, left)
            left -= here
            dims = nodes[(j + step) % len(nodes)]
            usage += [(dims[d].id, v * here) for d, v in need.items()]
        out.append((j, tuple(usage)))
    return out

"""Capacity rows: provider quotas, fleet capacity and group budgets, and what each option uses.

A *row* is one ``sum(usage * groups) <= limit`` constraint shared by every item
that can use it. Quotas come from provider blocks (per region glob or global,
counting one accelerator's GPUs or vCPUs); fleets contribute rows per capacity
entry (accelerators, CPUs, memory, or nodes); each live cluster node offered by
a provider of NODE_KINDS bounds the requests of the pods packed onto it (CPUs,
memory, accelerators), so a plan never stacks more on a node than it holds.
The local machine is not bounded: its workloads are processes that share it.
A group budget (a mandatory policy capping several workloads' $/h together) is
a row too: each group of a covered workload uses its option's hourly cost of it,
so the workloads under one are coupled like users of one quota.

Fleet packing is exact per node (``fleet_packing``): every fleet node has its
own rows and a group takes slots of the nodes it is packed onto; a cloud
reservation's workload nodes each take one whole reserved instance. The older
aggregate model (``Rows(exact=False)``, kept to measure against in
bench/solver_scale.py) counts each capacity entry in sum with one rounding: a
node needing ``a`` accelerators on fleet nodes of ``P`` uses ``P / floor(P / a)``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping, Sequence

from skyplan.catalog.offer import Offer
from skyplan.config.model import Fleet, FleetCapacity, ProviderConfig, Resources
from skyplan.solver.fleet_packing import node_dims, placements
from skyplan.solver.items import Item, Option, glob_any, provider_allowed, region_allowed


NODE_KINDS = ("kubernetes",)  # offers that are single live nodes with allocatable resources


@dataclass(frozen=True)
class Row:
    id: int
    label: str  # for messages: "quota aws H100 in us-*"
    limit: float
    unit: str  # H100 | vcpus | GPUs | CPUs | GiB | nodes


class Rows:
    """Every capacity row of one problem, with the per-option usage lookup."""

    def __init__(self, providers: Mapping[str, ProviderConfig], fleets: Mapping[str, Fleet],
                 offers: Mapping[str, Sequence[Offer]] | None = None, exact: bool = True):
        self.rows: list[Row] = []
        self.budget_of: dict[int, object] = {}  # row id -> its GroupBudget (add_budgets)
        self.budget_rows: dict[str, list[int]] = {}  # address -> the budget rows over it
        self.exact = exact  # per-node fleet packing (fleet_packing); False: summed per entry (the old model)
        # (fleet address, entry index) -> [{dimension: Row}] per node, with exact packing
        self.fleet_nodes: dict[tuple[str, int], list[dict[str, Row]]] = {}
        self.quotas: dict[str, list[tuple[Row, str, str | None]]] = {}
        self._matched: dict[tuple[str, str], bool] = {}
        for key in sorted(providers):
            for q in providers[key].quotas:
                where = f" in {q.region}" if q.region else ""
                row = self._add(f"quota {key} {q.resource}{where}", float(q.max), q.resource)
                self.quotas.setdefault(key, []).append((row, q.resource.lower(), q.region))
        # fleet address -> [(entry index, capacity, {dimension: row})]
        self.fleet_entries: dict[str, list[tuple[int, FleetCapacity, dict[str, Row]]]] = {}
        for address in sorted(fleets):
            fleet = fleets[address]
            entries = fleet.capacity if fleet.existing else provisioned_capacity(fleet)
            for k, cap in enumerate(entries):
                dims: dict[str, Row] = {}
                what = f"fleet {address}" + (f" node {cap.name}" if cap.name else
                                             f" entry {k + 1}" if len(entries) > 1 else "")
                if is_reserved_instances(fleet):
                    # a cloud reservation holds whole instances: each workload node takes one
                    itype = f" {fleet.instance_type}" if fleet.instance_type else ""
                    state = f" (reservation {fleet.reservation_state})" if fleet.reservation_state not in (
                        None, "active") else ""
                    dims["node"] = self._add(f"{what} reserved{itype} instances{state}", float(cap.nodes),
                                             "instances")
                    self.fleet_entries.setdefault(address, []).append((k, cap, dims))
                    continue
                if exact:
                    self.fleet_nodes[(address, k)] = node_dims(self, what, cap)
                    self.fleet_entries.setdefault(address, []).append((k, cap, dims))
                    continue
                if cap.accelerator:
                    dims["gpu"] = self._add(f"{what} {cap.accelerator}", cap.per_node * cap.nodes, cap.accelerator)
                if cap.cpus_per_node:
                    dims["cpu"] = self._add(f"{what} CPUs", cap.cpus_per_node * cap.nodes, "CPUs")
                if cap.memory_per_node:
                    dims["mem"] = self._add(f"{what} memory", cap.memory_per_node * cap.nodes, "GiB")
                if not dims:
                    dims["node"] = self._add(f"{what} nodes", float(cap.nodes), "nodes")
                self.fleet_entries.setdefault(address, []).append((k, cap, dims))

        # live cluster nodes: (provider key, node name) -> {dimension: row}
        self.nodes: dict[tuple[str, str], dict[str, Row]] = {}
        # nodes of one cluster with the same shape, as one pool: (key, node name) -> {dimension: row}
        self.pools: dict[tuple[str, str], dict[str, Row]] = {}
        self.covered: dict[int, int] = {}  # a node's row id -> the row id of its pool, same dimension
        shapes: dict[tuple, list[Offer]] = {}
        for key in sorted(offers or {}):
            for o in (offers or {})[key]:
                if o.provider not in NODE_KINDS or (key, o.instance_type) in self.nodes:
                    continue
                what = f"node {key}/{o.instance_type}"
                dims = {"cpu": self._add(f"{what} CPUs", o.vcpus, "CPUs"),
                        "mem": self._add(f"{what} memory", o.memory_gib, "GiB")}
                if o.accelerator:
                    dims["gpu"] = self._add(f"{what} {o.accelerator}", o.accelerator_count, o.accelerator)
                self.nodes[(key, o.instance_type)] = dims
                shapes.setdefault((key, o.accelerator, o.accelerator_count, o.vcpus, o.memory_gib), []).append(o)
        for (key, acc, count, vcpus, mem), members in shapes.items():
            n = len(members)
            what = f"{n} node{'s' if n > 1 else ''} {key}/{members[0].instance_type}" + (" and alike" if n > 1 else "")
            dims = {"cpu": self._add(f"{what} CPUs", vcpus * n, "CPUs"),
                    "mem": self._add(f"{what} memory", mem * n, "GiB")}
            if acc:
                dims["gpu"] = self._add(f"{what} {acc}", count * n, acc)
            for o in members:
                self.pools[(key, o.instance_type)] = dims
                for dim, row in self.nodes[(key, o.instance_type)].items():
                    self.covered[row.id] = dims[dim].id

    def add_budgets(self, budgets) -> None:
        """One row per group budget (skyplan.solver.problem.GroupBudget), in $/h: a
        group of each workload it covers uses its option's hourly cost of it."""
        for b in budgets:
            row = self._add(f'budget of policy "{b.name}"', float(b.limit), "$/h")
            self.budget_of[row.id] = b
            for address in b.addresses:
                self.budget_rows.setdefault(address, []).append(row.id)

    def with_budget(self, address: str, pairs: list[tuple]) -> list[tuple]:
        """(option, usage) pairs of ``address`` with its budget rows added to each usage."""
        ids = self.budget_rows.get(address)
        if not ids:
            return pairs
        return [(o, tuple(u) + tuple((r, o.group_hourly) for r in ids) if o.group_hourly > 0 else u) for o, u in pairs]

    def _in(self, region: str, pattern: str) -> bool:
        hit = self._matched.get((region, pattern))
        if hit is None:
            hit = self._matched[(region, pattern)] = glob_any(region, (pattern,))
        return hit

    def _add(self, label: str, limit: float, unit: str) -> Row:
        row = Row(len(self.rows), label, limit, unit)
        self.rows.append(row)
        return row

    def usage(self, option: Option, res: Resources) -> tuple[tuple[int, float], ...]:
        """(row id, usage) pairs of one group placed on ``option``."""
        if option.fleet is not None:
            return fleet_usage(self.fleet_entries[option.fleet][option.fleet_entry], res, option.nodes) or ()
        node = self.nodes.get((option.provider, option.instance_type))
        if node is not None:
            return node_usage(node, self.pools[(option.provider, option.instance_type)], option.offer, res,
                              option.nodes)
        out = []
        for row, resource, region in self.quotas.get(option.provider, ()):
            if region is not None and not self._in(option.region, region):
                continue
            offer = option.offer
            if resource == "vcpus":
                amount = offer.vcpus
            elif offer.accelerator and offer.accelerator.lower() == resource:
                amount = offer.accelerator_count
            else:
                continue
            if amount:
                out.append((row.id, amount * option.nodes))
        return tuple(out)


def node_usage(dims: dict[str, Row], pool: dict[str, Row], offer: Offer, res: Resources,
               nodes: int) -> tuple[tuple[int, float], ...]:
    """What a group of ``nodes`` pods of ``res`` (one CPU when a workload asks
    for none) takes from the cluster node it is placed on and from that node's
    pool (the cluster's nodes of the same shape). A single pod takes its
    requests from both. The pods of a multi-node group are not bound to one
    node: as many as fit go on the chosen node, and the whole group is counted
    against the pool with each pod's GPUs rounded up to the share of a node it
    leaves unusable (five GPUs of an eight-GPU node count as eight), so a group
    never needs more nodes than the pool has."""
    cpu = res.cpus.value if res.cpus else 1.0
    mem = res.memory.value if res.memory else 0.0
    gpu = 0.0
    if "gpu" in dims and res.accelerators:
        gpu = float(min(a.count for a in res.accelerators if a.name == offer.accelerator))
    here = nodes
    if nodes > 1:
        fits = [int(cap // need) for cap, need in ((offer.vcpus, cpu), (offer.memory_gib, mem),
                                                   (offer.accelerator_count, gpu)) if need > 0]
        here = max(1, min([nodes] + fits))
        if gpu and offer.accelerator_count:
            gpu_share = offer.accelerator_count / max(1, int(offer.accelerator_count // gpu))
        else:
            gpu_share = gpu
    out = [(dims["cpu"].id, cpu * here), (pool["cpu"].id, cpu * nodes)]
    if mem:
        out += [(dims["mem"].id, mem * here), (pool["mem"].id, mem * nodes)]
    if gpu:
        out += [(dims["gpu"].id, gpu * here), (pool["gpu"].id, (gpu_share if nodes > 1 else gpu) * nodes)]
    return tuple(out)


def provisioned_capacity(fleet: Fleet) -> tuple[FleetCapacity, ...]:
    """What a provisioned fleet offers once up: its declared per-node resources,
    on as many nodes as are free (all of them until refresh reads its reservation)."""
    res = fleet.resources
    acc = res.accelerators[0] if res.accelerators else None
    nodes = max(1, int(fleet.nodes or 1))
    if fleet.free_nodes is not None:  # live: what its reservation still has free for workloads
        nodes = min(nodes, max(0, fleet.free_nodes))
    return (FleetCapacity(acc.name if acc else None, acc.count if acc else 0, nodes,
                          res.cpus.value if res.cpus else None, res.memory.value if res.memory else None),)


def fleet_usage(entry, res: Resources, nodes: int) -> tuple[tuple[int, float], ...] | None:
    """Per-group usage of one fleet capacity entry, or None when a node does not fit."""
    _, cap, dims = entry
    out: list[tuple[int, float]] = []
    if res.accelerators:
        if not cap.accelerator:
            return None
        counts = [a.count for a in res.accelerators if a.name == cap.accelerator and a.count <= cap.per_node]
        if not counts:
            return None
        need = min(counts)
        if "gpu" in dims:
            out.append((dims["gpu"].id, cap.per_node / (cap.per_node // need) * nodes))
    elif cap.accelerator:
        return None
    cpus = res.cpus.value if res.cpus else None
    mem = res.memory.value if res.memory else None
    if cap.cpus_per_node and cpus and cpus > cap.cpus_per_node:
        return None
    if cap.memory_per_node and mem and mem > cap.memory_per_node:
        return None
    if "cpu" in dims:
        out.append((dims["cpu"].id, _share(cap.cpus_per_node, cpus or (0.0 if cap.accelerator else 1.0)) * nodes))
    if "mem" in dims and mem:
        out.append((dims["mem"].id, _share(cap.memory_per_node, mem) * nodes))
    if "node" in dims:
        out.append((dims["node"].id, float(nodes)))
    return tuple(out)


def is_reserved_instances(fleet: Fleet) -> bool:
    """Whether the fleet is a cloud reservation of whole instances (an AWS
    capacity reservation), provisioned or brought, rather than a pool of slots."""
    return bool(fleet.reservation or (fleet.existing and fleet.reservation_id))


def block_too_short(fleet: Fleet, hours: float) -> bool:
    """Whether a provisioned Capacity Block is bought for fewer hours than a
    workload of ``hours`` runs (it could not finish in the block)."""
    return (not fleet.existing and fleet.reservation == "capacity_block" and bool(fleet.duration_hours)
            and hours > float(fleet.duration_hours) + 1e-9)


def starts_late(fleet: Fleet, start_by: str | None) -> bool:
    """Whether ``fleet`` is a Capacity Block that starts holding its instances
    after ``start_by`` (RFC 3339 both): a workload that must start by then does
    not wait for it."""
    return bool(start_by and fleet.starts_at) and _when(fleet.starts_at) > _when(start_by)


def late_note(address: str, fleet: Fleet, start_by: str) -> str:
    return f"not on {address}: its Capacity Block starts {fleet.starts_at}, after start_by {start_by}"


def _when(text: str) -> dt.datetime:
    t = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def _share(per_node: float, need: float) -> float:
    """What one request of ``need`` takes from nodes of ``per_node``: the part of a
    node it leaves unusable (10 CPUs of a 16-CPU node take all 16, as only one fits)."""
    if not need:
        return 0.0
    fit = int(per_node // need)
    return per_node / fit if fit else need


def fleet_name(address: str) -> str:
    return address[len("fleet."):] if address.startswith("fleet.") else address


def _eligible(item: Item, fleets: Mapping[str, Fleet], providers: Mapping[str, ProviderConfig]):
    """The fleets ``item`` may go onto, each with its provider kind and region: the
    one it names, else every existing fleet its provider and region lists admit."""
    spec = item.placement
    if spec.fleet:
        names = [spec.fleet] if spec.fleet in fleets else []
    else:
        names = [a for a in sorted(fleets) if fleets[a].existing]
    for address in names:
        fleet = fleets[address]
        cfg = providers.get(fleet.provider or "")
        kind = cfg.kind if cfg else (fleet.provider or "-").split(".")[0]
        region = fleet.region or (cfg.regions[0] if cfg and cfg.regions else "-")
        if not spec.fleet:
            if not fleet.provider or not provider_allowed(fleet.provider, kind, spec):
                continue
            if fleet.region and not region_allowed(fleet.region, None, spec):
                continue
        yield address, kind, region


def late_fleets(item: Item, fleets: Mapping[str, Fleet], providers: Mapping[str, ProviderConfig]) -> list[str]:
    """The fleets ``item`` could go onto but does not, their Capacity Blocks
    starting after its ``start_by`` (the one it names first)."""
    if not item.start_by or item.kind == "fleet":
        return []
    out = [item.late_fleet] if item.late_fleet else []
    return out + [a for a, _, _ in _eligible(item, fleets, providers)
                  if a not in out and starts_late(fleets[a], item.start_by)]


def fleet_options(item: Item, rows: Rows, fleets: Mapping[str, Fleet],
                  providers: Mapping[str, ProviderConfig]) -> list[tuple[Option, tuple]]:
    """Fleet slots ``item`` may use, each with its usage. A workload naming a
    fleet uses only that fleet; others may fill any existing fleet that their
    provider and region allow lists admit. Marginal cost is 0."""
    if item.kind == "fleet":
        return []
    out = []
    for address, kind, region in _eligible(item, fleets, providers):
        fleet = fleets[address]
        zone = fleet.zone
        itype = fleet.instance_type or f"fleet:{fleet_name(address)}"
        if not fleet.existing:
            region, zone, kind = "-", None, "fleet:" + address  # known once the fleet itself is placed
        if fleet.hours_left is not None and item.hours > fleet.hours_left + 1e-9 or block_too_short(fleet, item.hours):
            continue  # a Capacity Block ends before this workload would
        if starts_late(fleet, item.start_by):
            continue  # it starts after the workload must have started
        for entry in rows.fleet_entries.get(address, ()):
            per_node = rows.fleet_nodes.get((address, entry[0]))
            if per_node is not None:  # exact: one option per node (or window of nodes) it fits on
                where = placements(per_node, entry[1], item.resources, item.nodes)
            else:
                usage = fleet_usage(entry, item.resources, item.nodes)
                where = [] if usage is None else [(-1, usage)]
            cap = entry[1]
            node_type = cap.name or itype  # a live cluster node: the group goes onto that node
            counts = [a.count for a in item.resources.accelerators if a.name == cap.accelerator]
            acc = f"{cap.accelerator}:{min(counts)}" if counts else None  # what each workload node asks for
            for node, usage in where:
                opt = Option(fleet.provider or "-", kind, region, zone, node_type, "reserved",
                             0.0, item.nodes, 0.0, 0.0, fleet=address, fleet_entry=entry[0], accelerators=acc,
                             vcpus=cap.cpus_per_node or 0.0, memory_gib=cap.memory_per_node or 0.0,
                             reservation=fleet.reservation_id if fleet.existing else None, fleet_node=node)
                out.append((opt, usage))
    return out

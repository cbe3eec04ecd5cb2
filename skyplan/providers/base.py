"""The provider interface: what every cloud, cluster and the local machine implements.

Keep it this small. Optional abilities are runtime-checkable Protocols
(e.g. ``SupportsImport``), never ``if name == "aws"`` in the core.

Failure contract (every implementation documents its own in each method):
create raises CapacityError / QuotaError / TransientError / AuthError /
ProviderError; when it raises, nothing it launched is left running *or* what
was left carries the address and lineage tags so refresh finds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Protocol, Sequence, runtime_checkable

from skyplan.catalog.offer import Offer
from skyplan.config.model import BlockQuote
from skyplan.solver.model import Placement

TAG_ADDRESS = "skyplan:address"
TAG_LINEAGE = "skyplan:lineage"
TAG_GROUP = "skyplan:group"  # replica group index
TAG_RANK = "skyplan:rank"  # node rank within the group
TAG_AUTOSTOP = "skyplan:autostop"  # the idle window ("2h") of a node that stops itself
STOPPED_BY_AUTOSTOP = "autostop"  # Instance.attributes["stopped_by"] of a node its idle timer stopped


@dataclass(frozen=True)
class LaunchRequest:
    """Launch one node group: ``placement.nodes`` nodes of one replica of ``address``."""

    address: str
    lineage: str
    group: int  # replica index
    placement: Placement
    kind: str = "job"  # job | service
    image: str | None = None
    setup: str | None = None
    run: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[int, ...] = ()
    accelerators: str | None = None  # "H100:8" per node
    cpus: float | None = None
    memory_gib: float | None = None
    disk_gb: int | None = None
    workdir: str | None = None  # the config folder (local provider runs there)
    token: str = ""  # one launch's idempotency token: the same for every retry of it
    # A fleet held by its cloud: reserve the group's nodes ("odcr", "capacity_block")
    # for ``reserve_hours`` (None: until deleted) instead of launching them.
    reserve: str | None = None
    reserve_hours: float | None = None
    reserve_start: str | None = None  # a Capacity Block's earliest start (ISO 8601; None: now)
    reservation_id: str | None = None  # launch the nodes into this cloud reservation (a fleet's)
    autostop: int | None = None  # seconds idle after which the node stops itself (see bootscript.py)
    # The workload's or fleet's own tags over its provider's ``default_tags``: every
    # object the provider creates carries them beside skyplan's own ``skyplan:*`` tags.
    user_tags: Mapping[str, str] = field(default_factory=dict)

    def tags(self) -> dict[str, str]:
        """The user's tags, then skyplan's own (which they can never override)."""
        own = {TAG_ADDRESS: self.address, TAG_LINEAGE: self.lineage, TAG_GROUP: str(self.group)}
        return {**{k: v for k, v in self.user_tags.items() if not k.startswith("skyplan:")}, **own}


# Node states a provider reports that mean the node no longer exists or serves.
GONE_STATES = frozenset({"terminated", "deleted", "shutting-down", "gone"})
PREEMPTED = "preempted"  # a spot node its provider stopped to take the capacity back; it cannot be started


@dataclass(frozen=True)
class Instance:
    """One node as a provider reports it."""

    provider: str  # provider key
    id: str
    address: str
    lineage: str
    group: int = 0
    rank: int = 0
    region: str = ""
    zone: str | None = None
    instance_type: str = ""
    pricing: str = "on_demand"
    state: str = "running"  # pending | running | stopped | succeeded | failed | terminated
    tags: Mapping[str, str] = field(default_factory=dict)
    attributes: Mapping[str, Any] = field(default_factory=dict)  # ip, exit_code, started_at, ...

    @property
    def ip(self) -> str | None:
        """The address other nodes reach this one at (``workload.head.ip``): the
        provider's ``ip`` attribute, else its private address, else its public one,
        else its DNS name (Kubernetes Services); None while it has none."""
        for key in ("ip", "private_ip", "public_ip", "dns_name"):
            value = self.attributes.get(key)
            if value:
                return str(value)
        return None

    def to_json(self) -> dict:
        return {
            "provider": self.provider, "id": self.id, "address": self.address, "lineage": self.lineage,
            "group": self.group, "rank": self.rank, "region": self.region, "zone": self.zone,
            "instance_type": self.instance_type, "pricing": self.pricing, "state": self.state,
            "tags": dict(self.tags), "attributes": dict(self.attributes),
        }

    @classmethod
    def from_json(cls, d: Mapping) -> "Instance":
        return cls(**{k: d[k] for k in (
            "provider", "id", "address", "lineage", "group", "rank", "region", "zone",
            "instance_type", "pricing", "state", "tags", "attributes") if k in d})


@runtime_checkable
class Provider(Protocol):
    name: str  # the provider key

    def offers(self) -> Iterable[Offer]:
        """Catalog offers for this provider's regions (live where the provider can)."""

    def create(self, req: LaunchRequest) -> list[Instance]:
        """Launch ``req.placement.nodes`` nodes and wait until they run."""

    def list_managed(self, lineage: str) -> list[Instance]:
        """Every live object carrying ``lineage``: one list call per region/namespace."""

    def update(self, inst: Instance, changes: Mapping[str, Any]) -> Instance:
        """Change what can change in place (tags, env of a service, stop/start)."""

    def delete(self, insts: Sequence[Instance]) -> None:
        """Terminate and wait. Deleting something already gone is not an error."""


@runtime_checkable
class SupportsImport(Protocol):
    def read(self, provider_id: str) -> Instance:
        """Describe one existing object by provider id (for ``skyplan import``)."""


@runtime_checkable
class SupportsNetworks(Protocol):
    """A provider whose nodes need network objects per region that skyplan creates
    (Azure: resource group, security group, virtual network, subnet). Each piece is a
    state record of kind ``network``; the planner names them with the pure
    ``providers.network_pieces`` and apply creates them before, and deletes them after,
    the nodes that use them."""

    def network_pieces(self, region: str) -> Sequence[Any]:
        """The pieces (``.address``, ``.depends_on``, ``.attributes()``) a node in ``region`` needs."""

    def ensure_network(self, piece: Any, lineage: str) -> Mapping[str, Any]:
        """Create ``piece`` when missing; its attributes plus ``id`` and ``created``."""

    def delete_network(self, attributes: Mapping[str, Any]) -> str:
        """Delete a piece skyplan created; leave one it found existing. Says what it did."""


@runtime_checkable
class SupportsCommands(Protocol):
    def run_command(self, inst: Instance, command: str, timeout: float) -> tuple[int, str]:
        """Run ``command`` on the node (a readiness probe): (exit code, last line of output)."""


@runtime_checkable
class SupportsLogs(Protocol):
    def logs(self, inst: Instance, follow: bool = False) -> Iterable[str]:
        """Lines of the node's output."""


@dataclass(frozen=True)
class ReservationInfo:
    """One cloud capacity reservation as its cloud describes it now: ``total``
    instances of ``instance_type`` in ``zone``, ``available`` of them not in use."""

    id: str
    region: str
    zone: str
    instance_type: str
    total: int
    available: int
    state: str  # the cloud's word: active, cancelled, expired, ...
    end_date: str | None = None
    start_date: str | None = None
    kind: str = "default"  # "capacity-block": a Capacity Block for ML, bounded by start and end

    @property
    def usable(self) -> bool:
        return self.state == "active"


@runtime_checkable
class SupportsBlockOfferings(Protocol):
    def block_offerings(self, region: str, instance_type: str, count: int, hours: float,
                        start: str | None = None) -> "list[BlockQuote]":
        """The Capacity Block offerings of ``count`` x ``instance_type`` for ``hours``
        hours in ``region``, starting at ``start`` (RFC 3339) or later. Read-only."""


@runtime_checkable
class SupportsReservations(Protocol):
    def describe_reservation(self, reservation_id: str) -> "ReservationInfo | None":
        """The reservation ``reservation_id`` in any state, or None if the cloud has none by that id."""

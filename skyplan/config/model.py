"""The desired graph: what the configuration asks for, fully evaluated.

These frozen values are the config package's output and every later stage's
input. Nothing here knows about HCL; the loader builds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from skyplan.addrs import Address
from skyplan.errors import SourceRange

PRICING_MODELS = ("on_demand", "spot", "reserved")
PROVIDER_KINDS = ("aws", "gcp", "azure", "kubernetes", "local")


class Unknown:
    """A value only known after apply (an IP, a provider id). Propagates through
    expressions; rendered as ``(known after apply)``. Use the UNKNOWN singleton."""

    _instance: "Unknown | None" = None

    def __new__(cls) -> "Unknown":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "(known after apply)"

    def __reduce__(self):
        return (Unknown, ())


UNKNOWN = Unknown()


@dataclass(frozen=True)
class AcceleratorReq:
    """``H100:8`` -> name "H100" (canonical), count 8 per node."""

    name: str
    count: int = 1

    def __str__(self) -> str:
        return f"{self.name}:{self.count}"


@dataclass(frozen=True)
class Quantity:
    """``"8+"`` -> Quantity(8, at_least=True); ``16`` -> Quantity(16, at_least=False)."""

    value: float
    at_least: bool = True

    def admits(self, have: float) -> bool:
        return have >= self.value if self.at_least else abs(have - self.value) < 1e-9

    def __str__(self) -> str:
        v = int(self.value) if float(self.value).is_integer() else self.value
        return f"{v}+" if self.at_least else f"{v}"


ARCHES = ("x86_64", "arm64", "any")
DEFAULT_ARCH = "x86_64"


@dataclass(frozen=True)
class Resources:
    """Per-node requirements. ``accelerators`` is an any-of list (empty: none needed).

    ``arch`` is the CPU architecture asked for: "x86_64", "arm64" or "any"; None
    when the configuration does not say, which means x86_64 (``effective_arch``),
    except that a named instance type is taken as it is and this machine (the
    local provider) runs what it is."""

    accelerators: tuple[AcceleratorReq, ...] = ()
    cpus: Quantity | None = None
    memory: Quantity | None = None  # GiB
    disk_gb: int | None = None
    instance_type: str | None = None
    arch: str | None = None

    @property
    def effective_arch(self) -> str:
        return self.arch or DEFAULT_ARCH

    def to_json(self) -> dict:
        out = {
            "accelerators": [str(a) for a in self.accelerators],
            "cpus": str(self.cpus) if self.cpus else None,
            "memory": str(self.memory) if self.memory else None,
            "disk_gb": self.disk_gb,
            "instance_type": self.instance_type,
        }
        if self.arch is not None:  # only when set, so configurations that do not say diff as before
            out["arch"] = self.arch
        return out


@dataclass(frozen=True)
class PlacementSpec:
    """Where a workload may run. Region and zone entries are globs (``us-*``)."""

    providers: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()
    exclude_regions: tuple[str, ...] = ()
    exclude_zones: tuple[str, ...] = ()
    fleet: str | None = None  # a fleet address, e.g. "fleet.pool"
    spread: str | None = None  # "zone" | "region" | "provider"
    colocate_with: str | None = None  # a workload address


@dataclass(frozen=True)
class Lifecycle:
    prevent_destroy: bool = False
    ignore_changes: tuple[str, ...] = ()
    create_before_destroy: bool = False
    retry_failed: bool = True  # a job that failed is planned again (replaced) by the next plan


@dataclass(frozen=True)
class Quota:
    """At most ``max`` of ``resource`` (a canonical accelerator name, or "vcpus") in
    ``region`` (a glob; None = summed over all regions of the provider)."""

    resource: str
    max: float
    region: str | None = None


@dataclass(frozen=True)
class ProviderConfig:
    """A ``provider`` block. ``key`` is ``aws`` or ``aws.ALIAS``."""

    kind: str
    alias: str | None = None
    regions: tuple[str, ...] = ()
    quotas: tuple[Quota, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)  # profile, endpoint_url, namespace, kubeconfig, context, max_parallel, price, ...
    source: SourceRange | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}.{self.alias}" if self.alias else self.kind


@dataclass(frozen=True)
class Workload:
    """One workload instance (after count/for_each expansion)."""

    address: Address
    kind: str = "job"  # "job" | "service"
    resources: Resources = Resources()
    num_nodes: int = 1
    replicas: int = 1
    pricing: tuple[str, ...] = ("on_demand",)
    duration_hours: float | None = None
    max_hourly_cost: float | None = None
    data_gb: float = 0.0
    placement: PlacementSpec = PlacementSpec()
    image: str | None = None
    setup: str | None = None
    run: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[int, ...] = ()
    autostop: str | None = None  # idle time after which the node stops itself ("2h"); services only
    depends_on: tuple[Address, ...] = ()  # explicit depends_on + references, resolved
    lifecycle: Lifecycle = Lifecycle()
    sensitive_paths: tuple[str, ...] = ()  # attribute paths whose value came from sensitive input
    source: SourceRange | None = None
    tags: Mapping[str, str] = field(default_factory=dict)  # the team's own tags; providers add default_tags
    readiness: Any = None  # config.service.Readiness of a service, or None
    update: Any = None  # config.service.UpdateStrategy of a service, or None
    spot: Any = None  # config.service.SpotBase of a service, or None
    # RFC 3339: the latest time it may start; a Capacity Block that starts later is not waited for
    start_by: str | None = None
    deadline: Any = None  # config.deadline.DeadlineSpec (deadline, changeover, recovery), or None

    def attributes(self) -> dict:
        """The configuration view of this workload: what the planner diffs and
        what apply hands to the provider. Plain JSON data."""
        from skyplan.config.service import service_attributes

        out = {**service_attributes(self),
            "kind": self.kind,
            "resources": self.resources.to_json(),
            "num_nodes": self.num_nodes,
            "replicas": self.replicas,
            "pricing": list(self.pricing),
            "duration_hours": self.duration_hours,
            "max_hourly_cost": self.max_hourly_cost,
            "data_gb": self.data_gb,
            "image": self.image,
            "setup": self.setup,
            "run": self.run,
            "env": dict(self.env),
            "ports": list(self.ports),
            # only when set, so configurations without it diff as before
            **({"autostop": self.autostop} if self.autostop else {}),
            **({"start_by": self.start_by} if self.start_by else {}),
        }
        if self.deadline is not None:  # only when written, so jobs without a deadline diff as before
            out.update(self.deadline.attributes())
        if self.tags:  # only when set, so configurations without tags diff as before
            out["tags"] = dict(self.tags)
        return out


@dataclass(frozen=True)
class FleetCapacity:
    """Capacity of an existing fleet: ``nodes`` nodes, each with ``per_node`` of
    ``accelerator`` (None for CPU-only) and optionally cpus/memory per node."""

    accelerator: str | None
    per_node: int
    nodes: int
    cpus_per_node: float | None = None
    memory_per_node: float | None = None
    name: str | None = None  # the one node an entry read from a live cluster stands for


@dataclass(frozen=True)
class BlockQuote:
    """A Capacity Block offering the cloud sells now, read at plan time: ``count``
    instances of ``instance_type`` in ``zone`` for ``hours`` hours, from
    ``starts_at`` to ``ends_at`` (RFC 3339), for ``upfront_fee`` paid once."""

    region: str
    zone: str
    instance_type: str
    count: int
    hours: float
    upfront_fee: float
    starts_at: str
    ends_at: str
    currency: str = "USD"
    later: bool = False  # it starts after the plan is made: workloads on it wait for starts_at


@dataclass(frozen=True)
class Fleet:
    """A pool of capacity: existing (only placed onto) or provisioned by skyplan."""

    address: Address
    provider: str | None = None  # provider key
    existing: bool = False
    capacity: tuple[FleetCapacity, ...] = ()
    hourly_cost: float = 0.0  # for existing fleets: already paid, marginal cost 0
    region: str | None = None
    nodes: int = 0  # provisioned fleets
    resources: Resources = Resources()
    pricing: tuple[str, ...] = ("reserved",)
    placement: PlacementSpec = PlacementSpec()
    depends_on: tuple[Address, ...] = ()
    lifecycle: Lifecycle = Lifecycle()
    source: SourceRange | None = None
    # how the cloud holds the capacity: "odcr" | "capacity_block" | None (plain nodes)
    reservation: str | None = None
    reservation_id: str | None = None  # an existing fleet's cloud reservation (aws: cr-...)
    duration_hours: float | None = None  # a provisioned reservation's lifetime (None: until destroyed)
    start: str | None = None  # earliest start of a capacity block, ISO 8601
    keep: bool = False  # buy it even when its workloads would cost less bought directly
    # Read from the cloud at refresh (brought or provisioned reservations): where
    # the reserved instances are and of what type; None until known.
    instance_type: str | None = None
    zone: str | None = None
    free_nodes: int | None = None  # of a provisioned reservation: instances workloads may take now
    reservation_state: str | None = None  # of a brought reservation: active, cancelled, expired, ...
    hours_left: float | None = None  # of a brought Capacity Block: hours from now (or its start) to its end
    # RFC 3339: when a Capacity Block starts holding its instances, when that is after
    # the plan (read at refresh, or the block to buy's start); None: it holds them now
    starts_at: str | None = None
    # of a Capacity Block to buy: the offerings the cloud sells for it, read at plan
    # time (None: not asked, priced at the catalog's list price as an estimate)
    offerings: tuple[BlockQuote, ...] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def attributes(self) -> dict:
        out = {
            "reservation": self.reservation,
            "reservation_id": self.reservation_id,
            "duration_hours": self.duration_hours,
            "start": self.start,
            "keep": self.keep,
            "provider": self.provider,
            "existing": self.existing,
            "capacity": [
                {"accelerator": c.accelerator, "per_node": c.per_node, "nodes": c.nodes,
                 "cpus_per_node": c.cpus_per_node, "memory_per_node": c.memory_per_node}
                for c in self.capacity
            ],
            "hourly_cost": self.hourly_cost,
            "region": self.region,
            "nodes": self.nodes,
            "resources": self.resources.to_json(),
            "pricing": list(self.pricing),
        }
        if self.tags:
            out["tags"] = dict(self.tags)
        return out


@dataclass(frozen=True)
class VariableValue:
    name: str
    value: Any
    sensitive: bool = False


@dataclass(frozen=True)
class OutputSpec:
    """An ``output`` block. ``value`` may contain UNKNOWN until apply; ``expression``
    is an opaque evaluated-later handle the config package can re-evaluate with
    known resource attributes (see skyplan.config.evaluate_outputs)."""

    name: str
    value: Any
    sensitive: bool = False
    description: str = ""
    expression: Any = None


@dataclass(frozen=True)
class Settings:
    """The ``skyplan`` block."""

    required_version: str | None = None
    catalog: str | None = None  # path, resolved against the config folder
    max_hourly_cost: float | None = None
    state_backend: str = "sqlite"
    state_path: str | None = None  # resolved; None = <config dir>/.skyplan/state.db
    state_url: str | None = None  # backend "postgres": the database URL (None: SKYPLAN_STATE_URL)
    state_name: str | None = None  # backend "postgres": the state's name in that database
    policy_dirs: tuple[str, ...] = ()  # shared folders of policy blocks, resolved against the config folder
    # caps over groups of workloads the solver keeps (skyplan.solver.problem.GroupBudget); never
    # written in the skyplan block: skyplan.policy.constrain sets them from mandatory policies
    group_budgets: tuple = ()


@dataclass(frozen=True)
class DesiredGraph:
    """Everything the configuration asks for. Keys of the mappings are ``str(address)``."""

    root: str  # the config folder
    settings: Settings = Settings()
    providers: Mapping[str, ProviderConfig] = field(default_factory=dict)
    workloads: Mapping[str, Workload] = field(default_factory=dict)
    fleets: Mapping[str, Fleet] = field(default_factory=dict)
    outputs: Mapping[str, OutputSpec] = field(default_factory=dict)
    variables: Mapping[str, VariableValue] = field(default_factory=dict)
    config_hash: str = ""  # hash of all config files' content + variable values
    # the evaluated configuration, for re-evaluation after apply (skyplan.config.resolve_after_apply)
    evaluation: Any = field(default=None, repr=False, compare=False)
    # where each value was written: owner ("workload.a", "provider.aws", "skyplan") -> attribute
    # path ("resources.accelerators", "regions[1]") -> SourceRange; see source_of()
    positions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, repr=False, compare=False)
    imports: tuple = ()  # config.moves.Import of every import block
    removed: tuple = ()  # config.moves.Removed of every removed block
    moves: tuple = ()  # config.moves.Move of every moved block, addresses prefixed with their module
    policies: tuple = ()  # skyplan.policy.model.Policy of every policy block (the root's and its policy_dirs')

    def source_of(self, owner: str, path: str = ""):
        """The SourceRange of ``path`` in ``owner``'s block (the nearest enclosing attribute
        or block that was written, else the block itself); None when unknown."""
        return source_in(self.positions, owner, path)

    def resources(self) -> dict[str, "Workload | Fleet"]:
        return {**self.fleets, **self.workloads}

    def dependencies(self) -> dict[str, tuple[str, ...]]:
        """address -> addresses it depends on (only addresses present in the graph)."""
        known = self.resources()
        return {a: tuple(str(d) for d in r.depends_on if str(d) in known) for a, r in known.items()}

    def topological_order(self) -> list[str]:
        from graphlib import TopologicalSorter

        return list(TopologicalSorter(self.dependencies()).static_order())


def source_in(positions: Mapping[str, Mapping[str, Any]], owner: str, path: str = ""):
    """``DesiredGraph.source_of`` over a bare positions mapping."""
    table = positions.get(owner)
    if not table:
        return None
    while path:
        if path in table:
            return table[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return table.get("")


def resource_hash(resource: "Workload | Fleet") -> str:
    """A stable hash of one resource's configuration (recorded in state)."""
    import hashlib
    import json

    data = json.dumps(resource.attributes(), sort_keys=True, default=str)
    return hashlib.sha256(data.encode()).hexdigest()[:16]

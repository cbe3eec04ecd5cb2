"""The Plan and its Changes: the value that ``plan`` makes and ``apply`` carries out.

Modelled on Terraform's plan: each Change is an Action plus before/after values
and a reason that is for people only and never drives apply.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Mapping

from skyplan.solver.model import WorkloadPlacement
from skyplan.state.model import ResourceRecord


class Action(str, enum.Enum):
    NOOP = "no-op"
    CREATE = "create"
    UPDATE = "update"
    DELETE_THEN_CREATE = "delete,create"  # replace
    CREATE_THEN_DELETE = "create,delete"  # replace with create_before_destroy
    DELETE = "delete"

    @property
    def actions(self) -> list[str]:
        """Terraform's ``change.actions`` list."""
        return self.value.split(",")

    @property
    def symbol(self) -> str:
        return {"no-op": " ", "create": "+", "update": "~", "delete,create": "-/+",
                "create,delete": "+/-", "delete": "-"}[self.value]

    @property
    def is_replace(self) -> bool:
        return self in (Action.DELETE_THEN_CREATE, Action.CREATE_THEN_DELETE)


@dataclass(frozen=True)
class Change:
    address: str
    action: Action
    kind: str = "workload"  # workload | fleet
    before: Mapping[str, Any] | None = None  # prior attributes (+ "placement")
    after: Mapping[str, Any] | None = None  # desired attributes (+ "placement"); UNKNOWN-free JSON, see after_unknown
    after_unknown: Mapping[str, Any] = field(default_factory=dict)
    before_sensitive: Mapping[str, Any] = field(default_factory=dict)
    after_sensitive: Mapping[str, Any] = field(default_factory=dict)
    replace_paths: tuple[tuple[str, ...], ...] = ()
    update_paths: tuple[tuple[str, ...], ...] = ()  # attribute paths changed in place
    reason: str | None = None  # e.g. replace_because_placement_changed (UI only)
    depends_on: tuple[str, ...] = ()
    placement: WorkloadPlacement | None = None  # after (create/update/replace)
    prior: ResourceRecord | None = None  # before (update/replace/delete)
    lifecycle: Mapping[str, Any] = field(default_factory=dict)  # prevent_destroy, create_before_destroy
    config_hash: str = ""
    previous_address: str | None = None  # renamed by a moved block: state's address before this plan
    import_id: str | None = None  # an import block: apply adopts this object at the address first
    forget: bool = False  # a removed block with destroy = false: apply forgets the address, nothing is deleted
    held_by: str | None = None  # a no-op held behind this failed job (see planner/held.py)
    # the tags the object carries before / after apply: its own over its provider's default_tags
    # (Terraform's ``tags_all``); None where there is no such object (planner/tags.py ``with_tags``)
    tags_before: Mapping[str, str] | None = None
    tags_after: Mapping[str, str] | None = None
    # an update of a service that replaces some of its replicas (planner/replicas.py): the group
    # numbers launched afresh, each replacing the recorded group of that number; the rest run on
    relaunch_groups: tuple[int, ...] = ()


@dataclass(frozen=True)
class DriftItem:
    """A difference between state (prior) and what the providers report (refreshed)."""

    address: str
    category: str  # changed | missing | unmanaged
    provider: str = ""
    provider_ids: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()  # attribute paths that differ (changed)
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    detail: str = ""

    def to_json(self) -> dict:
        return {
            "address": self.address, "category": self.category, "provider": self.provider,
            "provider_ids": list(self.provider_ids), "paths": list(self.paths),
            "before": self.before, "after": self.after, "detail": self.detail,
        }


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    lineage: str
    serial: int
    config_hash: str = ""
    drift: tuple[DriftItem, ...] = ()
    output_changes: Mapping[str, Any] = field(default_factory=dict)
    variables: Mapping[str, Any] = field(default_factory=dict)  # non-sensitive values only
    # The sensitive variables' values: kept only in the 0600 plan file, so that apply
    # evaluates exactly the configuration (provider blocks included) the plan was
    # made from; never rendered.
    sensitive_variables: Mapping[str, Any] = field(default_factory=dict, repr=False)
    catalog: Mapping[str, Any] = field(default_factory=dict)  # {"source", "observed_at"}
    options: Mapping[str, Any] = field(default_factory=dict)  # destroy, parallelism, targets, refresh_only, ...
    solver: Mapping[str, Any] = field(default_factory=dict)  # status, gap, backend, seconds
    cost_before: float = 0.0  # $/h of state
    cost_after: float = 0.0  # $/h after apply
    # estimated totals over the workloads' durations (jobs: duration_hours, services: 730 h), see planner/costs.py
    estimated_before: float = 0.0
    estimated_after: float = 0.0
    created_at: str = ""
    config_dir: str = ""
    errored: bool = False
    policy_results: tuple = ()  # one JSON result per policy (skyplan.policy.check)
    # one decision per running deadline job Uniform Progress paces, as refresh found it
    # (``deadline.control.JobDecision.to_json``): what ``skyplan watch`` would do now
    deadlines: tuple = ()

    @property
    def has_changes(self) -> bool:
        return (any(c.action is not Action.NOOP or c.previous_address or c.forget or c.import_id
                    for c in self.changes)
                or bool(self.output_changes_pending))

    @property
    def output_changes_pending(self) -> bool:
        return any(v.get("actions") != ["no-op"] for v in self.output_changes.values() if isinstance(v, Mapping))

    @property
    def applyable(self) -> bool:
        return not self.errored and self.has_changes

    def counts(self) -> dict[str, int]:
        add = sum(1 for c in self.changes if c.action in (Action.CREATE,) or c.action.is_replace)
        change = sum(1 for c in self.changes if c.action is Action.UPDATE)
        destroy = sum(1 for c in self.changes if c.action is Action.DELETE or c.action.is_replace)
        return {"add": add, "change": change, "destroy": destroy}

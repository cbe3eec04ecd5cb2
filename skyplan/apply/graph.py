"""The action DAG: which provider operation runs for each Change, and in what order.

Each Change becomes one or two *steps*:

- create           -> ``create``; after the steps that bring its dependencies into being
- update           -> ``update``; likewise
- delete           -> ``delete``; after the deletes of everything that depended on it
  (for a dependant replaced create-before-destroy: after its old object's delete)
- delete,create    -> ``delete`` then ``create`` (the create waits for the delete)
- create,delete    -> ``create`` then ``delete-old``; the old object goes only after the
  new one exists *and* every dependant has been created or updated against it

Network pieces (changes of kind ``network``, see ``planner.networks``) are created
before every create/update of a node on their provider and deleted after every
node delete; among themselves their ``depends_on`` orders them as above.

Building the graph is pure: no provider is called and nothing is printed.
"""

from __future__ import annotations

from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from typing import Mapping

from skyplan.errors import ApplyError
from skyplan.planner.model import Action, Change, Plan

CREATE = "create"
UPDATE = "update"
DELETE = "delete"
DELETE_OLD = "delete-old"  # the replaced object of a create_before_destroy replacement
NETWORK = "network"  # the kind of a network piece's change


@dataclass(frozen=True)
class Step:
    """One node of the apply graph: ``op`` on ``change.address``."""

    op: str
    change: Change

    @property
    def key(self) -> str:
        return f"{self.change.address} ({self.op})"

    @property
    def address(self) -> str:
        return self.change.address

    @property
    def provider(self) -> str:
        """The provider key this step talks to (for per-provider parallelism limits)."""
        c = self.change
        if c.kind == NETWORK:
            return _network_provider(c)
        if self.op in (CREATE, UPDATE) and c.placement is not None and c.placement.groups:
            return c.placement.groups[0].chosen.provider
        if c.prior is not None and c.prior.groups:
            return c.prior.groups[0].placement.provider
        if c.placement is not None and c.placement.groups:
            return c.placement.groups[0].chosen.provider
        return ""


@dataclass(frozen=True)
class ActionGraph:
    """Steps by key, and for each key the keys it must wait for."""

    steps: Mapping[str, Step]
    deps: Mapping[str, frozenset[str]]

    def __len__(self) -> int:
        return len(self.steps)


def _prior_deps(change: Change) -> tuple[str, ...]:
    if change.prior is not None and change.prior.depends_on:
        return tuple(change.prior.depends_on)
    return tuple(change.depends_on)


def _network_provider(c: Change) -> str:
    return str((c.after or c.before or {}).get("provider") or "")


def _order_networks(steps: Mapping[str, Step], deps: dict[str, set[str]]) -> None:
    """Nodes wait for the network creates of their provider; network deletes wait for
    every node delete (a subnet cannot go while a NIC in it exists)."""
    net_creates: dict[str, list[str]] = {}
    net_deletes: list[str] = []
    node_deletes: list[str] = []
    for key, step in steps.items():
        if step.change.kind == NETWORK:
            if step.op == CREATE:
                net_creates.setdefault(_network_provider(step.change), []).append(key)
            elif step.op == DELETE:
                net_deletes.append(key)
        elif step.op in (DELETE, DELETE_OLD):
            node_deletes.append(key)
    for key, step in steps.items():
        if step.change.kind != NETWORK and step.op in (CREATE, UPDATE):
            deps[key].update(net_creates.get(step.provider, ()))
    for key in net_deletes:
        deps[key].update(node_deletes)


def build_graph(plan: Plan) -> ActionGraph:
    """The DAG of steps for ``plan``. Raises ApplyError if the plan's dependencies loop."""
    steps: dict[str, Step] = {}
    by_addr: dict[str, dict[str, str]] = {}  # address -> op -> key

    def add(op: str, change: Change) -> str:
        step = Step(op, change)
        steps[step.key] = step
        by_addr.setdefault(change.address, {})[op] = step.key
        return step.key

    changes = [c for c in plan.changes if c.action is not Action.NOOP]
    for c in changes:
        if c.action is Action.CREATE:
            add(CREATE, c)
        elif c.action is Action.UPDATE:
            add(UPDATE, c)
        elif c.action is Action.DELETE:
            add(DELETE, c)
        elif c.action is Action.DELETE_THEN_CREATE:
            add(DELETE, c)
            add(CREATE, c)
        elif c.action is Action.CREATE_THEN_DELETE:
            add(CREATE, c)
            add(DELETE_OLD, c)

    deps: dict[str, set[str]] = {k: set() for k in steps}

    # Reverse edges for deletes: who (among deleted objects) depended on whom.
    dependants_of: dict[str, set[str]] = {}
    for c in changes:
        for d in set(_prior_deps(c)) | set(c.depends_on):
            dependants_of.setdefault(d, set()).add(c.address)

    for key, step in steps.items():
        c = step.change
        ops = by_addr[c.address]
        if step.op in (CREATE, UPDATE):
            # Wait for whatever brings each dependency into its new form.
            for d in c.depends_on:
                dops = by_addr.get(d, {})
                for op in (CREATE, UPDATE):
                    if op in dops:
                        deps[key].add(dops[op])
            if step.op == CREATE and DELETE in ops:
                deps[key].add(ops[DELETE])
        elif step.op == DELETE:
            # Dependants that are going away (or being replaced delete-first) go first.
            for dependant in dependants_of.get(c.address, ()):
                dops = by_addr.get(dependant, {})
                if DELETE in dops and dops[DELETE] != key:
                    deps[key].add(dops[DELETE])
                # the old object of a create_before_destroy dependant still uses this one; a
                # delete-first replacement cannot wait for it (its new dependant waits for it)
                if DELETE_OLD in dops and CREATE not in ops:
                    deps[key].add(dops[DELETE_OLD])
        elif step.op == DELETE_OLD:
            deps[key].add(ops[CREATE])
            for dependant in dependants_of.get(c.address, ()):
                dops = by_addr.get(dependant, {})
                for op in (CREATE, UPDATE):
                    if op in dops:
                        deps[key].add(dops[op])
                if DELETE in dops:
                    deps[key].add(dops[DELETE])

    _order_networks(steps, deps)
    try:
        TopologicalSorter({k: tuple(v) for k, v in deps.items()}).prepare()
    except CycleError as e:
        cycle = " -> ".join(e.args[1]) if len(e.args) > 1 else ""
        raise ApplyError(
            f"the plan's actions depend on each other in a cycle: {cycle}",
            hint="remove one of the depends_on references in the cycle, or apply in two steps with -target",
        ) from None
    return ActionGraph(steps=steps, deps={k: frozenset(v) for k, v in deps.items()})

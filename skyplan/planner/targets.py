"""-target: which addresses a targeted plan may touch (the targets and, like
Terraform, everything they depend on)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from skyplan.addrs import Address
from skyplan.errors import PlanError
from skyplan.state.model import Snapshot


def _matches(target: Address, addr: str) -> bool:
    try:
        a = Address.parse(addr)
    except ValueError:
        return False
    if target.key is None:
        return a.base == target.base
    return a == target


def select(targets: Sequence[str], declared: Mapping[str, Any], state: Snapshot,
           deps: Mapping[str, Sequence[str]]) -> set[str] | None:
    """The addresses a plan with ``targets`` may change, or None when not targeted.
    A target without an index (``workload.shard``) selects every instance of it."""
    if not targets:
        return None
    known = set(declared) | set(state.resources)
    chosen: set[str] = set()
    for text in targets:
        try:
            target = Address.parse(text)
        except ValueError as e:
            raise PlanError(f"-target {text}: {e}") from None
        hits = {a for a in known if _matches(target, a)}
        if not hits:
            raise PlanError(f"-target {text} matches no resource in the configuration or state",
                            hint="check the address with `skyplan state list` or `skyplan validate`")
        chosen |= hits
    stack = list(chosen)
    while stack:
        addr = stack.pop()
        for dep in deps.get(addr, ()):
            if dep not in chosen:
                chosen.add(dep)
                stack.append(dep)
    return chosen

"""-target: which addresses a targeted plan may touch. Like Terraform: the
targets and everything they depend on; in a destroy plan, the targets and
everything that depends on them (a dependant never outlives what it needs, and
what the target needs is left alone)."""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from skyplan.addrs import Address
from skyplan.errors import PlanError
from skyplan.state.model import Snapshot


_STEP = r'module\.[A-Za-z_][A-Za-z0-9_-]*(?:\[(?:\d+|"(?:[^"\\]|\\.)*")\])?'
_MODULE = re.compile(rf"{_STEP}(?:\.{_STEP})*")


def module_path(text: str) -> tuple[str, ...] | None:
    """``module.a.module.b["eu"]`` -> ("a", 'b["eu"]'); None when ``text`` is not a module address."""
    text = text.strip()
    if not _MODULE.fullmatch(text):
        return None
    return Address.parse(text + ".workload.x").module


def _step_matches(want: str, step: str) -> bool:
    """``serve`` selects every instance of the module call; ``serve["eu"]`` one."""
    return want == step or ("[" not in want and step.partition("[")[0] == want)


def _in_module(path: tuple[str, ...], addr: str) -> bool:
    try:
        got = Address.parse(addr).module
    except ValueError:
        return False
    return len(got) >= len(path) and all(_step_matches(w, s) for w, s in zip(path, got))


def _matches(target: Address, addr: str) -> bool:
    try:
        a = Address.parse(addr)
    except ValueError:
        return False
    if target.key is None:
        return a.base == target.base
    return a == target


def select(targets: Sequence[str], declared: Mapping[str, Any], state: Snapshot,
           deps: Mapping[str, Sequence[str]], destroy: bool = False) -> set[str] | None:
    """The addresses a plan with ``targets`` may change, or None when not targeted.
    A target without an index (``workload.shard``) selects every instance of it;
    a module address (``module.m``) selects everything inside that module call.
    ``deps`` maps an address to what it depends on; when destroying, state
    records' own ``depends_on`` count too (what state says was built on it)."""
    if not targets:
        return None
    known = set(declared) | set(state.resources)
    chosen: set[str] = set()
    for text in targets:
        mod = module_path(text)
        if mod is not None:  # -target module.m: everything the module call declares
            hits = {a for a in known if _in_module(mod, a)}
        else:
            try:
                target = Address.parse(text)
            except ValueError as e:
                raise PlanError(f"-target {text}: {e}") from None
            hits = {a for a in known if _matches(target, a)}
        if not hits:
            raise PlanError(f"-target {text} matches no resource in the configuration or state",
                            hint="check the address with `skyplan state list` or `skyplan validate`")
        chosen |= hits
    edges: dict[str, set[str]] = {}
    for addr in known:
        needs = set(deps.get(addr, ()))
        rec = state.resources.get(addr)
        if destroy and rec is not None:
            needs.update(rec.depends_on)
        for dep in needs:
            if destroy:
                edges.setdefault(dep, set()).add(addr)  # dep -> its dependants
            else:
                edges.setdefault(addr, set()).add(dep)
    stack = list(chosen)
    while stack:
        addr = stack.pop()
        for nxt in edges.get(addr, ()):
            if nxt not in chosen:
                chosen.add(nxt)
                stack.append(nxt)
    return chosen

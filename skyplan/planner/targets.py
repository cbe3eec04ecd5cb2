"""-target and -exclude: which addresses a plan may touch. Like Terraform: the
targets and everything they depend on; in a destroy plan, the targets and
everything that depends on them (a dependant never outlives what it needs, and
what the target needs is left alone). Like OpenTofu's -exclude, the other way
round: everything except the excluded and what depends on them (in a destroy
plan: except the excluded and what they depend on)."""

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
           deps: Mapping[str, Sequence[str]], destroy: bool = False,
           excludes: Sequence[str] = ()) -> set[str] | None:
    """The addresses a plan with ``targets`` and ``excludes`` may change, or None when
    neither is given. A target without an index (``workload.shard``) selects every
    instance of it; a module address (``module.m``) selects everything inside that
    module call. ``deps`` maps an address to what it depends on; when destroying,
    state records' own ``depends_on`` count too (what state says was built on it)."""
    if not targets and not excludes:
        return None
    known = set(declared) | set(state.resources)
    needs = {addr: _needs(addr, deps, state, destroy) for addr in known}
    chosen = set(known)
    if targets:
        # a target brings what it needs (what must outlive it, when destroying)
        chosen = _closure(_hits(targets, known, "-target"), needs, dependants=destroy)
    if excludes:
        hit = _hits(excludes, known, "-exclude")
        both = sorted(hit & _hits(targets, known, "-target")) if targets else []
        if both:
            raise PlanError(f"{both[0]} is both targeted and excluded",
                            hint="drop it from -target or from -exclude")
        # an excluded address keeps what cannot go on without it (what it needs, when destroying)
        chosen -= _closure(hit, needs, dependants=not destroy)
    return chosen


def _needs(addr: str, deps: Mapping[str, Sequence[str]], state: Snapshot, destroy: bool) -> set[str]:
    out = set(deps.get(addr, ()))
    rec = state.resources.get(addr)
    if destroy and rec is not None:
        out.update(rec.depends_on)
    return out


def _hits(texts: Sequence[str], known: set[str], flag: str) -> set[str]:
    chosen: set[str] = set()
    for text in texts:
        mod = module_path(text)
        if mod is not None:  # module.m: everything the module call declares
            hits = {a for a in known if _in_module(mod, a)}
        else:
            try:
                target = Address.parse(text)
            except ValueError as e:
                raise PlanError(f"{flag} {text}: {e}") from None
            hits = {a for a in known if _matches(target, a)}
        if not hits:
            raise PlanError(f"{flag} {text} matches no resource in the configuration or state",
                            hint="check the address with `skyplan state list` or `skyplan validate`")
        chosen |= hits
    return chosen


def _closure(start: set[str], needs: Mapping[str, set[str]], *, dependants: bool) -> set[str]:
    """``start`` and, transitively, what it needs (or, with ``dependants``, what needs it)."""
    edges: dict[str, set[str]] = {}
    for addr, wanted in needs.items():
        for dep in wanted:
            if dependants:
                edges.setdefault(dep, set()).add(addr)
            else:
                edges.setdefault(addr, set()).add(dep)
    chosen, stack = set(start), list(start)
    while stack:
        for nxt in edges.get(stack.pop(), ()):
            if nxt not in chosen:
                chosen.add(nxt)
                stack.append(nxt)
    return chosen

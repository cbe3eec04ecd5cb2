"""``moved { from = workload.a  to = module.train.workload.a }``: renamed addresses.

The configuration says which state object an address now stands for; planning
renames state's records before diffing (``rename``), so a rename is a no-op
instead of a replace, and apply renames them in state first. As in Terraform:

- both ends are resource addresses (``workload.a``, ``workload.a[0]``) or module
  calls (``module.m``, ``module.m["eu"]``), of the same kind;
- an end without an instance key matches every instance when the other end has
  none either (``workload.a`` -> ``workload.b`` moves ``a[0]`` to ``b[0]``), and
  only the keyless object otherwise (``workload.a`` -> ``workload.a[0]`` moves a
  block into count);
- moves chain (a -> b, b -> c moves a to c), in the order written;
- a move from an address state does not hold does nothing; one whose target state
  already holds is an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from skyplan.addrs import Address, split_step
from skyplan.errors import SourceRange


@dataclass(frozen=True)
class Move:
    """One moved block, its addresses already prefixed with its module's path."""

    from_: str
    to: str
    source: SourceRange | None = None

    @property
    def is_module(self) -> bool:
        return _module_path(self.from_) is not None


@dataclass(frozen=True)
class Removed:
    """One removed block: ``address`` (a resource without key: every instance; a
    module call: everything in it) and whether to destroy it."""

    address: str
    destroy: bool = True
    source: SourceRange | None = None

    def covers(self, addr: str) -> bool:
        a = Address.parse(addr)
        mod = _module_path(self.address)
        if mod is not None:
            n = len(mod)
            return len(a.module) >= n and a.module[: n - 1] == mod[:-1] and (
                a.module[n - 1] == mod[-1] or ("[" not in mod[-1] and a.module[n - 1].partition("[")[0] == mod[-1]))
        r = Address.parse(self.address)
        return a.base == r if r.key is None else a == r


@dataclass(frozen=True)
class Import:
    """One import block: adopt the object ``id`` (``KEY:ID`` names the provider) at ``to``."""

    to: str
    id: str
    source: SourceRange | None = None

    def split(self, providers) -> tuple[str | None, str]:
        """(provider key or None, the provider's id): ``aws:i-0abc`` -> ("aws", "i-0abc")
        when ``aws`` is a declared provider key, else (None, the whole id)."""
        key, sep, rest = self.id.partition(":")
        return (key, rest) if sep and key in providers else (None, self.id)


class MoveError(ValueError):
    def __init__(self, summary: str, source: SourceRange | None = None, hint: str = ""):
        super().__init__(f"{source}: {summary}" if source else summary)
        self.summary, self.source, self.hint = summary, source, hint


def _module_path(text: str) -> tuple[str, ...] | None:
    """``module.a.module.b[0]`` -> ("a", "b[0]"); None for a resource address."""
    try:
        Address.parse(text)
        return None
    except ValueError:
        pass
    try:
        return Address.parse(text + ".workload.x").module
    except ValueError:
        return None


def check(text: str) -> str | None:
    """The problem with a moved block's address, or None."""
    if _module_path(text) is not None:
        return None
    try:
        a = Address.parse(text)
    except ValueError:
        return f"{text} is not a workload, fleet or module address"
    return None if a.kind in ("workload", "fleet") else f"{text} is not a workload or fleet address"


def _step_map(want: str, to: str, step: str) -> str | None:
    """Where module step ``step`` goes under a move of step ``want`` to step ``to``."""
    wn, wk = split_step(want)
    tn, tk = split_step(to)
    sn, sk = split_step(step)
    if sn != wn:
        return None
    if "[" not in want and "[" not in to:
        return step.replace(sn, tn, 1)
    return to if step == want else None


def _apply_one(m: Move, addr: str) -> str | None:
    """Where ``addr`` goes under ``m``, or None when ``m`` does not concern it."""
    a = Address.parse(addr)
    src_mod = _module_path(m.from_)
    if src_mod is not None:
        dst_mod = _module_path(m.to)
        n = len(src_mod)
        if len(a.module) < n or a.module[: n - 1] != src_mod[:-1] or dst_mod is None:
            return None
        step = _step_map(src_mod[-1], dst_mod[-1], a.module[n - 1])
        if step is None:
            return None
        return str(Address(a.kind, a.name, a.key, dst_mod[:-1] + (step,) + a.module[n:]))
    f, t = Address.parse(m.from_), Address.parse(m.to)
    if f.key is None and t.key is None:
        return str(t.with_key(a.key)) if a.base == f else None
    return str(t) if a == f else None


def validate(moves: Iterable[Move]) -> None:
    """Raise MoveError for a move between kinds (module and resource, workload and fleet)."""
    for m in moves:
        fm, tm = _module_path(m.from_), _module_path(m.to)
        if (fm is None) != (tm is None):
            raise MoveError(f"cannot move {m.from_} to {m.to}: a module call moves only to a module call, "
                            "a resource only to a resource", m.source)
        if fm is None and Address.parse(m.from_).kind != Address.parse(m.to).kind:
            raise MoveError(f"cannot move {m.from_} to {m.to}: a {Address.parse(m.from_).kind} moves only to a "
                            f"{Address.parse(m.from_).kind} address", m.source)
        if m.from_ == m.to:
            raise MoveError(f"moved block from {m.from_} to itself", m.source, hint="remove the moved block")


def rename(moves: Iterable[Move], addresses: Iterable[str]) -> dict[str, str]:
    """{old address: new address} for every state address a move applies to (chains
    followed). Raises MoveError when a target is already in state or two objects
    would end at one address."""
    moves = list(moves)
    validate(moves)
    held = set(addresses)
    out: dict[str, str] = {}
    sources: dict = {}
    for addr in sorted(held):
        cur, seen = addr, {addr}
        by = None
        for m in moves:
            nxt = _apply_one(m, cur)
            if nxt is not None and nxt not in seen:
                cur, by = nxt, m
                seen.add(nxt)
        if cur != addr:
            out[addr] = cur
            sources[addr] = by.source if by else None
    for old, new in out.items():
        if new in held and new not in out:
            raise MoveError(f"cannot move {old} to {new}: {new} already exists in state", sources[old],
                            hint=f"remove one of them first (skyplan state rm {new}), or drop the moved block")
    targets: dict[str, str] = {}
    for old, new in out.items():
        if new in targets:
            raise MoveError(f"{targets[new]} and {old} would both move to {new}")
        targets[new] = old
    return out


def renamed_snapshot(snapshot, mapping: Mapping[str, str]):
    """The snapshot with its records (and their sensitive paths) under the new addresses."""
    from dataclasses import replace

    if not mapping:
        return snapshot
    resources = {mapping.get(a, a): (replace(r, address=mapping[a]) if a in mapping else r)
                 for a, r in snapshot.resources.items()}
    sensitive = {mapping.get(a, a): p for a, p in snapshot.sensitive.items()}
    return replace(snapshot, resources=resources, sensitive=sensitive)

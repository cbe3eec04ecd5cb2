"""Incremental re-plan: placements kept from an earlier solve whose inputs did not change.

A workload is *self-contained* when no coupling constraint ties it to anything
else: no budget over the plan, no capacity row it could use (no quota on a
provider key it may run on, no live cluster node there, no existing fleet its
allow lists admit, no fleet it names), no colocation and no egress term either
way. Its placement, fallbacks, explanation and candidate table are then a
function of its own inputs alone. The solver may merge alike workloads into one
class, so the unit kept is a *group*: the self-contained workloads of one
requirement signature, solved together in the full model.

A group's digest covers everything its answer depends on: each member's item
(resources, nodes, replicas, pricing, hours, cost cap, placement spec, the
policies already folded into them), its blocked scopes, its running placements,
whether its candidate table is asked for, the solve options that change an
answer (stability threshold, reoptimize, fallbacks, restart overhead), every
provider key the group may run on (its kind and a digest of its offers: a
catalog change misses) and ``MEMO_VERSION``. A memo entry found under the
digest is what solving the group again would give, so it is reused without
building or solving anything; anything else is solved. Reuse is only taken
when the solver decomposes and merges (the defaults), since that is the model
whose answers the entries are.

The memo is plain data: ``{digest: {address: document}}``, documents being the
JSON of a WorkloadPlacement, its candidate table and the backend that solved
it. Pure: reading and writing it is the caller's (state keeps it,
skyplan.state.placements).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Mapping

from skyplan.solver.candidates import compile_globs
from skyplan.solver.capacity import NODE_KINDS
from skyplan.solver.items import Item
from skyplan.solver.model import Candidate, WorkloadPlacement

MEMO_VERSION = "1"  # bump when a change to the solver changes its answers

Memo = Mapping[str, Mapping[str, dict]]


@dataclass
class Split:
    """A problem's self-contained groups: which were found in the memo."""

    kept: dict[str, tuple[WorkloadPlacement, tuple[Candidate, ...] | None]] = field(default_factory=dict)
    backends: set[str] = field(default_factory=set)  # the backends that solved the kept groups
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # digest -> member addresses


def split(problem, memo: Memo) -> Split:
    """The self-contained groups of ``problem`` and the placements ``memo`` holds for them."""
    opts = problem.options
    out = Split()
    if opts.budget is not None or not opts.decompose or not opts.merge:
        return out
    keys = _Keys(problem)
    tied = _tied(problem)
    fleet_keys = tuple(sorted({f.provider for f in problem.fleets.values() if f.existing and f.provider}))
    common = repr((MEMO_VERSION, 0.0 if opts.reoptimize else opts.migrate_threshold, opts.reoptimize,
                   opts.top_fallbacks, opts.restart_overhead))
    by_sig: dict[tuple, list[tuple[str, str]]] = {}
    for address, w in sorted(problem.workloads.items()):
        item = Item.of_workload(w)
        spec = item.placement
        if address in tied or spec.fleet or spec.colocate_with:
            continue
        allowed = keys.allowed(spec.providers)
        if allowed is None or any(keys.admits(k, spec) for k in fleet_keys):
            continue
        blocked = tuple(opts.blocked.get(address, ()))
        sig = (item.resources, item.nodes, item.groups, item.pricing, item.hours, item.max_hourly_cost,
               spec, blocked)
        current = () if opts.reoptimize else problem.current.get(address, ())
        table = not opts.only or address in opts.only
        mine = repr((item, blocked, current, table, allowed))
        by_sig.setdefault(sig, []).append((address, mine))
    for members in by_sig.values():
        h = hashlib.sha256(common.encode())
        for address, mine in members:
            h.update(b"\0" + mine.encode())
        digest = h.hexdigest()
        addresses = tuple(a for a, _ in members)
        out.groups[digest] = addresses
        found = memo.get(digest)
        if found is None or any(a not in found for a in addresses):
            continue
        try:
            decoded = {a: decode(found[a]) for a in addresses}
        except (KeyError, TypeError, ValueError):
            continue  # an entry this build cannot read is a miss, not an error
        for a, (wp, cands, backend) in decoded.items():
            out.kept[a] = (wp, cands)
            out.backends.add(backend)
    return out


class _Keys:
    """Provider keys per allow list, each with its kind and the digest of its offers."""

    def __init__(self, problem):
        self.problem = problem
        self.kinds = {k: (cfg.kind if (cfg := problem.providers.get(k)) else k.split(".")[0])
                      for k in problem.offers}
        self._digests: dict[str, str | None] = {}
        self._allowed: dict[tuple, tuple | None] = {}
        self._globs: dict[tuple, object] = {}

    def _digest(self, key: str) -> str | None:
        """The digest of one key's offers; None when the key has capacity rows."""
        if key not in self._digests:
            cfg = self.problem.providers.get(key)
            offers = tuple(self.problem.offers.get(key, ()))
            rowed = (cfg is not None and cfg.quotas) or any(o.provider in NODE_KINDS for o in offers)
            self._digests[key] = None if rowed else hashlib.sha256(repr(offers).encode()).hexdigest()
        return self._digests[key]

    def allowed(self, providers: tuple[str, ...]) -> tuple | None:
        """(key, kind, offers digest) of every key the allow list admits; None when one has rows."""
        if providers not in self._allowed:
            ok = self._match(providers)
            found = []
            for k in sorted(self.problem.offers):
                if providers and not (ok(k) or ok(self.kinds[k])):
                    continue
                d = self._digest(k)
                if d is None:
                    found = None
                    break
                found.append((k, self.kinds[k], d))
            self._allowed[providers] = None if found is None else tuple(found)
        return self._allowed[providers]

    def admits(self, key: str, spec) -> bool:
        """Whether an existing fleet on ``key`` may take a workload of ``spec`` (region aside)."""
        if not spec.providers:
            return True
        kind = self.kinds.get(key) or (cfg.kind if (cfg := self.problem.providers.get(key)) else key.split(".")[0])
        ok = self._match(spec.providers)
        return ok(key) or ok(kind)

    def _match(self, providers: tuple[str, ...]):
        if providers not in self._globs:
            self._globs[providers] = compile_globs(providers)
        return self._globs[providers]


def _tied(problem) -> set[str]:
    """Workloads in a colocation or an egress term, on either side."""
    data = {a: float(w.data_gb or 0.0) for a, w in problem.workloads.items()}
    out: set[str] = set()
    for a, w in problem.workloads.items():
        if w.placement.colocate_with:
            out.update((a, w.placement.colocate_with))
        for dep in w.depends_on:
            dep = str(dep)
            if dep != a and data.get(dep, 0.0) > 0:
                out.update((a, dep))
    return out


def encode(wp: WorkloadPlacement, candidates, backend: str) -> dict:
    doc = {"placement": wp.to_json(), "backend": backend}
    if candidates is not None:
        doc["candidates"] = [c.to_json() for c in candidates]
    return doc


def decode(doc: Mapping) -> tuple[WorkloadPlacement, tuple[Candidate, ...] | None, str]:
    cands = doc.get("candidates")
    return (WorkloadPlacement.from_json(doc["placement"]),
            None if cands is None else tuple(Candidate(**c) for c in cands), str(doc["backend"]))


def entries(groups: Mapping[str, tuple[str, ...]], solution, spreads: Mapping[str, bool]
            ) -> dict[str, dict[str, dict]]:
    """The memo of a solution's self-contained groups (only of an optimal one:
    a time-limited answer is not what solving again gives)."""
    if solution.status != "optimal":
        return {}
    out: dict[str, dict[str, dict]] = {}
    for digest, addresses in groups.items():
        if not all(a in solution.placements for a in addresses):
            continue
        # a group is a model of its own only when it spreads replicas; else the closed form answers it
        spread = any(len(solution.placements[a].groups) > 1 and spreads.get(a) for a in addresses)
        backend = solution.backend if spread else "closed-form"
        out[digest] = {a: encode(solution.placements[a], solution.candidates.get(a), backend) for a in addresses}
    return out

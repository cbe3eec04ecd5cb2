"""Incremental re-plan: placements kept from an earlier solve whose inputs did not change.

A workload is *self-contained* when nothing but shared provider quotas can tie
it to others: no budget over the plan, no live cluster node on a provider key
it may run on, no existing fleet its allow lists admit, no fleet it names, no
colocation and no egress term either way. The solver may merge alike workloads
into one class, so the unit kept is a *group*: the self-contained workloads of
one requirement signature.

A group's digest covers everything its answer depends on: each member's item
(resources, nodes, replicas, pricing, hours, cost cap, placement spec, the
policies already folded into them), its blocked scopes, its running placements,
whether its candidate table is asked for, the solve options that change an
answer (stability threshold, reoptimize, fallbacks, restart overhead), every
provider key the group may run on (its kind, its quotas and a digest of its
offers: a catalog or quota change misses) and ``MEMO_VERSION``.

Only answers at a class's own optimum are kept: the closed form, or a component
whose classes' own optima fit its quotas together (skyplan.solver.decompose).
Such an entry records the rows its options could use and what its placement
uses of each. A re-plan keeps every group whose digest it finds and solves the
rest against the rows less what the kept ones use. When every class of the rest
that could use one of the kept ones' rows is again at its own optimum, the
whole is each class at its own optimum within every row, which is what the
full model gives; otherwise (a quota binds now, or the rest is infeasible) the
solve starts again without the memo. A kept explanation that says why a
cheaper option is not used names a full row only when the final totals fill
it, so its reason is worked out again from them (``explain_kept``). Reuse is
only taken when the solver decomposes and merges (the defaults), since that is
the model whose answers the entries are.

The memo is plain data: ``{digest: {address: document}}``, documents being the
JSON of a WorkloadPlacement, its candidate table, the rows and usage above and
the backend that answered it. Pure: reading and writing it is the caller's
(state keeps it, skyplan.state.placements).
"""

from __future__ import annotations

import hashlib
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import Mapping

from skyplan.solver.candidates import compile_globs
from skyplan.solver.capacity import NODE_KINDS
from skyplan.solver.items import Item
from skyplan.solver.model import Candidate, GroupPlacement, Placement, WorkloadPlacement

MEMO_VERSION = "2"  # bump when a change to the solver changes its answers

Memo = Mapping[str, Mapping[str, dict]]
NOT_USED = " not used: "  # in an explanation, before why a cheaper option is not used
KEPT = "kept on the running placement"


@dataclass
class Split:
    """A problem's self-contained groups: which were found in the memo."""

    # address -> (its placement, the documents of its candidate table or None)
    kept: dict[str, tuple[WorkloadPlacement, list | None]] = field(default_factory=dict)
    backends: set[str] = field(default_factory=set)  # the backends that solved the kept groups
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # digest -> member addresses
    docs: dict[str, Mapping[str, dict]] = field(default_factory=dict)  # digest -> the kept group's entries
    usage: dict[str, float] = field(default_factory=dict)  # row label -> what the kept placements use of it
    rows: set[str] = field(default_factory=set)  # labels of every row an option of a kept workload uses
    # address -> why its cheaper alternative is not used, when that weighs shared rows:
    # (the explanation up to the reason, [(row label, amount the alternative uses)], the reason otherwise)
    whys: dict[str, tuple[str, list, str]] = field(default_factory=dict)


def split(problem, memo: Memo) -> Split:
    """The self-contained groups of ``problem`` and the placements ``memo`` holds for them."""
    opts = problem.options
    out = Split()
    if opts.budget is not None or not opts.decompose or not opts.merge or not (memo or opts.memoize):
        return out
    keys = _Keys(problem)
    tied = _tied(problem)
    fleet_keys = tuple(sorted({f.provider for f in problem.fleets.values() if f.existing and f.provider}))
    common = repr((MEMO_VERSION, 0.0 if opts.reoptimize else opts.migrate_threshold, opts.reoptimize,
                   opts.top_fallbacks, opts.restart_overhead))
    by_sig: dict[tuple, list[tuple[str, str]]] = {}
    for address, w in sorted(problem.workloads.items()):
        item = Item.of_workload(w, window=opts.windows.get(address))
        spec = item.placement
        if address in tied or spec.fleet or spec.colocate_with:
            continue
        allowed = keys.allowed(spec.providers)
        if allowed is None or any(keys.admits(k, spec) for k in fleet_keys):
            continue
        blocked = tuple(opts.blocked.get(address, ()))
        sig = (item.resources, item.nodes, item.groups, item.pricing, item.hours, item.max_hourly_cost,
               spec, blocked, item.window, item.changeover)
        current = () if opts.reoptimize else problem.current.get(address, ())
        table = not opts.only or address in opts.only
        mine = repr((item, blocked, current, table)) + keys.text(spec.providers)
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
            use = [(tuple(found[a].get("rows", ())), dict(found[a].get("usage", {}))) for a in addresses]
            whys = {a: (decoded[a][0].explanation.rsplit(NOT_USED, 1)[0] + NOT_USED,
                        [(str(label), float(v)) for label, v in why["rows"]], str(why["else"]))
                    for a in addresses if (why := found[a].get("why")) is not None}
        except (KeyError, TypeError, ValueError, AttributeError):
            continue  # an entry this build cannot read is a miss, not an error
        for a, (wp, cands, backend) in decoded.items():
            out.kept[a] = (wp, cands)
            out.backends.add(backend)
        out.whys.update(whys)
        for labels, usage in use:
            out.rows.update(labels)
            for label, amount in usage.items():
                out.usage[label] = out.usage.get(label, 0.0) + float(amount)
        out.docs[digest] = {a: found[a] for a in addresses}
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
        self._texts: dict[tuple, str] = {}

    def _digest(self, key: str) -> str | None:
        """The digest of one key's offers; None when they are live cluster nodes (rows of their own)."""
        if key not in self._digests:
            offers = tuple(self.problem.offers.get(key, ()))
            nodes = any(o.provider in NODE_KINDS for o in offers)
            self._digests[key] = None if nodes else hashlib.sha256(repr(offers).encode()).hexdigest()
        return self._digests[key]

    def allowed(self, providers: tuple[str, ...]) -> tuple | None:
        """(key, kind, offers digest, quotas) of every key the allow list admits; None
        when one offers live cluster nodes."""
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
                cfg = self.problem.providers.get(k)
                found.append((k, self.kinds[k], d, tuple(cfg.quotas) if cfg is not None else ()))
            self._allowed[providers] = None if found is None else tuple(found)
        return self._allowed[providers]

    def text(self, providers: tuple[str, ...]) -> str:
        """``allowed(providers)`` as the text a digest takes (worked out once per allow list)."""
        if providers not in self._texts:
            self._texts[providers] = repr(self.allowed(providers))
        return self._texts[providers]

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
    """Workloads in a colocation or an egress term, on either side, or under a group budget."""
    data = {a: float(w.data_gb or 0.0) for a, w in problem.workloads.items()}
    out: set[str] = {a for b in problem.options.group_budgets for a in b.addresses}
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


_PLACEMENTS: dict[tuple, Placement] = {}  # one value per distinct placement: fallbacks repeat across workloads
_FIELDS: dict[type, tuple[dict, frozenset]] = {}
_CHECKED: set[tuple] = set()  # (class, the keys of a document) known to be its fields


def _check(cls, d: Mapping) -> dict:
    """The defaults of ``cls``'s fields, once ``d``'s keys are known to be its fields
    (every one without a default among them); else a TypeError."""
    defaults, names = _FIELDS.get(cls) or _FIELDS.setdefault(cls, (
        {f.name: f.default for f in fields(cls) if f.default is not MISSING},
        frozenset(f.name for f in fields(cls))))
    keys = (cls, tuple(d))
    if keys not in _CHECKED:
        if not isinstance(d, dict) or not set(d) <= names or not names <= set(d) | set(defaults):
            raise TypeError(f"not a {cls.__name__} document")
        _CHECKED.add(keys)
    return defaults


def _build(cls, d: Mapping):
    """A frozen dataclass ``cls`` from a document of this module's own: its fields set
    directly (the generated __init__, which sets each through object.__setattr__, is
    most of a re-plan's reading time at 10^4 workloads); a key that is not a field of
    ``cls`` is a TypeError, as the __init__ would raise."""
    defaults = _check(cls, d)
    obj = object.__new__(cls)
    state = obj.__dict__
    state.update(defaults)
    state.update(d)
    return obj


def _placement(d: dict) -> Placement:
    key = tuple(d.items())
    p = _PLACEMENTS.get(key)
    if p is None:
        if len(_PLACEMENTS) > 200_000:
            _PLACEMENTS.clear()
        p = _PLACEMENTS[key] = _build(Placement, d)
    return p


def decode(doc: Mapping) -> tuple[WorkloadPlacement, list | None, str]:
    """An entry's values, its candidate table left as documents (``Tables`` reads
    them when shown). The documents are this module's own (every field written), so
    the fields are passed as they are; a document of another shape is a miss (TypeError)."""
    cands = doc.get("candidates")
    if cands is not None:
        if not isinstance(cands, list):
            raise TypeError("candidates: not a list")
        for c in cands:  # checked now, read when shown
            _check(Candidate, c)
    d = doc["placement"]
    new, group = object.__new__, GroupPlacement
    groups = []
    for g in d["groups"]:
        gp = new(group)
        gp.__dict__.update(chosen=_placement(g["chosen"]), fallbacks=tuple(_placement(f) for f in g["fallbacks"]))
        groups.append(gp)
    ceiling = d.get("on_demand_ceiling")
    wp = _build(WorkloadPlacement, {"address": str(d["address"]), "groups": tuple(groups),
                                    "approved_hourly_cost": float(d["approved_hourly_cost"]),
                                    "expected_cost": float(d["expected_cost"]), "explanation": str(d["explanation"]),
                                    "kept": bool(d["kept"]),
                                    "on_demand_ceiling": None if ceiling is None else float(ceiling)})
    return wp, cands, str(doc["backend"])


class Tables(Mapping):
    """address -> candidate table: the tables of this solve, and those kept from the
    memo as their documents, read on first use (a plan never shows them; at 10^4
    kept workloads reading them all is a third of a re-plan)."""

    def __init__(self, tables: Mapping[str, tuple], docs: Mapping[str, list]):
        self._tables = dict(tables)
        self._docs = {a: d for a, d in docs.items() if a not in self._tables}
        self._order = sorted(set(self._tables) | set(self._docs))

    def __getitem__(self, address: str) -> tuple:
        hit = self._tables.get(address)
        if hit is None:
            hit = self._tables[address] = tuple(_build(Candidate, c) for c in self._docs[address])
        return hit

    def __iter__(self):
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._order)


def alone_classes(classes, result) -> set[int]:
    """Indexes of the classes at their own optimum: closed form, or a component the
    shared rows did not bind (skyplan.solver.decompose)."""
    return {i for i, k in enumerate(classes) if k.closed is not None} | set(result.alone)


def rows_kept_apart(classes, alone: set[int], rows, kept_rows: set[str]) -> bool:
    """Whether every class that could use a row a kept workload could use is at its
    own optimum: then the kept ones are at theirs in the full model too."""
    for i, k in enumerate(classes):
        if i in alone:
            continue
        if any(rows.rows[r].label in kept_rows for u in k.entry.usage for r, _ in u):
            return False
    return True


def row_use(problem, found: Split, classes, alone: set[int], rows, solution) -> dict[str, tuple]:
    """address -> (labels of the rows its options use, what its chosen groups use of
    each), for the self-contained workloads of classes at their own optimum."""
    eligible = {a for addresses in found.groups.values() for a in addresses}
    out: dict[str, tuple] = {}
    for i in alone:
        for e in classes[i].members:
            wp = solution.placements.get(e.item.address)
            if wp is None or e.item.address not in eligible:
                continue
            labels = tuple(sorted({rows.rows[r].label for u in e.usage for r, _ in u}))
            usage: dict[str, float] = {}
            why = None
            if labels:
                index = {o.key: j for j, o in enumerate(e.options)}
                chosen = []
                for g in wp.groups:
                    p = g.chosen
                    j = index[(p.provider, p.region, p.zone or "", p.instance_type, p.pricing, p.fleet or "")]
                    chosen.append(e.options[j])
                    for r, amount in e.usage[j]:
                        label = rows.rows[r].label
                        usage[label] = usage.get(label, 0.0) + amount
                if NOT_USED in wp.explanation and KEPT not in wp.explanation:
                    why = _why(problem, e, chosen, rows)
            out[e.item.address] = (labels, usage, why)
    return out


def _why(problem, e, chosen, rows) -> dict:
    """What the explanation's reason depends on: the alternative's rows (one full names
    itself) and the reason when none is."""
    from skyplan.solver.assemble import alt_usage, why_else

    used = {o.key for o in chosen}
    alt = next(a for a in e.options if a.key not in used)
    return {"rows": [[rows.rows[r].label, amount] for r, amount in alt_usage(e, alt)],
            "else": why_else(problem, e, alt, chosen[0], {})}


def explain_kept(found: Split, placements: dict, row_totals: Mapping[int, float], rows) -> None:
    """Put the reason back into the explanations of kept placements that weigh shared
    rows, as the full solve's totals give it (in ``placements`` and the kept entries)."""
    by_label = {r.label: r for r in rows.rows}
    for a, (head, alt_rows, otherwise) in found.whys.items():
        reason = otherwise
        for label, amount in alt_rows:
            r = by_label.get(label)
            if r is not None and row_totals.get(r.id, 0.0) + amount > r.limit + 1e-9:
                reason = f"{label} is full"
                break
        text = head + reason
        placements[a] = replace(placements[a], explanation=text)
        for digest, members in found.docs.items():
            if a in members:
                doc = dict(members[a])
                doc["placement"] = {**doc["placement"], "explanation": text}
                found.docs[digest] = {**members, a: doc}


def entries(found: Split, solution, use: Mapping[str, tuple]) -> dict[str, dict[str, dict]]:
    """The memo of a solution's self-contained groups at their own optimum (only of
    an optimal solution: a time-limited answer is not what solving again gives).
    A workload on a shared row whose explanation names why a cheaper option is
    not used keeps what that reason depends on (``why``), since a row's fill is
    known only once everything is placed (``explain_kept``)."""
    if solution.status != "optimal":
        return {}
    out: dict[str, dict[str, dict]] = {}
    for digest, addresses in found.groups.items():
        if digest in found.docs:
            out[digest] = dict(found.docs[digest])
            continue
        if not all(a in solution.placements and a in use for a in addresses):
            continue
        backend = "closed-form"  # each class at its own optimum: no model answered it
        group = {}
        for a in addresses:
            doc = encode(solution.placements[a], solution.candidates.get(a), backend)
            labels, usage, why = use[a]
            if labels:
                doc["rows"], doc["usage"] = list(labels), usage
            if why is not None:
                doc["why"] = why
            group[a] = doc
        out[digest] = group
    return out

"""Re-evaluate one workload or fleet once the resources it references exist.

At plan time ``env = { MASTER = workload.head.ip }`` is unknown; when apply is
about to create the workload, the head's address is known. ``resolve_after_apply``
evaluates the block again with those attributes and returns the Workload/Fleet
as it should be created (anything still unknown stays UNKNOWN). A mistake that
only shows with the real values (``tonumber(workload.head.ip)``) raises
``ResolveError`` naming file:line:col: launching with a placeholder in its place
would run the workload with wrong settings.
"""

from __future__ import annotations

from typing import Any, Mapping

from skyplan.addrs import Address
from skyplan.config import build
from skyplan.config.evaluator import Poisoned
from skyplan.config.model import DesiredGraph, Fleet, Workload
from skyplan.config.outputs import known_scope
from skyplan.config.variables import Diags
from skyplan.errors import DiagnosticsError


class ResolveError(DiagnosticsError):
    """The configuration of one resource fails with the values known after apply."""

    def __init__(self, address: str, diagnostics):
        super().__init__(diagnostics)
        self.address = address

    def __str__(self) -> str:
        errors = [d for d in self.diagnostics if d.severity == "error"] or self.diagnostics
        first = errors[0]
        where = f"{first.source}: " if first.source else ""
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return f"{self.address}: with the values known after apply, {where}{first.summary}{more}"


def _loader_for(root, module: tuple):
    ld = root
    for name in module:
        ld = ld.children.get(name)
        if ld is None:
            return None
    return ld


def resolve_after_apply(graph: DesiredGraph, address: str, known: Mapping[str, Mapping[str, Any]]) -> "Workload | Fleet":
    """The resource at ``address`` re-evaluated with ``known`` attributes per address
    (same shapes as evaluate_outputs). Returns the planned value unchanged when the
    configuration is not at hand; raises ResolveError when re-evaluation fails."""
    from skyplan.config.nodes import META, eval_body, reporter

    planned = graph.resources().get(address)
    if planned is None:
        raise KeyError(address)
    root = getattr(graph.evaluation, "loader", None)
    ld = _loader_for(root, planned.address.module) if root is not None else None
    if ld is None:
        return planned
    addr: Address = planned.address
    node = f"{addr.kind}.{addr.name}"
    block = ld.blocks[addr.kind].get(addr.name)
    extra = ld.extras.get(node, {}).get(addr.key)
    if block is None or extra is None:
        return planned
    scope = known_scope(ld, known)
    scope.namespaces.update(extra)
    quiet = Diags()
    saved, ld.diags = ld.diags, quiet
    try:
        d, ok = eval_body(ld, block.body, scope, block.file, skip=META)
        out = None
        if ok:
            flag = [True]
            report = reporter(ld, block, flag)
            try:
                if addr.kind == "workload":
                    out = build.workload(addr, d, report, depends_on=planned.depends_on, source=planned.source,
                                         sensitive_paths=planned.sensitive_paths)
                else:
                    out = build.fleet(addr, d, report, depends_on=planned.depends_on, source=planned.source)
            except (build.Invalid, Poisoned):
                out = None
            if not flag[0]:
                out = None
    finally:
        ld.diags = saved
    if out is not None:
        return out
    if quiet.has_errors:
        raise ResolveError(address, quiet.items)
    return planned

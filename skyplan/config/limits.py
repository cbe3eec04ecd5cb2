"""Limits on how big a configuration may grow, checked before anything is expanded.

A typo (``count = 1000000``, ``replicas = 1000000000``) must be an error at its
line at once, not minutes of work and gigabytes of memory. The defaults fit the
largest configurations skyplan is measured on (10,000 workloads) with room to
spare; raise any of them in the root configuration::

    skyplan {
      limits {
        instances_per_block = 10000   # count / for_each instances of one block
        instances           = 100000  # workloads and fleets in the configuration, after expansion
        replicas            = 1000    # replica groups of one workload
        num_nodes           = 1000    # nodes of one group (a fleet's nodes)
        nodes               = 100000  # replicas x num_nodes summed over the configuration
      }
    }

Limit values must be whole numbers >= 1 written as constants or from variables
(they are read before local values and resources are evaluated).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from skyplan.config import ast

HINT = "raise it in the root configuration if you mean it: skyplan {{ limits {{ {name} = N }} }}"


@dataclass
class Limits:
    instances_per_block: int = 10_000
    instances: int = 100_000
    replicas: int = 1_000
    num_nodes: int = 1_000
    nodes: int = 100_000

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


@dataclass
class Usage:
    """What the configuration has used so far (shared by the root and its modules)."""

    limits: Limits
    instances: int = 0
    nodes: int = 0


def hint(name: str) -> str:
    return HINT.format(name=name)


def read(ld, block) -> Limits:
    """The ``limits`` block of the root ``skyplan`` block (defaults where unset);
    bad values are reported and their defaults kept."""
    from skyplan.config.nodes import eval_body, positions

    limits = Limits()
    body = next((b.body for b in block.body.blocks if b.type == "limits"), None) if block is not None else None
    if body is None:
        return limits
    values, _ = eval_body(ld, body, ld.scope(), block.file)
    pos = positions(body)
    for name in Limits.names():
        v = values.get(name)
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != int(v) or v < 1:
            ld.diags.error(f"limits.{name} must be a whole number >= 1, got {v!r}", block.file,
                           pos.get(name, block.pos), hint="e.g. replicas = 5000")
            continue
        setattr(limits, name, int(v))
    return limits


def within_instances(ld, block: ast.Block, kind: str, name: str, n: int) -> bool:
    """Count ``n`` more workloads/fleets against the configuration's limit."""
    usage = ld.usage
    usage.instances += n
    if usage.instances <= usage.limits.instances:
        return True
    at = block.body.attr("count") or block.body.attr("for_each") or block
    ld.diags.error(f"{kind}.{name} brings the configuration to {usage.instances} workloads and fleets, above "
                   f"the limit of {usage.limits.instances} workloads and fleets in the configuration",
                   block.file, at.pos, hint=hint("instances"))
    return False


def within_sizes(ld, block: ast.Block, kind: str, d: dict) -> bool:
    """replicas and num_nodes (a fleet's nodes) against their limits, before anything
    is built from them, and their product against the configuration's node limit."""
    usage = ld.usage
    from skyplan.config.nodes import positions
    from skyplan.config.values import format_number

    pos = positions(block.body)
    sizes = {"replicas": d.get("replicas"), "num_nodes": d.get("num_nodes" if kind == "workload" else "nodes")}
    ok = True
    for name, v in sizes.items():
        cap = getattr(usage.limits, name)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v > cap:
            shown = name if name == "replicas" or kind == "workload" else "nodes"
            ld.diags.error(f"{shown} = {format_number(v)} is above the limit of {cap}", block.file,
                           pos.get(shown, block.pos), hint=hint(name))
            ok = False
    if not ok:
        return False
    nodes_here = 1
    for v in sizes.values():
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0:
            nodes_here *= int(v)
    usage.nodes += nodes_here
    if usage.nodes > usage.limits.nodes:
        ld.diags.error(f"{kind}.{block.labels[0]}: replicas x num_nodes summed over the configuration is above "
                       f"the limit of {usage.limits.nodes} nodes in the configuration", block.file, block.pos,
                       hint=hint("nodes"))
        return False
    return True

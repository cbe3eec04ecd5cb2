"""The dependency graph as Graphviz DOT (``skyplan graph``)."""

from __future__ import annotations

import json

from skyplan.config.model import DesiredGraph


def _q(s: str) -> str:
    return json.dumps(s)


def to_dot(graph: DesiredGraph) -> str:
    """Workloads (boxes) and fleets (cylinders), an edge from each resource to what it
    depends on, resources of a module grouped in a cluster."""
    lines = ["digraph skyplan {", "  rankdir = \"RL\";", "  node [fontname = \"Helvetica\", fontsize = 11];"]
    groups: dict[str, list[str]] = {}
    for addr, res in sorted(graph.resources().items()):
        kind = res.address.kind
        shape = "cylinder" if kind == "fleet" else "box"
        label = addr
        if kind == "workload":
            acc = ", ".join(str(a) for a in res.resources.accelerators)
            label += f"\\n{res.kind}" + (f" · {acc}" if acc else "") + (f" · {res.num_nodes} nodes" if res.num_nodes > 1 else "")
        node = f"    {_q(addr)} [shape = {shape}, label = \"{label.replace(chr(34), chr(92) + chr(34))}\"];"
        groups.setdefault(res.address.module_address or "", []).append(node)
    for module, items in sorted(groups.items()):
        if module:
            lines.append(f"  subgraph {_q('cluster_' + module)} {{")
            lines.append(f"    label = {_q(module)};")
            lines.extend(items)
            lines.append("  }")
        else:
            lines.extend(i[2:] for i in items)
    for addr, deps in sorted(graph.dependencies().items()):
        for d in deps:
            lines.append(f"  {_q(addr)} -> {_q(d)};")
    lines.append("}")
    return "\n".join(lines) + "\n"

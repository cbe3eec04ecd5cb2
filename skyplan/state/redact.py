"""Redaction of sensitive values before they reach the journal or a display.

A sensitive path names one value inside a resource's ``attributes`` (the config
view): ``env.API_TOKEN``, ``run``, ``ports[0]``, ``env["A.B"]``. A leading
``attributes.`` is accepted too. Redaction returns a copy with each named value
replaced by ``(sensitive value)``; the input is never changed.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any, Iterable, Mapping

SENSITIVE = "(sensitive value)"

_STEP = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_\-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')


def parse_path(path: str) -> list[str | int]:
    """``env.TOKEN`` -> ["env", "TOKEN"]; ``ports[0]`` -> ["ports", 0]. Unparseable -> []."""
    steps: list[str | int] = []
    pos = 0
    while pos < len(path):
        m = _STEP.match(path, pos)
        if not m or m.end() == pos:
            return []
        if m.group(1) is not None:
            steps.append(m.group(1))
        elif m.group(2) is not None:
            steps.append(int(m.group(2)))
        else:
            steps.append(json.loads(m.group(3)))
        pos = m.end()
    if steps[:1] == ["attributes"]:
        steps = steps[1:]
    return steps


def redact_value(tree: Any, paths: Iterable[str]) -> Any:
    """A copy of ``tree`` (plain JSON data) with every value at ``paths`` redacted."""
    parsed = [p for p in (parse_path(x) for x in paths) if p]
    if not parsed:
        return tree
    out = copy.deepcopy(tree)
    for steps in parsed:
        node = out
        for i, step in enumerate(steps):
            last = i == len(steps) - 1
            if isinstance(node, dict) and isinstance(step, str) and step in node:
                if last:
                    node[step] = SENSITIVE
                else:
                    node = node[step]
            elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
                if last:
                    node[step] = SENSITIVE
                else:
                    node = node[step]
            else:
                break
    return out


def redact_record(record: Mapping | None, paths: Iterable[str]) -> dict | None:
    """A ResourceRecord JSON dict with its sensitive attributes redacted."""
    if record is None:
        return None
    out = dict(record)
    if "attributes" in out:
        out["attributes"] = redact_value(out["attributes"], paths)
    return out


def paths_from_tree(tree: Mapping[str, Any] | bool | None, prefix: str = "") -> list[str]:
    """Dotted paths of a Terraform-style marker tree: ``{"env": {"TOKEN": True}}`` ->
    ``["env.TOKEN"]``; ``{"run": True}`` -> ``["run"]``. Lists of markers give ``[i]``."""
    if tree is True:
        return [prefix] if prefix else []
    out: list[str] = []
    if isinstance(tree, Mapping):
        for k, v in tree.items():
            step = f"{prefix}.{k}" if prefix and _STEP.fullmatch(f".{k}") else (
                f"{prefix}[{json.dumps(k)}]" if prefix else str(k))
            out.extend(paths_from_tree(v, step))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            out.extend(paths_from_tree(v, f"{prefix}[{i}]"))
    return out

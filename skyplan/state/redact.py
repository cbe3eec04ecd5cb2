"""Redaction of sensitive values before they reach the journal or a display.

A sensitive path names one value inside a resource's ``attributes`` (the config
view): ``env.API_TOKEN``, ``run``, ``ports[0]``, ``env["A.B"]``. A leading
``attributes.`` is accepted too. Redaction returns a copy with each named value
replaced by ``(sensitive value)``; the input is never changed. The string values
found there are also scrubbed from the record's node attributes and tags, where a
provider may echo them (the local provider keeps a node's env).
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


def _leaves(tree: Any) -> Iterable[Any]:
    if isinstance(tree, dict):
        for v in tree.values():
            yield from _leaves(v)
    elif isinstance(tree, list):
        for v in tree:
            yield from _leaves(v)
    else:
        yield tree


def secret_strings(tree: Any, paths: Iterable[str]) -> list[str]:
    """The string values (4+ characters) found at ``paths``, longest first."""
    found: set[str] = set()
    for steps in (parse_path(p) for p in paths):
        node = tree
        for step in steps:
            if isinstance(node, dict) and isinstance(step, str) and step in node:
                node = node[step]
            elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
                node = node[step]
            else:
                break
        else:
            found.update(v for v in _leaves(node) if isinstance(v, str) and len(v) >= 4)
    return sorted(found, key=len, reverse=True)


def scrub(tree: Any, secrets: Iterable[str]) -> Any:
    """A copy of ``tree`` with every occurrence of the ``secrets`` inside strings redacted."""
    secrets = list(secrets)
    if not secrets:
        return tree
    if isinstance(tree, dict):
        return {k: scrub(v, secrets) for k, v in tree.items()}
    if isinstance(tree, list):
        return [scrub(v, secrets) for v in tree]
    if isinstance(tree, str):
        if tree in secrets:
            return SENSITIVE
        for sec in secrets:
            if sec in tree:
                tree = tree.replace(sec, SENSITIVE)
    return tree


def redact_record(record: Mapping | None, paths: Iterable[str]) -> dict | None:
    """A ResourceRecord JSON dict with its sensitive attributes redacted, and the same
    values wherever else they appear (a provider may echo env into node attributes)."""
    paths = list(paths)
    if record is None or not paths:
        return None if record is None else dict(record)
    out = dict(record)
    attrs = out.get("attributes") or {}
    secrets = secret_strings(attrs, paths)
    out["attributes"] = scrub(redact_value(attrs, paths), secrets)
    groups = []
    for g in out.get("groups") or ():
        g = dict(g)
        insts = []
        for inst in g.get("instances") or ():
            inst = dict(inst)
            inst["attributes"] = scrub(redact_value(inst.get("attributes") or {}, paths), secrets)
            inst["tags"] = scrub(inst.get("tags") or {}, secrets)
            insts.append(inst)
        g["instances"] = insts
        groups.append(g)
    if "groups" in out:
        out["groups"] = groups
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

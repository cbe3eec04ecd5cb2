"""What the planner does with attribute values: paths that differ (deepdiff), ignore_changes,
sensitive and unknown markers in Terraform's nested-boolean shape, and the
comparable view of a placement."""

from __future__ import annotations

import copy
from typing import Any, Iterable, Mapping, Sequence

from skyplan.config.model import Unknown
from skyplan.solver.model import WorkloadPlacement
from skyplan.state.model import ResourceRecord

Path = tuple[str, ...]


_MISSING = object()
_OPTIONAL_HEAVY = ("pandas", "polars", "numpy")


def _deepdiff():
    """deepdiff's DeepDiff, imported without its optional numpy/pandas/polars
    support when those are not loaded already: attributes are plain JSON, and
    those imports would add about a second to every plan that has a change."""
    import sys

    if "deepdiff" in sys.modules:
        from deepdiff import DeepDiff

        return DeepDiff
    blocked = [m for m in _OPTIONAL_HEAVY if m not in sys.modules]
    for m in blocked:
        sys.modules[m] = None  # type: ignore[assignment]  # makes `import m` raise ImportError
    try:
        from deepdiff import DeepDiff
    finally:
        for m in blocked:
            if sys.modules.get(m) is None:
                del sys.modules[m]
    return DeepDiff


def diff_paths(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Path]:
    """Attribute paths whose values differ, e.g. ``("env", "TOKEN")``, ``("run",)``.
    Lists are compared as whole values (one path for the list). Top-level values
    that differ and are not both mappings are one path each; deepdiff finds the
    paths inside the mappings that differ (env, resources, ...)."""
    if before == after:
        return []
    paths: set[Path] = set()
    nested_before: dict[str, Any] = {}
    nested_after: dict[str, Any] = {}
    for key in set(before) | set(after):
        b, a = before.get(key, _MISSING), after.get(key, _MISSING)
        if b == a:
            continue
        if isinstance(b, Mapping) and isinstance(a, Mapping):
            nested_before[key], nested_after[key] = dict(b), dict(a)
        else:
            paths.add((str(key),))
    if nested_before:
        diff = _deepdiff()(nested_before, nested_after, view="tree", ignore_order=False,
                           ignore_private_variables=False, verbose_level=2)
        for items in diff.values():
            for item in items:
                path: list[str] = []
                for step in item.path(output_format="list"):
                    if isinstance(step, int):  # inside a list: the list itself changed
                        break
                    path.append(str(step))
                if path:
                    paths.add(tuple(path))
    return sorted(paths)


def parse_path(text: str) -> Path:
    """``env.TOKEN`` / ``env["TOKEN"]`` / ``resources.cpus`` -> a tuple path."""
    out: list[str] = []
    for part in text.replace('["', ".").replace('"]', "").replace("['", ".").replace("']", "").split("."):
        if part:
            out.append(part)
    return tuple(out)


def under(path: Path, prefixes: Iterable[Path]) -> bool:
    return any(path[: len(p)] == p for p in prefixes)


def get_path(data: Any, path: Path, default: Any = None) -> Any:
    cur = data
    for step in path:
        if not isinstance(cur, Mapping) or step not in cur:
            return default
        cur = cur[step]
    return cur



def set_path(data: dict, path: Path, value: Any) -> None:
    cur = data
    for step in path[:-1]:
        nxt = cur.get(step)
        if not isinstance(nxt, dict):
            nxt = {}
            cur[step] = nxt
        cur = nxt
    if value is _MISSING:
        cur.pop(path[-1], None)
    else:
        cur[path[-1]] = value


def keep_ignored(before: Mapping[str, Any] | None, after: Mapping[str, Any], ignore: Sequence[Path]) -> dict:
    """``after`` with every ignore_changes path holding the prior value instead."""
    if not before or not ignore:
        return dict(after)
    out = copy.deepcopy(dict(after))
    for path in ignore:
        prior = get_path(before, path, _MISSING)
        set_path(out, path, copy.deepcopy(prior) if prior is not _MISSING else _MISSING)
    return out


def marker_tree(paths: Iterable[Path]) -> dict:
    """Terraform's sensitive/unknown shape: ``{"env": {"TOKEN": true}}``."""
    tree: dict = {}
    for path in paths:
        if not path:
            continue
        cur = tree
        for step in path[:-1]:
            nxt = cur.get(step)
            if nxt is True:
                break
            if not isinstance(nxt, dict):
                nxt = {}
                cur[step] = nxt
            cur = nxt
        else:
            cur[path[-1]] = True
    return tree


def marked(tree: Mapping[str, Any] | bool | None, path: Path) -> bool:
    """Whether ``path`` (or one of its prefixes) is marked in a marker tree."""
    cur: Any = tree
    for step in path:
        if cur is True:
            return True
        if not isinstance(cur, Mapping):
            return False
        cur = cur.get(step)
    return cur is True


_SCALARS = (str, int, float, bool, type(None))


def strip_unknown(value: Any, path: Path = ()) -> tuple[Any, list[Path]]:
    """Replace UNKNOWN by None; return the value and the paths that were unknown."""
    if type(value) in _SCALARS:
        return value, []
    if isinstance(value, Unknown):
        return None, [path]
    if isinstance(value, (dict, Mapping)):
        out, unknown = {}, []
        for k, v in value.items():
            if type(v) in _SCALARS:
                out[k] = v
                continue
            out[k], u = strip_unknown(v, path + (str(k),))
            unknown.extend(u)
        return out, unknown
    if isinstance(value, (list, tuple)):
        items, unknown = [], []
        for v in value:
            item, u = strip_unknown(v, path)
            items.append(item)
            unknown.extend(u)
        return items, unknown
    return value, []


def placement_view(groups: Iterable[Any]) -> list[tuple]:
    """What identifies where node groups run (price moves are not a change)."""
    return [(p.provider, p.region, p.zone, p.instance_type, p.pricing, p.nodes, p.fleet)
            for p in groups]


def planned_groups(wp: WorkloadPlacement | None) -> list:
    return [g.chosen for g in wp.groups] if wp else []


def recorded_groups(rec: ResourceRecord | None) -> list:
    return [g.placement for g in rec.groups] if rec else []


def record_placement_json(rec: ResourceRecord) -> dict:
    """A state record's placement in WorkloadPlacement.to_json() shape (no fallbacks)."""
    return {
        "address": rec.address,
        "groups": [{"chosen": g.placement.to_json(), "fallbacks": []} for g in rec.groups],
        "approved_hourly_cost": rec.hourly_cost, "expected_cost": 0.0, "explanation": "", "kept": False,
    }

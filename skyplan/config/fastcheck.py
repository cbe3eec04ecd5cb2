"""A fast yes/no check for the JSON Schema subset skyplan's block schemas use.

jsonschema stays the authority (and writes the error messages); this compiles
``type``, ``enum``, ``pattern``, ``minimum``/``maximum``, ``properties``,
``additionalProperties``, ``required``, ``items``, ``anyOf`` and local ``$ref``
into closures so evaluating 10,000 workloads does not spend its time in the
generic validator. A schema using any other keyword compiles to None: callers
then use jsonschema alone.
"""

from __future__ import annotations

import re
from typing import Any, Callable

Check = Callable[[Any], bool]
_KNOWN = {"type", "enum", "pattern", "minimum", "maximum", "properties", "additionalProperties", "required",
          "items", "anyOf", "$ref", "description", "$schema", "$id", "title", "$defs"}


class _Unsupported(Exception):
    pass


def _is_type(v: Any, t: str) -> bool:
    if t == "object":
        return isinstance(v, dict)
    if t == "array":
        return isinstance(v, list)
    if t == "string":
        return isinstance(v, str)
    if t == "boolean":
        return isinstance(v, bool)
    if t == "null":
        return v is None
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool) or (isinstance(v, float) and v.is_integer())
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    raise _Unsupported(t)


_TYPE_CHECKS = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": lambda v: _is_type(v, "integer"),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}


def compile_schema(root: dict) -> Check | None:
    cache: dict[str, Check] = {}

    def comp(s: dict) -> Check:
        if set(s) - _KNOWN:
            raise _Unsupported(set(s) - _KNOWN)
        checks: list[Check] = []
        if "$ref" in s:
            ref = s["$ref"]
            if not ref.startswith("#/$defs/"):
                raise _Unsupported(ref)
            name = ref[len("#/$defs/"):]

            def by_ref(v, name=name):
                if name not in cache:
                    cache[name] = comp(root["$defs"][name])
                return cache[name](v)
            checks.append(by_ref)
        if "type" in s:
            types = s["type"] if isinstance(s["type"], list) else [s["type"]]
            for t in types:
                _is_type(None, t)
            if len(types) == 1:
                checks.append(_TYPE_CHECKS[types[0]])
            else:
                fns = tuple(_TYPE_CHECKS[t] for t in types)
                checks.append(lambda v: any(f(v) for f in fns))
        if "enum" in s:
            allowed = s["enum"]
            checks.append(lambda v: any(v == a and type(v) is type(a) for a in allowed))
        if "pattern" in s:
            rx = re.compile(s["pattern"])
            checks.append(lambda v: not isinstance(v, str) or rx.search(v) is not None)
        if "minimum" in s:
            checks.append(lambda v, lo=s["minimum"]: not _is_type(v, "number") or v >= lo)
        if "maximum" in s:
            checks.append(lambda v, hi=s["maximum"]: not _is_type(v, "number") or v <= hi)
        if "required" in s:
            req = s["required"]
            checks.append(lambda v: not isinstance(v, dict) or all(k in v for k in req))
        if "properties" in s or "additionalProperties" in s:
            props = {k: comp(x) for k, x in (s.get("properties") or {}).items()}
            extra = s.get("additionalProperties", True)
            extra_check = comp(extra) if isinstance(extra, dict) else None

            def objcheck(v, props=props, extra=extra, extra_check=extra_check):
                if not isinstance(v, dict):
                    return True
                for k, x in v.items():
                    c = props.get(k)
                    if c is not None:
                        if not c(x):
                            return False
                    elif extra is False:
                        return False
                    elif extra_check is not None and not extra_check(x):
                        return False
                return True
            checks.append(objcheck)
        if "items" in s:
            item = comp(s["items"])
            checks.append(lambda v: not isinstance(v, list) or all(item(x) for x in v))
        if "anyOf" in s:
            subs = tuple(comp(x) for x in s["anyOf"])

            def any_of(v, subs=subs):
                for c in subs:
                    if c(v):
                        return True
                return False
            checks.append(any_of)
        if not checks:
            return lambda v: True
        if len(checks) == 1:
            return checks[0]
        checks_t = tuple(checks)

        def all_of(v):
            for c in checks_t:
                if not c(v):
                    return False
            return True
        return all_of

    try:
        check = comp(root)
        for name, d in root.get("$defs", {}).items():
            cache[name] = comp(d)
        return check
    except _Unsupported:
        return None

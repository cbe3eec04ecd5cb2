"""Runtime values of the language and the conversions between them.

Values are plain Python: None (null), bool, int/float (numbers; integral floats
become ints), str, list (tuple/list), ``SetValue`` (a list marked as a set),
dict (object/map) and ``UNKNOWN`` for what is only known after apply.
"""

from __future__ import annotations

import json
import math
from typing import Any

from skyplan.config.model import UNKNOWN, Unknown


class SetValue(list):
    """A set: unique elements, kept in a stable (sorted where possible) order."""


class ConversionError(Exception):
    """A value does not fit the wanted type; the message says why."""


def is_unknown(v: Any) -> bool:
    return v is UNKNOWN


def contains_unknown(v: Any) -> bool:
    if v is UNKNOWN:
        return True
    if isinstance(v, list):
        return any(contains_unknown(x) for x in v)
    if isinstance(v, dict):
        return any(contains_unknown(x) for x in v.values())
    return False


def norm_number(v: float | int) -> float | int:
    if isinstance(v, float) and v.is_integer() and abs(v) < 2 ** 53:
        return int(v)
    return v


def type_name(v: Any) -> str:
    if v is None:
        return "null"
    if v is UNKNOWN:
        return "unknown"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, SetValue):
        return "set"
    if isinstance(v, list):
        return "tuple"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


def to_number(v: Any) -> int | float:
    if isinstance(v, bool):
        raise ConversionError("a number is required, got bool")
    if isinstance(v, (int, float)):
        return norm_number(v)
    if isinstance(v, str):
        try:
            n = float(v.strip()) if any(c in v for c in ".eE") else int(v.strip())
        except ValueError:
            raise ConversionError(f"cannot convert {json.dumps(v)} to a number") from None
        if isinstance(n, float) and (math.isnan(n) or math.isinf(n)):
            raise ConversionError(f"cannot convert {json.dumps(v)} to a number")
        return norm_number(n)
    raise ConversionError(f"a number is required, got {type_name(v)}")


def to_bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v in ("true", "false"):
        return v == "true"
    raise ConversionError(f"a bool is required, got {type_name(v)}"
                          + (f" {json.dumps(v)}" if isinstance(v, str) else ""))


def to_string(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return format_number(v)
    raise ConversionError(f"a string is required, got {type_name(v)}")


def format_number(v: int | float) -> str:
    v = norm_number(v)
    if isinstance(v, int):
        return str(v)
    return repr(v)


def make_set(items: list) -> SetValue:
    seen: list = []
    keys: set = set()
    for x in items:
        k = json.dumps(x, sort_keys=True, default=str)
        if k not in keys:
            keys.add(k)
            seen.append(x)
    try:
        seen.sort(key=lambda x: (type_name(x), x))
    except TypeError:
        seen.sort(key=lambda x: json.dumps(x, sort_keys=True, default=str))
    return SetValue(seen)


def equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if type_name(a) != type_name(b) and not (isinstance(a, list) and isinstance(b, list)):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    return a == b


def to_json_data(v: Any) -> Any:
    """Replace UNKNOWN by None-free JSON data (only used once unknowns are ruled out)."""
    if isinstance(v, list):
        return [to_json_data(x) for x in v]
    if isinstance(v, dict):
        return {k: to_json_data(x) for k, x in v.items()}
    return v


def is_unknown_type(v: Any) -> bool:
    return isinstance(v, Unknown)

"""Collection functions: length concat merge lookup contains keys values coalesce* compact distinct element flatten range reverse sort slice index zipmap chunklist one alltrue anytrue sum set*."""

from __future__ import annotations

import json
import math

from skyplan.config.functions.registry import fn, need_list as _need_list, need_map as _need_map
from skyplan.config.values import (
    UNKNOWN, ConversionError, equal, make_set, norm_number, to_bool, to_number, to_string, type_name,
)


# --- collections -----------------------------------------------------------------

@fn(handles_unknown=True)
def length(v):
    """length(list, map or string)"""
    if v is UNKNOWN:
        return UNKNOWN
    if isinstance(v, (list, dict)):
        return len(v)
    if isinstance(v, str):
        return len(v)
    raise ConversionError(f"length() needs a list, map or string, got {type_name(v)}")


@fn(handles_unknown=True)
def concat(*lists):
    """concat(list, list...)"""
    out = []
    for lst in lists:
        if lst is UNKNOWN:
            return UNKNOWN
        out.extend(_need_list(lst))
    return out


@fn(handles_unknown=True)
def merge(*maps):
    """merge(map, map...)"""
    out: dict = {}
    for m in maps:
        if m is UNKNOWN:
            return UNKNOWN
        if m is None:
            continue
        out.update(_need_map(m))
    return out


@fn(handles_unknown=True)
def lookup(m, key, *default):
    """lookup(map, key, default)"""
    if m is UNKNOWN or key is UNKNOWN:
        return UNKNOWN
    if len(default) > 1:
        raise TypeError("lookup takes 2 or 3 arguments")
    m, key = _need_map(m), to_string(key)
    if key in m:
        return m[key]
    if default:
        return default[0]
    raise ConversionError(f"the map has no key {json.dumps(key)} and no default was given")


@fn()
def contains(lst, value):
    """contains(list, value)"""
    return any(equal(x, value) for x in _need_list(lst))


@fn(handles_unknown=True)
def keys(m):
    """keys(map)"""
    if m is UNKNOWN:
        return UNKNOWN
    return sorted(_need_map(m))


@fn(handles_unknown=True)
def values(m):
    """values(map)"""
    if m is UNKNOWN:
        return UNKNOWN
    m = _need_map(m)
    return [m[k] for k in sorted(m)]


@fn(handles_unknown=True)
def coalesce(*vals):
    """coalesce(values...): the first that is not null or empty string"""
    for v in vals:
        if v is UNKNOWN:
            return UNKNOWN
        if v is not None and v != "":
            return v
    raise ConversionError("no non-null, non-empty argument")


@fn(handles_unknown=True)
def coalescelist(*lists):
    """coalescelist(lists...)"""
    for v in lists:
        if v is UNKNOWN:
            return UNKNOWN
        if _need_list(v):
            return v
    return []


@fn()
def compact(lst):
    """compact(list of strings): drops null and empty strings"""
    return [x for x in _need_list(lst) if x is not None and x != ""]


@fn()
def distinct(lst):
    """distinct(list)"""
    out: list = []
    for x in _need_list(lst):
        if not any(equal(x, y) for y in out):
            out.append(x)
    return out


@fn(handles_unknown=True)
def element(lst, i):
    """element(list, index): wraps around"""
    if lst is UNKNOWN or i is UNKNOWN:
        return UNKNOWN
    lst = _need_list(lst)
    if not lst:
        raise ConversionError("cannot use element() on an empty list")
    n = to_number(i)
    if n != int(n) or n < 0:
        raise ConversionError(f"the index must be a whole number >= 0, got {n}")
    return lst[int(n) % len(lst)]


@fn(handles_unknown=True)
def flatten(lst):
    """flatten(list of lists)"""
    if lst is UNKNOWN:
        return UNKNOWN
    out: list = []

    def rec(x):
        for y in x:
            if isinstance(y, list):
                rec(y)
            else:
                out.append(y)
    rec(_need_list(lst))
    return out


@fn()
def range_(*args):
    """range(limit) | range(start, limit) | range(start, limit, step)"""
    nums = [to_number(a) for a in args]
    if not 1 <= len(nums) <= 3:
        raise TypeError("range takes 1 to 3 arguments")
    start, stop, step = (0, nums[0], 1) if len(nums) == 1 else (nums[0], nums[1], nums[2] if len(nums) == 3 else (1 if nums[1] >= nums[0] else -1))
    if step == 0:
        raise ConversionError("step must not be zero")
    n = max(0, math.ceil((stop - start) / step))
    if n > 1_000_000:
        raise ConversionError("range would produce more than 1,000,000 elements")
    return [norm_number(start + i * step) for i in range(n)]


@fn()
def reverse(lst):
    """reverse(list)"""
    return list(reversed(_need_list(lst)))


@fn()
def sort(lst):
    """sort(list of strings)"""
    return sorted(to_string(x) for x in _need_list(lst))


@fn()
def slice_(lst, start, end):
    """slice(list, start, end)"""
    lst, a, b = _need_list(lst), int(to_number(start)), int(to_number(end))
    if not 0 <= a <= b <= len(lst):
        raise ConversionError(f"slice indices {a}..{b} out of range for a list of {len(lst)}")
    return lst[a:b]


@fn()
def index_(lst, value):
    """index(list, value)"""
    for i, x in enumerate(_need_list(lst)):
        if equal(x, value):
            return i
    raise ConversionError("value not found in the list")


@fn()
def zipmap(ks, vs):
    """zipmap(keys, values)"""
    ks, vs = _need_list(ks), _need_list(vs)
    if len(ks) != len(vs):
        raise ConversionError("keys and values must have the same length")
    return {to_string(k): v for k, v in zip(ks, vs)}


@fn()
def chunklist(lst, size):
    """chunklist(list, size)"""
    lst, n = _need_list(lst), int(to_number(size))
    if n <= 0:
        return [lst]
    return [lst[i:i + n] for i in range(0, len(lst), n)]


@fn()
def one(lst):
    """one(list): the single element, or null for an empty list"""
    lst = _need_list(lst)
    if len(lst) > 1:
        raise ConversionError(f"must be a list of zero or one elements, got {len(lst)}")
    return lst[0] if lst else None


@fn()
def alltrue(lst):
    """alltrue(list of bools)"""
    return all(to_bool(x) for x in _need_list(lst))


@fn()
def anytrue(lst):
    """anytrue(list of bools)"""
    return any(to_bool(x) for x in _need_list(lst))


@fn()
def sum_(lst):
    """sum(list of numbers)"""
    lst = _need_list(lst)
    if not lst:
        raise ConversionError("cannot sum an empty list")
    return norm_number(math.fsum(to_number(x) for x in lst))


@fn()
def setunion(*sets):
    """setunion(sets...)"""
    return make_set([x for s in sets for x in _need_list(s)])


@fn()
def setintersection(first, *rest):
    """setintersection(sets...)"""
    return make_set([x for x in _need_list(first) if all(any(equal(x, y) for y in _need_list(r)) for r in rest)])

"""Number, type-conversion and encoding functions: min max abs ceil floor pow signum parseint to* json* base64* sha256 md5 basename dirname."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os

from skyplan.config.functions.registry import fn, need_list as _need_list, need_map as _need_map
from skyplan.config.values import (
    UNKNOWN, ConversionError, make_set, norm_number, to_bool, to_number, to_string,
)


# --- numbers -----------------------------------------------------------------------

def _numbers(args) -> list:
    flat = []
    for a in args:
        flat.extend(a if isinstance(a, list) else [a])
    if not flat:
        raise ConversionError("at least one number is needed")
    return [to_number(x) for x in flat]


@fn()
def min_(*args):
    """min(numbers...)"""
    return min(_numbers(args))


@fn()
def max_(*args):
    """max(numbers...)"""
    return max(_numbers(args))


@fn()
def abs_(n):
    """abs(number)"""
    return abs(to_number(n))


@fn()
def ceil(n):
    """ceil(number)"""
    return math.ceil(to_number(n))


@fn()
def floor(n):
    """floor(number)"""
    return math.floor(to_number(n))


@fn()
def pow_(a, b):
    """pow(base, exponent)"""
    return norm_number(float(to_number(a)) ** to_number(b))


@fn()
def signum(n):
    """signum(number)"""
    n = to_number(n)
    return (n > 0) - (n < 0)


@fn()
def parseint(s, base):
    """parseint(string, base)"""
    return int(to_string(s), int(to_number(base)))


# --- type conversion -------------------------------------------------------------------

@fn()
def tostring(v):
    """tostring(value)"""
    return None if v is None else to_string(v)


@fn()
def tonumber(v):
    """tonumber(value)"""
    return None if v is None else to_number(v)


@fn()
def tobool(v):
    """tobool(value)"""
    return None if v is None else to_bool(v)


@fn(handles_unknown=True)
def toset(v):
    """toset(list)"""
    if v is UNKNOWN:
        return UNKNOWN
    return make_set(_need_list(v))


@fn(handles_unknown=True)
def tolist(v):
    """tolist(list or set)"""
    if v is UNKNOWN:
        return UNKNOWN
    return list(_need_list(v))


@fn(handles_unknown=True)
def tomap(v):
    """tomap(object)"""
    if v is UNKNOWN:
        return UNKNOWN
    return dict(_need_map(v))


# --- encoding and files -----------------------------------------------------------------

@fn()
def jsonencode(v):
    """jsonencode(value)"""
    return json.dumps(v, separators=(",", ":"), sort_keys=True)


@fn()
def jsondecode(s):
    """jsondecode(string)"""
    try:
        v = json.loads(to_string(s))
    except json.JSONDecodeError as e:
        raise ConversionError(f"invalid JSON: {e}") from None
    return _norm_json(v)


def _norm_json(v):
    if isinstance(v, float):
        return norm_number(v)
    if isinstance(v, list):
        return [_norm_json(x) for x in v]
    if isinstance(v, dict):
        return {k: _norm_json(x) for k, x in v.items()}
    return v


@fn()
def base64encode(s):
    """base64encode(string)"""
    return base64.b64encode(to_string(s).encode()).decode()


@fn()
def base64decode(s):
    """base64decode(string)"""
    try:
        return base64.b64decode(to_string(s), validate=True).decode()
    except (ValueError, UnicodeDecodeError) as e:
        raise ConversionError(f"invalid base64: {e}") from None


@fn()
def sha256(s):
    """sha256(string)"""
    return hashlib.sha256(to_string(s).encode()).hexdigest()


@fn()
def md5(s):
    """md5(string)"""
    return hashlib.md5(to_string(s).encode()).hexdigest()


@fn()
def basename(p):
    """basename(path)"""
    return os.path.basename(to_string(p))


@fn()
def dirname(p):
    """dirname(path)"""
    return os.path.dirname(to_string(p))

"""The built-in functions of the language (a subset of Terraform's, same behaviour).

Each function takes evaluated values. Unless marked ``handles_unknown``, a call
with an unknown value anywhere in its arguments is itself unknown. ``try`` and
``can`` evaluate their arguments lazily and live in ``LAZY``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import re
from typing import Any, Callable

from skyplan.config.evaluator import EvalError, Poisoned, evaluate
from skyplan.config.values import (
    UNKNOWN, ConversionError, SetValue, contains_unknown, equal, make_set, norm_number, to_bool,
    to_number, to_string, type_name,
)

FUNCTIONS: dict[str, Callable] = {}


def fn(name: str | None = None, *, handles_unknown: bool = False):
    def deco(f):
        f.handles_unknown = handles_unknown
        FUNCTIONS[name or f.__name__.rstrip("_")] = f
        return f
    return deco


def _need_list(v, what="argument") -> list:
    if not isinstance(v, list):
        raise ConversionError(f"{what} must be a list, got {type_name(v)}")
    return v


def _need_map(v, what="argument") -> dict:
    if not isinstance(v, dict):
        raise ConversionError(f"{what} must be a map or object, got {type_name(v)}")
    return v


# --- strings -------------------------------------------------------------------

@fn()
def lower(s):
    """lower(string)"""
    return to_string(s).lower()


@fn()
def upper(s):
    """upper(string)"""
    return to_string(s).upper()


@fn()
def title(s):
    """title(string)"""
    return re.sub(r"\b\w", lambda m: m.group(0).upper(), to_string(s))


@fn()
def trimspace(s):
    """trimspace(string)"""
    return to_string(s).strip()


@fn()
def trim(s, chars):
    """trim(string, chars)"""
    return to_string(s).strip(to_string(chars))


@fn()
def trimprefix(s, p):
    """trimprefix(string, prefix)"""
    s, p = to_string(s), to_string(p)
    return s[len(p):] if p and s.startswith(p) else s


@fn()
def trimsuffix(s, p):
    """trimsuffix(string, suffix)"""
    s, p = to_string(s), to_string(p)
    return s[:-len(p)] if p and s.endswith(p) else s


@fn()
def startswith(s, p):
    """startswith(string, prefix)"""
    return to_string(s).startswith(to_string(p))


@fn()
def endswith(s, p):
    """endswith(string, suffix)"""
    return to_string(s).endswith(to_string(p))


@fn()
def strrev(s):
    """strrev(string)"""
    return to_string(s)[::-1]


@fn()
def substr(s, offset, length):
    """substr(string, offset, length)"""
    s, o, n = to_string(s), int(to_number(offset)), int(to_number(length))
    if o < 0:
        o = max(0, len(s) + o)
    return s[o:] if n < 0 else s[o:o + n]


@fn()
def join(sep, *lists):
    """join(separator, list)"""
    if not lists:
        raise ConversionError("join needs at least one list")
    items = []
    for lst in lists:
        for x in _need_list(lst):
            if x is None:
                raise ConversionError("cannot join a null element")
            items.append(to_string(x))
    return to_string(sep).join(items)


@fn()
def split(sep, s):
    """split(separator, string)"""
    s = to_string(s)
    return s.split(to_string(sep)) if s else [""]


@fn()
def replace(s, old, new):
    """replace(string, substring, replacement); a substring in /slashes/ is a regular expression"""
    s, old, new = to_string(s), to_string(old), to_string(new)
    if len(old) >= 2 and old.startswith("/") and old.endswith("/"):
        try:
            pattern = re.compile(old[1:-1])
        except re.error as e:
            raise ConversionError(f"invalid regular expression: {e}") from None
        return pattern.sub(re.sub(r"\$(\d+)", r"\\\1", new), s)
    return s.replace(old, new)


@fn()
def regex(pattern, s):
    """regex(pattern, string)"""
    try:
        m = re.search(to_string(pattern), to_string(s))
    except re.error as e:
        raise ConversionError(f"invalid regular expression: {e}") from None
    if not m:
        raise ConversionError("pattern did not match")
    if m.groupdict():
        return dict(m.groupdict())
    return list(m.groups()) if m.groups() else m.group(0)


_VERB = re.compile(r"%(?P<flags>[-+# 0]*)(?P<width>\d+)?(?:\.(?P<prec>\d+))?(?P<verb>[a-zA-Z%])")


@fn()
def format(spec, *args):
    """format(spec, values...): %s %d %f %q %v %t %%"""
    spec = to_string(spec)
    out, argi, pos = [], 0, 0
    for m in _VERB.finditer(spec):
        out.append(spec[pos:m.start()])
        pos = m.end()
        verb = m.group("verb")
        if verb == "%":
            out.append("%")
            continue
        if argi >= len(args):
            raise ConversionError(f"not enough arguments for format string {spec!r}")
        v = args[argi]
        argi += 1
        flags, width, prec = m.group("flags") or "", m.group("width") or "", m.group("prec")
        py = "%" + flags + width + (f".{prec}" if prec is not None else "")
        if verb in ("s", "v"):
            text = json.dumps(v, separators=(",", ":")) if isinstance(v, (list, dict)) else to_string(v)
            out.append((py + "s") % text)
        elif verb == "q":
            out.append((py + "s") % json.dumps(to_string(v)))
        elif verb == "d":
            n = to_number(v)
            if not isinstance(n, int):
                raise ConversionError(f"%d needs a whole number, got {n}")
            out.append((py + "d") % n)
        elif verb in ("f", "e", "g", "x", "X", "o", "b"):
            n = to_number(v)
            if verb == "b":
                out.append(bin(int(n))[2:])
            else:
                out.append((py + verb) % (int(n) if verb in "xXo" else n))
        elif verb == "t":
            out.append("true" if to_bool(v) else "false")
        else:
            raise ConversionError(f"unsupported format verb %{verb}")
    out.append(spec[pos:])
    if argi < len(args):
        raise ConversionError(f"too many arguments for format string {spec!r}")
    return "".join(out)


@fn()
def formatlist(spec, *args):
    """formatlist(spec, lists-or-values...)"""
    n = max((len(a) for a in args if isinstance(a, list)), default=1)
    return [format(spec, *[a[i] if isinstance(a, list) else a for a in args]) for i in range(n)]


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
    return lst[int(to_number(i)) % len(lst)]


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


# --- lazy functions (need the scope) ------------------------------------------------------

def _file_path(e, s, name):
    if len(e.args) != 1:
        raise EvalError(f"Wrong number of arguments to {name}()", e.pos, hint=f"{name}(path)")
    p = evaluate(e.args[0], s)
    if p is UNKNOWN:
        return None
    try:
        p = to_string(p)
    except ConversionError as err:
        raise EvalError(f"Invalid argument to {name}(): {err}", e.pos) from None
    return p if os.path.isabs(p) else os.path.join(s.base_dir, p)


def _file(e, s):
    path = _file_path(e, s, "file")
    if path is None:
        return UNKNOWN
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as err:
        raise EvalError(f"Cannot read file {path!r}: {getattr(err, 'strerror', None) or err}", e.pos,
                        hint="paths are relative to the configuration folder") from None


def _fileexists(e, s):
    path = _file_path(e, s, "fileexists")
    return UNKNOWN if path is None else os.path.isfile(path)


def _try(e, s):
    if not e.args:
        raise EvalError("try() needs at least one argument", e.pos)
    for a in e.args:
        try:
            return evaluate(a, s)
        except (EvalError, Poisoned):
            continue
    raise EvalError("No argument of try() could be evaluated", e.pos,
                    hint="add a last argument that always works, e.g. try(var.x.y, null)")


def _can(e, s):
    if len(e.args) != 1:
        raise EvalError("can() takes exactly one argument", e.pos)
    try:
        v = evaluate(e.args[0], s)
    except EvalError:
        return False
    return UNKNOWN if v is UNKNOWN else True


LAZY: dict[str, Callable[[Any, Any], Any]] = {
    "try": _try, "can": _can, "file": _file, "fileexists": _fileexists,
}

ALL_NAMES = sorted(set(FUNCTIONS) | set(LAZY))

_ = (SetValue, contains_unknown)

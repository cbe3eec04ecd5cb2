"""String functions: lower upper title trim* startswith endswith strrev substr join split replace regex format formatlist."""

from __future__ import annotations

import json
import re

from skyplan.config.functions.registry import fn, need_list as _need_list
from skyplan.config.values import (
    ConversionError, to_bool, to_number, to_string,
)


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
        if int(width or 0) > 1000 or int(prec or 0) > 100:
            raise ConversionError(f"format width or precision too large in {m.group(0)!r}")
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

"""``required_version`` constraints: ``">= 0.1, < 2"``, ``"~> 0.1"``, ``"= 0.1.0"``."""

from __future__ import annotations

import re

_PART = re.compile(r"^\s*(>=|<=|!=|~>|>|<|=)?\s*v?(\d+(?:\.\d+){0,2})\s*$")


def _tuple(v: str) -> tuple:
    nums = [int(x) for x in v.split(".")]
    return tuple(nums + [0] * (3 - len(nums)))


def satisfies(constraint: str, version: str | None = None) -> str:
    """'' when ``version`` (skyplan's own by default) meets the constraint, else why not."""
    if version is None:
        from skyplan import __version__ as version
    have = _tuple(re.match(r"\d+(?:\.\d+){0,2}", version).group(0))
    for part in constraint.split(","):
        m = _PART.match(part)
        if not m:
            return f"Invalid required_version constraint {part.strip()!r}"
        op, want_s = m.group(1) or "=", m.group(2)
        want = _tuple(want_s)
        if op == "~>":
            depth = want_s.count(".")
            upper = list(want[:max(depth, 1)])
            upper[-1] += 1
            ok = have >= want and have[:len(upper)] < tuple(upper)
        else:
            ok = {">=": have >= want, "<=": have <= want, ">": have > want, "<": have < want,
                  "=": have == want, "!=": have != want}[op]
        if not ok:
            return f"This configuration requires skyplan {constraint.strip()}, but this is skyplan {version}"
    return ""

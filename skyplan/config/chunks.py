"""A large file as its top-level blocks, so that a change re-parses only its block.

``split`` cuts a file's text into runs of whole lines, each holding one
top-level block (with the blank and comment lines before it), by a scan that
knows strings, template interpolations, heredocs and comments; anything it is
not sure of (text outside a block, an unclosed bracket) gives None, and the
file is parsed whole. ``shift`` moves a block parsed on its own to the lines it
has in the file. The parse cache (``parsecache.parse_file``) keeps each block's
tree by its text, so one edited workload of ten thousand costs one block's
parse, not the file's (python-hcl2's lark parser takes about 3 s per 1,000).
"""

from __future__ import annotations

import re
from dataclasses import fields, is_dataclass, replace

_TOKEN = re.compile(r'"|\$\{|%\{|[{}\[\]()]|#|//|/\*|<<-?[A-Za-z_][A-Za-z0-9_-]*|\n')
_IN_STRING = re.compile(r'\\.|"|\$\{|%\{|\n', re.S)
_OPEN = "{[("


def split(text: str) -> list[tuple[int, str]] | None:
    """(first line, text) of each top-level block, in order, or None."""
    out: list[tuple[int, str]] = []
    start_line, start, line = 1, 0, 1
    depth = 0  # brackets open at the top level
    stack: list[int] = []  # template interpolations open inside strings: their bracket depth
    seen_block = False
    pos, n = 0, len(text)
    while pos < n:
        if stack and stack[-1] < 0:  # inside a string (marked by a negative depth)
            m = _IN_STRING.search(text, pos)
            if m is None or m.group() == "\n":
                return None  # a quoted string does not span lines
            tok, pos = m.group(), m.end()
            if tok == '"':
                stack.pop()
            elif tok in ("${", "%{"):
                stack.append(0)
            continue
        m = _TOKEN.search(text, pos)
        if m is None:
            break
        tok, pos = m.group(), m.end()
        if tok == "\n":
            line += 1
            if not stack and depth == 0 and seen_block:
                out.append((start_line, text[start:pos]))
                start_line, start, seen_block = line, pos, False
        elif tok == '"':
            stack.append(-1)
        elif tok in ("#", "//"):
            end = text.find("\n", pos)
            pos = n if end < 0 else end
        elif tok == "/*":
            end = text.find("*/", pos)
            if end < 0:
                return None
            line += text.count("\n", pos, end)
            pos = end + 2
        elif tok.startswith("<<"):
            marker = tok.lstrip("<-")
            close = re.compile(rf"^[ \t]*{re.escape(marker)}[ \t]*$", re.M).search(text, text.find("\n", pos) + 1)
            if close is None or text.find("\n", pos) < 0:
                return None
            line += text.count("\n", pos, close.end())
            pos = close.end()
        elif tok in ("${", "%{"):
            return None  # an interpolation outside a string: not HCL this scan knows
        elif tok in _OPEN:
            if stack:
                stack[-1] += 1
            else:
                if depth == 0 and tok != "{":
                    return None  # a top-level attribute's value, not a block
                depth += 1
                seen_block = True
        else:  # closing bracket
            if stack:
                if stack[-1] == 0 and tok == "}":
                    stack.pop()  # the interpolation ends: back in its string
                else:
                    stack[-1] -= 1
            else:
                depth -= 1
                if depth < 0:
                    return None
    if stack or depth:
        return None
    if start < n:
        if not out:
            return None
        if seen_block:
            out.append((start_line, text[start:]))
        else:  # blank lines or comments after the last block
            first, last = out[-1]
            out[-1] = (first, last + text[start:])
    return out


def shift(value, lines: int):
    """``value`` (a syntax tree node) with every position ``lines`` further down."""
    if not lines:
        return value
    return _shift(value, lines)


def _shift(v, lines: int):
    if isinstance(v, tuple):
        return tuple(_shift(x, lines) for x in v)
    if not is_dataclass(v) or isinstance(v, type):
        return v
    changes = {}
    for f in fields(v):
        x = getattr(v, f.name)
        if f.name in ("pos", "end"):
            if isinstance(x, tuple) and len(x) == 2 and x[0]:
                changes[f.name] = (x[0] + lines, x[1])
        elif f.name == "label_pos":
            changes[f.name] = tuple((p[0] + lines, p[1]) for p in x)
        elif isinstance(x, tuple) or is_dataclass(x):
            changes[f.name] = _shift(x, lines)
    return replace(v, **changes) if changes else v


__all__ = ["split", "shift"]

"""A fast path for the plain parts of a configuration file.

Most top-level blocks of a large configuration hold nothing but names, plain
strings, whole or decimal numbers, ``true``/``false``/``null`` and lists of
them. This module reads such a block directly into the same ``ast`` nodes,
with the same positions, that python-hcl2's lark parser and ``syntax.py``
give, about ten times faster. Any top-level item it does not fully recognise
(a reference, an operator, a template, an object, a heredoc, an escape, a
comment inside a value, ...) is handed to the lark parser as a fragment that
starts at its line, so positions stay those of the file; if any fragment is
not valid on its own, the whole file goes through the lark parser, which gives
exactly the error it always gave.
"""

from __future__ import annotations

import bisect
import re

from skyplan.config import ast

_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_-]*")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_PLAIN = re.compile(r'"([^"\\\n$%]*)"')  # a string with no escape, interpolation or directive
_SPACE = re.compile(r"[ \t]*")
_NL = re.compile(r"\n[ \t]*|#[^\n]*\n|//[^\n]*\n|/\*(?:.|\n)*?\*/")
_TOP_START = re.compile(r"^[a-zA-Z_]", re.M)
_AFTER_NUMBER = re.compile(r"[a-zA-Z0-9_.\-]")
_KEYWORDS = {"true": True, "false": False, "null": None}
_CUTS = 8  # longer pieces tried for one unsure item before the whole file goes to lark


class _Unsure(Exception):
    """This item is not one the fast path reads; the lark parser reads it."""


def parse(text: str, path: str, fragment) -> ast.File | None:
    """The syntax tree of ``text``, or None when the lark parser must read the
    whole file. ``fragment(text, path, line_offset)`` parses a piece with lark."""
    if "\r" in text or "\t" in text or not text.strip():
        return None
    full = text + "\n"  # as syntax.parse_text parses it
    p = _Reader(full, path)
    attrs: list = []
    blocks: list = []
    i = 0
    while True:
        i = p.skip_layout(i)
        if i >= len(full):
            break
        kept = len(attrs), len(blocks)
        try:
            i = p.item(i, attrs, blocks)
        except _Unsure:
            del attrs[kept[0]:], blocks[kept[1]:]  # what the item added before it turned out unsure
            start = full.rfind("\n", 0, i) + 1
            piece, end = _fragment(full, start, p, path, fragment)
            if piece is None:
                return None
            attrs.extend(piece.body.attributes)
            blocks.extend(piece.body.blocks)
            i = end
    if not attrs and not blocks:
        return None
    end = (full.count("\n") + 1, 1)
    return ast.File(path=path, body=ast.Body(tuple(attrs), tuple(blocks), end), text=text)


def _fragment(full: str, start: int, p: "_Reader", path: str, fragment) -> tuple:
    """Parse with lark from ``start`` to the next line that starts with a name
    (a top-level item), or to a later such line when that cut is inside the item
    (a heredoc's closing marker, say). (File or None, end)."""
    at = p.line_end(start) + 1
    for _ in range(_CUTS):
        m = _TOP_START.search(full, at)
        end = m.start() if m else len(full)
        try:
            return fragment(full[start:end], path, p.line_of(start) - 1), end
        except Exception:  # noqa: BLE001 - not a whole item: try a longer piece
            if m is None:
                break
            at = p.line_end(end) + 1
    return None, len(full)  # the whole file goes to lark, which shows any error as before


class _Reader:
    def __init__(self, text: str, path: str):
        self.t, self.path = text, path
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    # positions
    def line_of(self, i: int) -> int:
        return bisect.bisect_right(self.starts, i)

    def pos(self, i: int) -> tuple:
        line = bisect.bisect_right(self.starts, i)
        return (line, i - self.starts[line - 1] + 1)

    def line_end(self, i: int) -> int:
        j = self.t.find("\n", i)
        return len(self.t) if j < 0 else j

    # layout
    def skip_layout(self, i: int) -> int:
        """Past spaces, new lines and comments."""
        t = self.t
        while i < len(t):
            i = _SPACE.match(t, i).end()
            m = _NL.match(t, i)
            if not m:
                break
            i = m.end()
        return i

    def item_end(self, i: int, body_end: list) -> int:
        """After an attribute or block: spaces, then a new line/comment (kept as
        the body's last token) or the closing brace."""
        t = self.t
        i = _SPACE.match(t, i).end()
        m = _NL.match(t, i)
        if m:
            while m:
                body_end[0] = m.end()
                i = _SPACE.match(t, m.end()).end()
                m = _NL.match(t, i)
            return i
        if i < len(t) and t[i] == "}":
            return i
        raise _Unsure

    # structure
    def item(self, i: int, attrs: list, blocks: list, body_end: list | None = None) -> int:
        t = self.t
        m = _NAME.match(t, i)
        if not m:
            raise _Unsure
        name, j = m.group(), _SPACE.match(t, m.end()).end()
        if j < len(t) and t[j] == "=" and t[j + 1:j + 2] not in ("=", ">"):
            k = _SPACE.match(t, j + 1).end()
            expr, end = self.expr(k)
            attrs.append(ast.Attribute(pos=self.pos(i), name=name, expr=expr, text=t[k:end]))
            last = [end]
            nxt = self.item_end(end, last)
        else:
            labels, label_pos = [], []
            while j < len(t) and t[j] != "{":
                lm = _PLAIN.match(t, j) or _NAME.match(t, j)
                if not lm:
                    raise _Unsure
                labels.append(lm.group(1) if lm.re is _PLAIN else lm.group())
                label_pos.append(self.pos(j))
                j = _SPACE.match(t, lm.end()).end()
            if j >= len(t):
                raise _Unsure
            body, close = self.body(j + 1)
            blocks.append(ast.Block(pos=self.pos(i), type=name, labels=tuple(labels), body=body,
                                    file=self.path, label_pos=tuple(label_pos)))
            last = [close + 1]
            nxt = self.item_end(close + 1, last)
        if body_end is not None:
            body_end[0] = last[0]
        return nxt

    def body(self, i: int) -> tuple:
        """The body after ``{``: (Body, index of its ``}``)."""
        t = self.t
        attrs: list = []
        blocks: list = []
        last = [None]
        i = _SPACE.match(t, i).end()
        m = _NL.match(t, i)
        while m:
            last[0] = m.end()
            i = _SPACE.match(t, m.end()).end()
            m = _NL.match(t, i)
        while i < len(t) and t[i] != "}":
            i = self.item(i, attrs, blocks, last)
        if i >= len(t):
            raise _Unsure
        end = self.pos(last[0]) if last[0] is not None else (0, 0)
        return ast.Body(tuple(attrs), tuple(blocks), end), i

    # values
    def expr(self, i: int) -> tuple:
        """A plain value at ``i``: (node, index after it)."""
        t = self.t
        c = t[i] if i < len(t) else ""
        if c == '"':
            m = _PLAIN.match(t, i)
            if not m:
                raise _Unsure
            return ast.Literal(self.pos(i), m.group(1)), m.end()
        if c.isdigit():
            m = _NUMBER.match(t, i)
            if _AFTER_NUMBER.match(t, m.end()):
                raise _Unsure
            s = m.group()
            return ast.Literal(self.pos(i), float(s) if "." in s else int(s)), m.end()
        if c == "[":
            return self.tuple(i)
        m = _NAME.match(t, i)
        if m and m.group() in _KEYWORDS:
            nxt = t[m.end():m.end() + 1]
            if nxt and (nxt.isalnum() or nxt in "_-.[("):
                raise _Unsure
            return ast.Literal(self.pos(i), _KEYWORDS[m.group()]), m.end()
        raise _Unsure

    def tuple(self, i: int) -> tuple:
        t = self.t
        items = []
        j = self._gap(i + 1)
        while t[j] != "]":
            node, j = self.expr(j)
            items.append(node)
            j = self._gap(j)
            if t[j] == ",":
                j = self._gap(j + 1)
            elif t[j] != "]":
                raise _Unsure
        return ast.TupleExpr(self.pos(i), tuple(items)), j + 1

    def _gap(self, i: int) -> int:
        """Spaces and new lines inside a list (a comment there: the lark parser reads it)."""
        t = self.t
        while True:
            i = _SPACE.match(t, i).end()
            if i >= len(t):
                raise _Unsure
            if t[i] == "\n":
                i += 1
                continue
            if t[i] in "#/":
                raise _Unsure
            return i

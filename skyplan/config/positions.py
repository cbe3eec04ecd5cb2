"""Where each value of a block was written: attribute paths to SourceRanges
(``DesiredGraph.positions``), so stages after loading can name file:line:col.

A block's table is worked out when it is first read (``Positions``): only a
message that names a value reads one, and walking every block of a large
configuration up front took a fifth of evaluating it."""

from __future__ import annotations

from typing import Iterator, Mapping

from skyplan.config import ast
from skyplan.errors import SourceRange


def value_positions(block: ast.Block) -> dict:
    """attribute path -> SourceRange for everything written in ``block`` ("" is the
    block itself; list elements written literally get ``path[i]``)."""
    out = {"": SourceRange(block.file, *block.pos)}

    def walk(body: ast.Body, prefix: str) -> None:
        for a in body.attributes:
            out.setdefault(prefix + a.name, SourceRange(block.file, *a.pos))
            if isinstance(a.expr, ast.TupleExpr):
                for i, item in enumerate(a.expr.items):
                    out.setdefault(f"{prefix}{a.name}[{i}]", SourceRange(block.file, *item.pos))
        seen: dict[str, int] = {}
        for b in body.blocks:
            n = seen[b.type] = seen.get(b.type, -1) + 1
            for name in (b.type, f"{b.type}[{n}]"):  # repeated blocks (quota) by their index too
                out.setdefault(prefix + name, SourceRange(block.file, *b.pos))
                walk(b.body, prefix + name + ".")
    walk(block.body, "")
    return out


class Positions(Mapping):
    """``value_positions(block)``, worked out on first read."""

    __slots__ = ("_block", "_table")

    def __init__(self, block: ast.Block):
        self._block: ast.Block | None = block
        self._table: dict | None = None

    def _read(self) -> dict:
        if self._table is None:
            self._table = value_positions(self._block)
            self._block = None
        return self._table

    def __getitem__(self, path: str):
        return self._read()[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())

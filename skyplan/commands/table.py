"""Plain-text tables that stay within the terminal's width (``skyplan status``).

A row whose cell carries a reason (``unknown (aws: credentials ...)``) keeps the
short word in its column and, when the table would not fit, prints the reason
on wrapped lines beneath the row; columns marked wrappable (addresses,
placements) are then narrowed and their cells wrapped onto extra lines.
Piped output with no ``COLUMNS`` has no width limit: one row per line.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from typing import Sequence

GAP = "  "
MIN_WRAPPED = 12
NOTE_INDENT = "    "


def terminal_width() -> int | None:
    """``COLUMNS`` when set, the terminal's width on a terminal, else None (no limit)."""
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def split_reason(cell: str) -> tuple[str, str]:
    """``"unknown (why)"`` -> ``("unknown", "why")``; a cell without a reason -> ``(cell, "")``."""
    head, sep, rest = cell.partition(" (")
    if not sep or not rest.endswith(")"):
        return cell, ""
    return head, rest[:-1]


def _fits(table: Sequence[Sequence[str]], widths: Sequence[int], width: int | None) -> bool:
    return width is None or sum(widths) + len(GAP) * (len(widths) - 1) <= width


def _widths(table: Sequence[Sequence[str]]) -> list[int]:
    return [max(len(row[i]) for row in table) for i in range(len(table[0]))]


def _wrap(text: str, width: int) -> list[str]:
    """Wrap ``text`` into lines of at most ``width``, breaking after spaces, dots and
    slashes (``module.m.workload.x``, ``aws/us-east-1/us-east-1a``) where it can."""
    import re

    lines, line = [], ""
    for piece in re.split(r"(?<=[ ./])", text):
        while len(piece) > width:  # a piece longer than the column is cut where it must be
            room = width - len(line)
            lines.append(line + piece[:room])
            line, piece = "", piece[room:]
        if len(line) + len(piece.rstrip()) > width:
            lines.append(line.rstrip())
            line = ""
        line += piece
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]], *, right: set[int] = frozenset(),
                 reasons: int | None = None, wrap: set[int] = frozenset(), width: int | None = None,
                 notes: Sequence[str] = ()) -> list[str]:
    """The lines of a table of ``rows`` under ``header``. Column ``reasons`` may hold
    ``word (reason)`` cells whose reason moves under the row when the table is too
    wide for ``width``; columns in ``wrap`` are narrowed (down to MIN_WRAPPED) next.
    ``notes`` (one per row, may be empty) are printed under their row, wrapped."""
    table = [list(header)] + [list(r) for r in rows]
    under: list[list[str]] = [[]] + [[n] if n else [] for n in notes] + [[]] * (len(rows) - len(notes))
    widths = _widths(table)
    if reasons is not None and not _fits(table, widths, width):
        for n, row in enumerate(table[1:], start=1):
            row[reasons], moved = split_reason(row[reasons])
            if moved:
                under[n] = [moved] + under[n]
        widths = _widths(table)
    if width is not None:
        excess = sum(widths) + len(GAP) * (len(widths) - 1) - width
        while excess > 0:
            col = max((i for i in wrap if widths[i] > MIN_WRAPPED), key=lambda i: widths[i], default=None)
            if col is None:
                break
            widths[col] -= 1  # narrow the widest wrappable column, one character at a time
            excess -= 1
    out: list[str] = []
    for n, row in enumerate(table):
        cells = [_wrap(c, widths[i]) if i in wrap and len(c) > widths[i] else [c] for i, c in enumerate(row)]
        for k in range(max(len(c) for c in cells)):
            parts = []
            for i, c in enumerate(cells):
                text = c[k] if k < len(c) else ""
                parts.append(text.rjust(widths[i]) if i in right else text.ljust(widths[i]))
            out.append(GAP.join(parts).rstrip())
        for note in under[n]:
            note_width = max(20, (width or 0) - len(NOTE_INDENT)) if width else None
            lines = textwrap.wrap(note, note_width) if note_width else [note]
            out.extend(NOTE_INDENT + line for line in lines)
    return out

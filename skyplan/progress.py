"""Progress of the long phases of a command: loading, refreshing, solving, applying.

Everything goes to stderr, so stdout (a plan, a ``--json`` document or event
stream) stays exactly what it was:

- on a terminal, a phase that runs longer than ``SHOW_AFTER`` seconds shows a
  status line (``Solving placements... 4s``) redrawn until it ends, then cleared;
- piped, each such phase writes one JSON line when it ends:
  ``{"type": "progress", "phase": "solve", "title": "Solving placements", "seconds": 12.3, "ok": true}``.

``SKYPLAN_PROGRESS=0`` turns it off; ``SKYPLAN_PROGRESS_AFTER=SECONDS`` sets the
threshold (default 2). Only the CLI turns it on (``configure``): a program
calling skyplan's functions gets no output from here.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from typing import Iterator

SHOW_AFTER = 2.0
REDRAW = 0.25
_mode: str | None = None  # None (off) | "terminal" | "json"
_after = SHOW_AFTER


def configure() -> None:
    """Report phases on stderr as the environment and stderr allow (see the module doc)."""
    global _mode, _after
    if os.environ.get("SKYPLAN_PROGRESS", "1").strip().lower() in ("0", "false", "no", "off"):
        _mode = None
        return
    try:
        _after = max(0.0, float(os.environ.get("SKYPLAN_PROGRESS_AFTER", SHOW_AFTER)))
    except ValueError:
        _after = SHOW_AFTER
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):
        tty = False
    _mode = "terminal" if tty else "json"


def _write(text: str) -> None:
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


class _Line(threading.Thread):
    """Redraws ``title... Ns`` on the terminal once the phase has run ``after`` seconds."""

    def __init__(self, title: str, started: float, after: float):
        super().__init__(daemon=True)
        self.title, self.started, self.after = title, started, after
        self.done = threading.Event()
        self.drawn = False

    def run(self) -> None:
        if self.done.wait(self.after):
            return
        while not self.done.is_set():
            _write(f"\r\x1b[K{self.title}... {time.monotonic() - self.started:.0f}s")
            self.drawn = True
            self.done.wait(REDRAW)

    def stop(self) -> None:
        self.done.set()
        self.join()
        if self.drawn:
            _write("\r\x1b[K")


@contextlib.contextmanager
def phase(name: str, title: str, *, live: bool = True) -> Iterator[None]:
    """Report the phase ``name`` if it runs long. ``live=False``: no status line on a
    terminal (the phase prints its own progress, e.g. apply's per-action lines)."""
    mode = _mode
    if mode is None:
        yield
        return
    started = time.monotonic()
    line = _Line(title, started, _after) if mode == "terminal" and live else None
    if line is not None:
        line.start()
    ok = False
    try:
        yield
        ok = True
    finally:
        if line is not None:
            line.stop()
        seconds = time.monotonic() - started
        if mode == "json" and seconds >= _after:
            _write(json.dumps({"type": "progress", "phase": name, "title": title, "seconds": round(seconds, 3),
                               "ok": ok}) + "\n")

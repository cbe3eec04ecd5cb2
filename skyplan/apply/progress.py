"""Progress reporting for apply: a Reporter of no-op hooks and three ways to show it.

``Reporter`` does nothing (apply_plan's default, so the engine never prints).
``PlainReporter`` writes one line per event (for pipes and CI logs),
``JsonReporter`` one JSON object per line (``--json``), and ``LiveReporter`` a
rich live table of every action (pending / running / done / failed, elapsed) on
a terminal. ``make_reporter`` picks one for the CLI.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any, Iterable, TextIO

from skyplan.apply.walker import Hooks


class Reporter(Hooks):
    """Apply's hooks; every method is a no-op. Called from several threads."""

    def begin(self, keys: Iterable[str]) -> None: ...
    def note(self, key: str, message: str) -> None: ...
    def end(self) -> None: ...


def _first_line(e: BaseException | str) -> str:
    text = str(e) or type(e).__name__ if isinstance(e, BaseException) else str(e)
    return text.splitlines()[0] if text else ""


class PlainReporter(Reporter):
    """``workload.train (create): started`` ... ``done after 1.2s``: one line per event."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()
        self._started: dict[str, float] = {}

    def _line(self, text: str) -> None:
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def started(self, key: str) -> None:
        self._started[key] = time.monotonic()
        self._line(f"{key}: started")

    def _elapsed(self, key: str) -> str:
        t0 = self._started.get(key)
        return f" after {time.monotonic() - t0:.1f}s" if t0 is not None else ""

    def finished(self, key: str, result: Any) -> None:
        self._line(f"{key}: done{self._elapsed(key)}")

    def failed(self, key: str, error: BaseException) -> None:
        self._line(f"{key}: failed{self._elapsed(key)}: {_first_line(error)}")

    def skipped(self, key: str, reason: str) -> None:
        self._line(f"{key}: skipped ({reason})")

    def note(self, key: str, message: str) -> None:
        self._line(f"{key}: {message}")


class JsonReporter(Reporter):
    """One JSON object per line: ``{"event": "started", "action": KEY, "time": ...}``."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def _emit(self, event: str, key: str, **extra: Any) -> None:
        rec = {"event": event, "action": key, "time": round(time.time(), 3), **extra}
        with self._lock:
            self.stream.write(json.dumps(rec) + "\n")
            self.stream.flush()

    def started(self, key: str) -> None:
        self._emit("started", key)

    def finished(self, key: str, result: Any) -> None:
        self._emit("done", key)

    def failed(self, key: str, error: BaseException) -> None:
        self._emit("failed", key, error=str(error))

    def skipped(self, key: str, reason: str) -> None:
        self._emit("skipped", key, reason=reason)

    def note(self, key: str, message: str) -> None:
        self._emit("note", key, message=message)


class LiveReporter(Reporter):
    """A rich live table of all actions, refreshed a few times a second."""

    def __init__(self, console=None):
        from rich.console import Console

        self.console = console or Console()
        self._lock = threading.Lock()
        self._rows: dict[str, list] = {}  # key -> [status, started, ended, detail]
        self._live = None

    def _table(self):
        from rich.table import Table
        from rich.text import Text

        t = Table(box=None, show_header=True, header_style="bold")
        t.add_column("ACTION")
        t.add_column("STATUS")
        t.add_column("ELAPSED", justify="right")
        t.add_column("DETAIL", overflow="fold")
        now = time.monotonic()
        colours = {"pending": "dim", "running": "cyan", "done": "green", "failed": "red", "skipped": "yellow"}
        with self._lock:
            rows = list(self._rows.items())
        for key, (status, t0, t1, detail) in rows:
            elapsed = "" if t0 is None else f"{(t1 or now) - t0:.1f}s"
            t.add_row(Text(key), Text(status, style=colours.get(status, "")), elapsed, Text(detail))
        return t

    def begin(self, keys: Iterable[str]) -> None:
        from rich.live import Live

        with self._lock:
            for k in keys:
                self._rows[k] = ["pending", None, None, ""]
        self._live = Live(get_renderable=self._table, console=self.console, refresh_per_second=4, transient=False)
        self._live.start()

    def _set(self, key: str, status: str, detail: str = "", *, start: bool = False, stop: bool = False) -> None:
        with self._lock:
            row = self._rows.setdefault(key, ["pending", None, None, ""])
            row[0] = status
            if start:
                row[1] = time.monotonic()
            if stop and row[1] is not None:
                row[2] = time.monotonic()
            if detail:
                row[3] = detail

    def started(self, key: str) -> None:
        self._set(key, "running", start=True)

    def finished(self, key: str, result: Any) -> None:
        self._set(key, "done", stop=True)

    def failed(self, key: str, error: BaseException) -> None:
        self._set(key, "failed", _first_line(error), stop=True)

    def skipped(self, key: str, reason: str) -> None:
        self._set(key, "skipped", reason, stop=True)

    def note(self, key: str, message: str) -> None:
        self._set(key, self._rows.get(key, ["running"])[0], message)

    def end(self) -> None:
        if self._live is not None:
            self._live.refresh()
            self._live.stop()
            self._live = None


def make_reporter(*, as_json: bool = False, stream: TextIO | None = None) -> Reporter:
    """JSON lines with --json; a live view on a terminal; plain lines otherwise."""
    stream = stream or sys.stdout
    if as_json:
        return JsonReporter(stream)
    if stream.isatty():
        from skyplan.commands.common import console

        return LiveReporter(console())
    return PlainReporter(stream)

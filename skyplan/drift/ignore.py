"""`.skyplanignore`: drift a team has decided to accept.

One rule per line; ``#`` starts a comment::

    # never report or repair anything under the notebooks module
    module.notebooks.*
    # people edit the owner tag by hand; leave it alone
    workload.train:tags.owner
    *:tags.cost-center

A line without ``:`` is an address glob: refresh leaves every matching record
exactly as state has it and reports nothing for it (missing, changed or
unmanaged). ``ADDRESS_GLOB:PATH_GLOB`` accepts attribute drift only: the
refreshed values are kept, but no ``changed`` item is reported for a matching
path (a rule for ``tags`` also covers ``tags.owner``). In both globs ``*``
matches any run of characters and ``?`` one character; brackets and quotes are
literal, so ``workload.shard[3]`` and ``fleet.pool["us"]`` mean themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from skyplan.addrs import Address
from skyplan.errors import Diagnostic, DiagnosticsError, SourceRange

FILENAME = ".skyplanignore"

_PATH_OK = re.compile(r"^[A-Za-z0-9_.*?\[\]\"'-]+$")


def _glob(pattern: str) -> re.Pattern:
    parts = []
    for ch in pattern:
        parts.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
    return re.compile("".join(parts) + r"\Z")


@dataclass(frozen=True)
class IgnoreRule:
    address: str  # glob
    path: str | None = None  # attribute path glob; None = the whole address
    line: int = 0

    def matches_address(self, address: str) -> bool:
        return bool(_glob(self.address).match(address))

    def matches_path(self, address: str, path: str) -> bool:
        if self.path is None or not self.matches_address(address):
            return False
        rx = _glob(self.path)
        if rx.match(path):
            return True
        # A rule for "tags" covers "tags.owner" and "env[0]" under it.
        return any(rx.match(path[:i]) for i, ch in enumerate(path) if ch in ".[")

    def __str__(self) -> str:
        return self.address if self.path is None else f"{self.address}:{self.path}"


@dataclass(frozen=True)
class IgnoreRules:
    rules: tuple[IgnoreRule, ...] = ()
    source: str = ""

    def __bool__(self) -> bool:
        return bool(self.rules)

    def ignores_address(self, address: str) -> bool:
        return any(r.path is None and r.matches_address(address) for r in self.rules)

    def ignores_path(self, address: str, path: str) -> bool:
        return self.ignores_address(address) or any(r.matches_path(address, path) for r in self.rules)

    @classmethod
    def parse(cls, text: str, source: str = FILENAME) -> "IgnoreRules":
        """Parse ignore rules; a malformed line is a diagnostic with file:line:col."""
        rules: list[IgnoreRule] = []
        diags: list[Diagnostic] = []
        for n, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].strip() if not _quoted_hash(raw) else raw.strip()
            if not line:
                continue
            col = raw.index(line[0]) + 1
            address, path = _split(line)
            problem = None
            if not address:
                problem = "an ignore rule needs an address glob before ':'"
            elif not _address_glob_ok(address):
                problem = f"{address!r} is not an address glob"
            elif path is not None and (not path or not _PATH_OK.match(path)):
                problem = f"{path!r} is not an attribute path"
            if problem:
                diags.append(Diagnostic(
                    summary=problem, source=SourceRange(source, n, col),
                    hint="write ADDRESS_GLOB (e.g. workload.train, module.dev.*) or "
                         "ADDRESS_GLOB:ATTRIBUTE_PATH (e.g. workload.train:tags.owner)"))
                continue
            rules.append(IgnoreRule(address, path, n))
        if diags:
            raise DiagnosticsError(diags)
        return cls(tuple(rules), source)

    @classmethod
    def load(cls, config_dir: str | Path) -> "IgnoreRules":
        """Read ``.skyplanignore`` in the config folder; no file means no rules."""
        path = Path(config_dir) / FILENAME
        if not path.is_file():
            return cls()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise DiagnosticsError([Diagnostic(summary=f"cannot read {FILENAME}: {e}",
                                               source=SourceRange(str(path)))]) from None
        return cls.parse(text, str(path))


def _address_glob_ok(glob: str) -> bool:
    if "*" in glob or "?" in glob:
        outside = re.sub(r'"(?:[^"\\]|\\.)*"', "", glob)
        return not any(ch.isspace() for ch in outside) and not outside.startswith(".")
    try:
        Address.parse(glob)
    except ValueError:
        return False
    return True


def _quoted_hash(raw: str) -> bool:
    """A ``#`` inside a for_each key (``fleet.pool["a#b"]``) is not a comment."""
    i = raw.find("#")
    return i > 0 and raw[:i].count('"') % 2 == 1


def _split(line: str) -> tuple[str, str | None]:
    """Split ``ADDRESS:PATH`` on the last ``:`` that is outside quotes."""
    in_quote = False
    cut = -1
    for i, ch in enumerate(line):
        if ch == '"':
            in_quote = not in_quote
        elif ch == ":" and not in_quote:
            cut = i
    if cut < 0:
        return line, None
    return line[:cut].strip(), line[cut + 1:].strip()

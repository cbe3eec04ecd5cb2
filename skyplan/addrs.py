"""Addresses: the names users and state give to every workload and fleet instance.

``workload.train``, ``workload.shard[3]``, ``fleet.pool["us"]``,
``module.serve.workload.api[0]``, ``module.serve["eu"].workload.api[1]``. An
Address is a small frozen value; ``str()`` gives the form a user writes and
``Address.parse`` reads it back.

``Address.module`` is the path of module calls, one step each: ``"serve"`` for a
module block without count/for_each, ``'serve["eu"]'`` or ``"serve[0]"`` for one
instance of a module block with for_each/count (``module_step`` builds a step,
``split_step`` reads it back).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Union

Key = Union[int, str, None]

KINDS = ("workload", "fleet", "network")  # network: pieces a provider needs per region (never in config)

_KEY = r'\[(?:\d+|"(?:[^"\\]|\\.)*")\]'
_MODULE_STEP = re.compile(r'module\.(?P<name>[A-Za-z_][A-Za-z0-9_-]*)(?P<key>' + _KEY + r')?\.')
_STEP = re.compile(r'(?P<kind>[a-z_]+)\.(?P<name>[A-Za-z_][A-Za-z0-9_-]*)(?:\[(?P<key>\d+|"(?:[^"\\]|\\.)*")\])?')


def format_key(key: Key) -> str:
    """``[0]``, ``["eu"]``, or "" for no key."""
    if key is None:
        return ""
    return f"[{key}]" if isinstance(key, int) else f"[{json.dumps(key)}]"


def parse_key(raw: str | None) -> Key:
    """The inside of ``[...]`` as written (``0``, ``"eu"``) -> the key."""
    if raw is None:
        return None
    return int(raw) if raw.isdigit() else json.loads(raw)


def module_step(name: str, key: Key = None) -> str:
    """One step of a module path: ``serve``, ``serve[0]``, ``serve["eu"]``."""
    return name + format_key(key)


def split_step(step: str) -> tuple[str, Key]:
    """``'serve["eu"]'`` -> ("serve", "eu"); ``"serve"`` -> ("serve", None)."""
    name, bracket, rest = step.partition("[")
    return (name, parse_key(rest[:-1])) if bracket else (name, None)


@dataclass(frozen=True, order=True)
class Address:
    """``[module.M[...].]KIND.NAME[KEY]``. ``module`` is the path of module names."""

    kind: str
    name: str
    key: Key = None
    module: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown resource kind {self.kind!r}")

    @property
    def base(self) -> "Address":
        """The address without its count/for_each key (the config block's address)."""
        return Address(self.kind, self.name, None, self.module)

    def with_key(self, key: Key) -> "Address":
        return Address(self.kind, self.name, key, self.module)

    @property
    def module_address(self) -> str | None:
        return ".".join(f"module.{m}" for m in self.module) or None

    def __str__(self) -> str:
        prefix = "".join(f"module.{m}." for m in self.module)
        return f"{prefix}{self.kind}.{self.name}{format_key(self.key)}"

    def __repr__(self) -> str:
        return f"Address({str(self)!r})"

    @classmethod
    def parse(cls, text: str) -> "Address":
        """Parse a user-written address; raises ValueError with a readable message."""
        rest = text.strip()
        module: list[str] = []
        while rest.startswith("module."):
            m = _MODULE_STEP.match(rest)
            if not m:
                break
            module.append(module_step(m.group("name"), parse_key(m.group("key")[1:-1] if m.group("key") else None)))
            rest = rest[m.end():]
        m = _STEP.fullmatch(rest)
        if not m or m.group("kind") not in KINDS:
            raise ValueError(
                f"{text!r} is not a resource address; expected e.g. workload.train, "
                f'workload.shard[3], fleet.pool["us"] or module.serve["eu"].workload.api'
            )
        return cls(m.group("kind"), m.group("name"), parse_key(m.group("key")), tuple(module))

"""Addresses: the names users and state give to every workload and fleet instance.

``workload.train``, ``workload.shard[3]``, ``fleet.pool["us"]``,
``module.serve.workload.api[0]``. An Address is a small frozen value; ``str()``
gives the form a user writes and ``Address.parse`` reads it back.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Union

Key = Union[int, str, None]

KINDS = ("workload", "fleet", "network")  # network: pieces a provider needs per region (never in config)

_STEP = re.compile(r'(?P<kind>[a-z_]+)\.(?P<name>[A-Za-z_][A-Za-z0-9_-]*)(?:\[(?P<key>\d+|"(?:[^"\\]|\\.)*")\])?')


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
        s = f"{prefix}{self.kind}.{self.name}"
        if isinstance(self.key, int):
            s += f"[{self.key}]"
        elif self.key is not None:
            s += f"[{json.dumps(self.key)}]"
        return s

    def __repr__(self) -> str:
        return f"Address({str(self)!r})"

    @classmethod
    def parse(cls, text: str) -> "Address":
        """Parse a user-written address; raises ValueError with a readable message."""
        rest = text.strip()
        module: list[str] = []
        while rest.startswith("module."):
            m = re.match(r"module\.([A-Za-z_][A-Za-z0-9_-]*)\.", rest)
            if not m:
                break
            module.append(m.group(1))
            rest = rest[m.end():]
        m = _STEP.fullmatch(rest)
        if not m or m.group("kind") not in KINDS:
            raise ValueError(
                f"{text!r} is not a resource address; expected e.g. workload.train, "
                f'workload.shard[3] or fleet.pool["us"]'
            )
        raw = m.group("key")
        key: Key = None
        if raw is not None:
            key = int(raw) if raw.isdigit() else json.loads(raw)
        return cls(m.group("kind"), m.group("name"), key, tuple(module))

"""PlanOptions: the flags of ``skyplan plan`` (and of apply/destroy/drift, which plan first).

A frozen value so the same options travel from the CLI through the workflow into
the pure planner and, recorded in the plan file, on to apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class PlanOptions:
    targets: tuple[str, ...] = ()  # -target ADDRESS (plus its dependencies)
    excludes: tuple[str, ...] = ()  # -exclude ADDRESS (plus what depends on it)
    replace: tuple[str, ...] = ()  # -replace ADDRESS
    # replicas of a service to replace, by group number (drift repair: unhealthy or preempted ones)
    replace_groups: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    destroy: bool = False  # -destroy: every managed address is deleted
    refresh: bool = True  # -refresh=false skips asking the providers
    refresh_only: bool = False  # record what the providers report; change nothing
    reoptimize: bool = False  # move running workloads when a cheaper placement exists
    migrate_threshold: float | None = None  # minimum relative saving that justifies a move
    parallelism: int = 10  # recorded for apply
    catalog: str | None = None  # --catalog FILE overrides the skyplan block
    lock: bool = True
    lock_timeout: float = 0.0  # seconds
    vars: Mapping[str, Any] = field(default_factory=dict)
    var_files: tuple[str, ...] = ()
    out: str | None = None
    policy_dirs: tuple[str, ...] = ()  # -policy-dir DIR: shared policy folders checked with the configuration's
    capacity_memory: float = 3600.0  # seconds a zone where spot was lost is avoided (state.capacity)

    def to_json(self) -> dict:
        """What a plan file records of the options (apply reads parallelism back)."""
        return {
            "targets": list(self.targets), "replace": list(self.replace), "destroy": self.destroy,
            "refresh": self.refresh, "refresh_only": self.refresh_only, "reoptimize": self.reoptimize,
            "migrate_threshold": self.migrate_threshold, "parallelism": self.parallelism,
            "catalog": self.catalog, "lock": self.lock, "lock_timeout": self.lock_timeout,
            "var_files": list(self.var_files), "out": self.out,
            **({"policy_dirs": list(self.policy_dirs)} if self.policy_dirs else {}),
            **({"excludes": list(self.excludes)} if self.excludes else {}),
            **({"replace_groups": {a: list(g) for a, g in self.replace_groups.items()}}
               if self.replace_groups else {}),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "PlanOptions":
        return cls(
            targets=tuple(d.get("targets", ())), excludes=tuple(d.get("excludes", ())), replace=tuple(d.get("replace", ())),
            destroy=bool(d.get("destroy", False)), refresh=bool(d.get("refresh", True)),
            refresh_only=bool(d.get("refresh_only", False)), reoptimize=bool(d.get("reoptimize", False)),
            migrate_threshold=d.get("migrate_threshold"), parallelism=int(d.get("parallelism", 10)),
            catalog=d.get("catalog"), lock=bool(d.get("lock", True)),
            lock_timeout=float(d.get("lock_timeout", 0.0)), var_files=tuple(d.get("var_files", ())),
            out=d.get("out"), policy_dirs=tuple(d.get("policy_dirs", ())),
            replace_groups={a: tuple(g) for a, g in (d.get("replace_groups") or {}).items()},
        )


def parse_duration(text: str | float | int | None) -> float:
    """``"5s"`` -> 5.0, ``"1m"`` -> 60.0, ``"1m30s"`` -> 90.0, ``"250ms"`` -> 0.25, ``"2"`` -> 2.0.
    Raises ValueError with a readable message."""
    import re

    if text is None or text == "":
        return 0.0
    if isinstance(text, (int, float)):
        return float(text)
    s = str(text).strip().lower()
    try:
        return float(s)
    except ValueError:
        pass
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", s)
    if not parts or "".join(n + u for n, u in parts) != s:
        raise ValueError(f"{text!r} is not a duration; expected e.g. 5s, 1m or 1m30s")
    return sum(float(n) * units[u] for n, u in parts)

"""The one exception tree of skyplan, and diagnostics for user mistakes.

User mistakes (bad config, bad flags, a stale plan) are *diagnostics*: collected,
shown together with ``file:line:col``, a summary and a hint, exit code 1.
Exceptions are for faults; every one skyplan raises derives from SkyplanError::

    SkyplanError                      message shown to the user, exit 1
    ├── DiagnosticsError              carries a list of Diagnostic (config errors)
    ├── StateError                    state file unreadable, future schema, corrupt
    │   ├── LockError                 state lock held by someone else
    │   │   └── LockLostError         this holder's lock was removed or taken over
    │   └── StalePlanError            plan made against another lineage/serial
    ├── CatalogError                  catalog file malformed, unknown accelerator
    ├── SolverError
    │   └── InfeasibleError           no placement satisfies the constraints (names why)
    ├── PlanError                     e.g. prevent_destroy would be violated
    │   ├── PolicyError               a mandatory policy fails (apply refuses)
    │   └── FleetInUseError           a fleet would be destroyed under workloads still on it
    ├── ApplyError                    some actions failed (summary already shown)
    └── ProviderError                 a provider call failed (not retryable as such)
        ├── AuthError                 credentials missing or refused
        ├── CapacityError             no capacity at a scope: zone | region | provider
        ├── QuotaError                account quota exceeded at a scope
        └── TransientError            throttling, timeouts, 5xx: retry with backoff
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class SourceRange:
    """A position in a config file (1-based line and column)."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column or 1}"
        return self.file


@dataclass(frozen=True)
class Diagnostic:
    """One user-facing problem: where, what, and what to do about it."""

    summary: str
    detail: str = ""
    source: SourceRange | None = None
    severity: str = "error"  # "error" | "warning"
    hint: str = ""

    def to_json(self) -> dict:
        return {
            "file": self.source.file if self.source else None,
            "line": self.source.line if self.source else None,
            "col": self.source.column if self.source else None,
            "severity": self.severity,
            "summary": self.summary,
            "detail": self.detail,
            "hint": self.hint,
        }

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        text = f"{where}{self.severity}: {self.summary}"
        if self.detail:
            text += f"\n  {self.detail}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class SkyplanError(Exception):
    """Base of every error skyplan raises on purpose. ``str()`` is for the user."""

    hint: str = ""

    def __init__(self, message: str = "", *, hint: str = ""):
        super().__init__(message)
        if hint:
            self.hint = hint


class DiagnosticsError(SkyplanError):
    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = list(diagnostics)
        errors = [d for d in self.diagnostics if d.severity == "error"]
        super().__init__(f"{len(errors)} error(s) in configuration")


class StateError(SkyplanError):
    pass


class LockError(StateError):
    pass


class LockLostError(LockError):
    """The lock this process held is gone (force-unlocked, or taken over after its
    lease ran out): it must start nothing more and write nothing more to state."""


class StalePlanError(StateError):
    pass


class CatalogError(SkyplanError):
    pass


class SolverError(SkyplanError):
    pass


class InfeasibleError(SolverError):
    """``causes`` name each reason; ``blame`` holds, per cause (or for the message when
    there are no causes), the configuration value it comes from as (owner, attribute
    path), e.g. ("workload.train", "resources.accelerators"), or None."""

    def __init__(self, message: str, *, causes: Sequence[str] = (), hint: str = "",
                 blame: Sequence[tuple[str, str] | None] = ()):
        self.causes = list(causes)
        self.blame = tuple(blame) or tuple(getattr(c, "blame", None) for c in (self.causes or [message]))
        super().__init__(message, hint=hint)

    def located(self, where) -> "InfeasibleError":
        """The same error with each blamed cause prefixed by ``file:line:col`` of its value;
        ``where(owner, path)`` gives a SourceRange or None."""
        def at(text: str, blame) -> str:
            src = where(*blame) if blame else None
            return f"{src}: {text}" if src else text

        if self.causes:
            causes = [at(c, b) for c, b in zip(self.causes, self.blame)]
            return InfeasibleError(str(self.args[0]), causes=causes, hint=self.hint, blame=self.blame)
        return InfeasibleError(at(str(self.args[0]), self.blame[0] if self.blame else None), hint=self.hint,
                               blame=self.blame)

    def __str__(self) -> str:
        base = super().__str__()
        if self.causes:
            base += "".join(f"\n  - {c}" for c in self.causes)
        return base


class PlanError(SkyplanError):
    pass


class PolicyError(PlanError):
    """A mandatory policy fails: plan exits 1, apply refuses."""


class FleetInUseError(PlanError):
    """The plan deletes fleets that workloads still run on. ``in_use`` maps each
    such fleet to those workloads' addresses."""

    def __init__(self, message: str, *, in_use: dict[str, list[str]], hint: str = ""):
        super().__init__(message, hint=hint)
        self.in_use = {k: list(v) for k, v in in_use.items()}


class ApplyError(SkyplanError):
    pass


class ProviderError(SkyplanError):
    """A provider call failed. ``provider`` names the provider (key), if known."""

    def __init__(self, message: str, *, provider: str = "", hint: str = ""):
        self.provider = provider
        super().__init__(message, hint=hint)


class AuthError(ProviderError):
    pass


class CapacityError(ProviderError):
    """No capacity. ``scope`` is what to block on failover: zone, region or provider."""

    def __init__(self, message: str, *, scope: str = "zone", provider: str = "", hint: str = ""):
        assert scope in ("zone", "region", "provider"), scope
        self.scope = scope
        super().__init__(message, provider=provider, hint=hint)


class QuotaError(ProviderError):
    """Account quota exceeded; ``scope`` as for CapacityError (usually region)."""

    def __init__(self, message: str, *, scope: str = "region", provider: str = "", hint: str = ""):
        assert scope in ("zone", "region", "provider"), scope
        self.scope = scope
        super().__init__(message, provider=provider, hint=hint)


class TransientError(ProviderError):
    """Throttling, timeouts, 5xx: safe to retry with backoff."""


__all__ = [
    "SourceRange", "Diagnostic", "SkyplanError", "DiagnosticsError", "StateError", "LockError",
    "StalePlanError", "CatalogError", "SolverError", "InfeasibleError", "PlanError", "ApplyError",
    "ProviderError", "AuthError", "CapacityError", "QuotaError", "TransientError",
]

"""The policy value: what one ``policy`` block says, fully evaluated except its condition."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any, Mapping

from skyplan.errors import SourceRange

HOURS_PER_MONTH = 730.0
ENFORCEMENTS = ("mandatory", "advisory")


@dataclass(frozen=True)
class Policy:
    """One policy. Empty tuples mean "no rule"; ``addresses``/``match_tags`` select
    what it covers (none: everything). ``condition`` is the unevaluated expression
    (skyplan.config.ast) with the scope it was written in; ``positions`` maps an
    attribute name to where it was written."""

    name: str
    enforcement: str = "mandatory"
    description: str = ""
    addresses: tuple[str, ...] = ()
    match_tags: Mapping[str, str] = field(default_factory=dict)
    per: str = "plan"
    max_hourly_cost: float | None = None
    max_monthly_cost: float | None = None
    allowed_providers: tuple[str, ...] = ()
    denied_providers: tuple[str, ...] = ()
    allowed_regions: tuple[str, ...] = ()
    denied_regions: tuple[str, ...] = ()
    allowed_pricing: tuple[str, ...] = ()
    denied_pricing: tuple[str, ...] = ()
    allowed_accelerators: tuple[str, ...] = ()
    denied_accelerators: tuple[str, ...] = ()
    require_tags: tuple[str, ...] = ()
    max_nodes: int | None = None
    max_gpus: int | None = None
    condition: Any = field(default=None, compare=False, repr=False)
    condition_scope: Any = field(default=None, compare=False, repr=False)
    error_message: Any = field(default=None, compare=False, repr=False)  # a string or an expression
    source: SourceRange | None = None
    positions: Mapping[str, SourceRange] = field(default_factory=dict, compare=False, repr=False)

    @property
    def mandatory(self) -> bool:
        return self.enforcement == "mandatory"

    @property
    def hourly_cap(self) -> tuple[float, str] | None:
        """The tighter of the two cost caps as $/h, with the attribute it comes from."""
        caps = []
        if self.max_hourly_cost is not None:
            caps.append((self.max_hourly_cost, "max_hourly_cost"))
        if self.max_monthly_cost is not None:
            caps.append((self.max_monthly_cost / HOURS_PER_MONTH, "max_monthly_cost"))
        return min(caps) if caps else None

    @property
    def selects_all(self) -> bool:
        return not self.addresses and not self.match_tags

    def covers(self, address: str, tags: Mapping[str, str]) -> bool:
        if self.addresses and not any(fnmatch.fnmatchcase(address, p) for p in self.addresses):
            return False
        return all(tags.get(k) == v for k, v in self.match_tags.items())

    def where(self, attribute: str = "") -> str:
        """``file:line:col`` of ``attribute`` (else of the block)."""
        src = self.positions.get(attribute) or self.source
        return str(src) if src is not None else f'policy "{self.name}"'


def glob_match(value: str | None, patterns: tuple[str, ...]) -> bool:
    return value is not None and any(fnmatch.fnmatchcase(value, p) for p in patterns)


def provider_passes(policy: Policy, key: str, kind: str) -> bool:
    """Whether a provider (its key and its kind) is allowed by the policy's lists."""
    hit = lambda pats: glob_match(key, pats) or glob_match(kind, pats)  # noqa: E731
    return (not policy.allowed_providers or hit(policy.allowed_providers)) and not (
        policy.denied_providers and hit(policy.denied_providers))


def region_passes(policy: Policy, region: str) -> bool:
    return (not policy.allowed_regions or glob_match(region, policy.allowed_regions)) and not (
        policy.denied_regions and glob_match(region, policy.denied_regions))


def pricing_passes(policy: Policy, pricing: str) -> bool:
    return (not policy.allowed_pricing or pricing in policy.allowed_pricing) and pricing not in policy.denied_pricing


def accelerator_passes(policy: Policy, name: str) -> bool:
    low = name.lower()
    allowed = {a.lower() for a in policy.allowed_accelerators}
    denied = {a.lower() for a in policy.denied_accelerators}
    return (not allowed or low in allowed) and low not in denied


def effective_tags(resource, provider_cfg) -> dict[str, str]:
    """A workload's or fleet's tags over its provider's ``default_tags`` (its own win)."""
    return merge_tags(getattr(resource, "tags", {}), provider_cfg)


def merge_tags(own: Mapping[str, str] | None, provider_cfg) -> dict[str, str]:
    """``own`` tags over the provider block's ``default_tags`` (``own`` win)."""
    defaults = dict((provider_cfg.settings.get("default_tags") or {}) if provider_cfg is not None else {})
    return {**{str(k): str(v) for k, v in defaults.items()}, **{str(k): str(v) for k, v in dict(own or {}).items()}}


def tag_update(before_own: Mapping[str, str] | None, after_own: Mapping[str, str] | None,
               provider_cfg) -> dict[str, str | None]:
    """The ``tags`` change a provider's ``update`` is given when a resource's own tags
    change: every tag it carries after (over ``default_tags``), and None for each it
    carried before and no longer does, which the provider removes."""
    before, after = merge_tags(before_own, provider_cfg), merge_tags(after_own, provider_cfg)
    return {**after, **{k: None for k in before if k not in after}}

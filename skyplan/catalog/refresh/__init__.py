"""Refresh: live prices from the providers' pricing APIs into the user's cache.

One module per cloud (aws.py through boto3; gcp.py and azure.py through plain
urllib against the public JSON APIs). Each re-prices the shapes it can name and
returns Offers; ``refresh_all`` saves them to the cache with the date, and
reports a provider it could not reach instead of failing the others: for that
provider the built-in snapshot stays in use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Callable, Sequence

from skyplan.catalog.offer import Offer
from skyplan.errors import CatalogError, ProviderError

CLOUDS = ("aws", "gcp", "azure")


class PricingUnavailable(CatalogError):
    """A pricing API could not be reached or refused us (network, credentials, 5xx)."""


@dataclass
class RefreshReport:
    provider: str
    ok: bool
    offers: int = 0
    regions: tuple[str, ...] = ()
    observed_at: str = ""
    notes: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # parts refreshed only in part: their prices stayed as they were
    error: str = ""
    fallback_observed_at: str = ""  # the built-in snapshot's date
    fallback_cached: str = ""  # the user cache's latest refresh/import of this provider ("aws refresh 2026-11-20"), if any

    @property
    def fallback(self) -> str:
        """The prices that stay in use for this provider when the refresh failed."""
        snapshot = f"built-in snapshot (observed {self.fallback_observed_at})"
        return f"cached prices ({self.fallback_cached}) over the {snapshot}" if self.fallback_cached else snapshot

    def to_json(self) -> dict:
        return {"provider": self.provider, "ok": self.ok, "offers": self.offers, "regions": list(self.regions),
                "observed_at": self.observed_at, "notes": list(self.notes), "kept": list(self.kept),
                "error": self.error,
                "fallback": None if self.ok else self.fallback}


@dataclass
class Fetched:
    """What one cloud's fetcher returns."""

    offers: list[Offer]
    notes: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # the notes saying which prices stayed the snapshot's


def _fetcher(provider: str) -> Callable[..., Fetched]:
    if provider == "aws":
        from skyplan.catalog.refresh.aws import fetch
    elif provider == "gcp":
        from skyplan.catalog.refresh.gcp import fetch
    elif provider == "azure":
        from skyplan.catalog.refresh.azure import fetch
    else:
        raise CatalogError(f"cannot refresh provider {provider!r}",
                           hint="refresh works for aws, gcp and azure; kubernetes and local offers are always live")
    return fetch


def builtin_offers(provider: str) -> list[Offer]:
    """The built-in snapshot's offers for one cloud: the shapes a refresh re-prices."""
    from skyplan.catalog.store import builtin_path, read_file

    return [o for o in read_file(builtin_path(), trusted=True).offers if o.provider == provider]


def _cached_source(provider: str) -> str:
    """The user cache's latest refresh or import holding ``provider``'s prices ("" if none):
    those rows stay laid over the snapshot when a refresh fails."""
    from skyplan.catalog import store

    if not store.user_offers_path().exists():
        return ""
    for s in reversed(store.read_sources()):
        if provider in str(s.get("provider") or "").split(","):
            return f"{provider} {s.get('kind', 'import')} {s.get('date', '')}".strip()
    return ""


def _expand_regions(patterns: Sequence[str], known: Sequence[str]) -> list[str] | None:
    """``--region`` values with globs (``us-*``) expanded against the snapshot's regions;
    None when patterns were given but none names a region."""
    from fnmatch import fnmatchcase

    out: list[str] = []
    for p in patterns:
        hits = [r for r in known if fnmatchcase(r, p)] if any(ch in p for ch in "*?[") else [p]
        out.extend(r for r in hits if r not in out)
    return None if patterns and not out else out


def refresh(provider: str, *, regions: Sequence[str] = (), endpoint_url: str | None = None,
            **options) -> RefreshReport:
    """Refresh one cloud into the cache; never raises for an unreachable API (see the report)."""
    from skyplan.catalog import store

    fetch = _fetcher(provider)
    base = builtin_offers(provider)
    fallback_date = max((o.observed_at or "" for o in base), default="")
    regions = _expand_regions(regions, sorted({o.region for o in base}))
    if regions is None:
        return RefreshReport(provider, ok=False, fallback_observed_at=fallback_date,
                             fallback_cached=_cached_source(provider),
                             error="no region of the built-in catalog matches --region")
    try:
        fetched = fetch(base, regions=tuple(regions), endpoint_url=endpoint_url, **options)
    except (PricingUnavailable, ProviderError) as e:
        return RefreshReport(provider, ok=False, error=str(e), fallback_observed_at=fallback_date,
                             fallback_cached=_cached_source(provider))
    if not fetched.offers:
        return RefreshReport(provider, ok=False, notes=fetched.notes, fallback_observed_at=fallback_date,
                             fallback_cached=_cached_source(provider),
                             error="the pricing API answered but priced none of the known instance types")
    store.save_to_cache(fetched.offers, kind="refresh", provider=provider, origin=endpoint_url or "public API")
    return RefreshReport(provider, ok=True, offers=len(fetched.offers),
                         regions=tuple(sorted({o.region for o in fetched.offers})),
                         observed_at=date.today().isoformat(), notes=fetched.notes, kept=fetched.kept)


def refresh_all(providers: Sequence[str] = (), *, regions: Sequence[str] = (),
                endpoint_url: str | None = None) -> list[RefreshReport]:
    wanted = list(providers) or list(CLOUDS)
    for p in wanted:
        if p not in CLOUDS:
            raise CatalogError(f"cannot refresh provider {p!r}", hint="one of: " + ", ".join(CLOUDS))
    if endpoint_url and len(wanted) > 1:
        raise CatalogError("--endpoint-url needs exactly one --provider",
                           hint="e.g. skyplan catalog refresh --provider azure --endpoint-url URL")
    return [refresh(p, regions=regions, endpoint_url=endpoint_url) for p in wanted]

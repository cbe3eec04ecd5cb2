"""``skyplan catalog import``: check a catalog file, then merge it into the user's cache.

Every row is checked before anything is written: one malformed value anywhere
(row number and column named) and nothing is imported. Placeholder prices are
dropped and counted (see csvformat).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import date

from skyplan.catalog import store
from skyplan.errors import CatalogError


@dataclass(frozen=True)
class ImportReport:
    path: str
    rows: int  # data rows read
    imported: int  # offers merged into the cache
    cache_rows: int  # rows the cache holds afterwards
    dropped: dict[str, int] = field(default_factory=dict)
    providers: tuple[str, ...] = ()
    notes: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"path": self.path, "rows": self.rows, "imported": self.imported, "cache_rows": self.cache_rows,
                "dropped": dict(self.dropped), "notes": dict(self.notes), "providers": list(self.providers)}


def import_file(path: str | os.PathLike, *, provider: str | None = None) -> ImportReport:
    """Check ``path`` (our format, or a SkyPilot vms.csv with ``provider``) and merge it into the cache."""
    result = store.read_file(path, provider=provider)
    if not result.offers:
        dropped = "; ".join(f"{n} {why}" for why, n in result.dropped.items())
        raise CatalogError(f"{path}: no offers to import" + (f" ({dropped})" if dropped else ""),
                           hint="a catalog needs at least one row with an instance type and an on-demand price")
    # rows without ObservedAt: the day the file was written, as for an explicit --catalog file
    written = date.fromtimestamp(os.stat(path).st_mtime).isoformat()
    offers = [o if o.observed_at else replace(o, observed_at=written) for o in result.offers]
    notes = dict(result.notes)
    repeated = len(offers) - len({store.key_of(o) for o in offers})
    if repeated:  # merge keeps the last row of each offer, as the cache does across imports
        notes["rows repeating an earlier row's offer (cloud, region, zone, type, accelerators): the later kept"] = repeated
    providers = tuple(sorted({o.provider for o in offers}))
    cache_rows = store.save_to_cache(offers, kind="import", provider=",".join(providers),
                                     origin=os.path.abspath(os.fspath(path)))
    return ImportReport(path=os.fspath(path), rows=result.rows, imported=len(result.offers),
                        cache_rows=cache_rows, dropped=dict(result.dropped), providers=providers,
                        notes=notes)

"""Where catalogs live: the built-in snapshot, the user's cache, and load_catalog.

The built-in snapshot ships as ``skyplan/data/catalog.csv``. The user's cache
(``$SKYPLAN_CACHE_DIR`` or ``~/.cache/skyplan``) holds ``catalog/offers.csv``,
the rows imported or refreshed so far, and ``catalog/sources.json`` saying what
each came from and when. ``load_catalog()`` lays the cache over the snapshot:
a cached row replaces the built-in row with the same provider, region, zone,
instance type and accelerators. The merged result is also kept compiled (marshalled
field tuples) in the cache, keyed by the inputs' size and mtime and the Python
version, so later loads skip CSV parsing; within one process the last catalog
loaded is reused while its inputs are unchanged.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import marshal
import os
import tempfile
import sys
from datetime import date
from pathlib import Path
from typing import Iterable

from skyplan.catalog import csvformat
from skyplan.catalog.catalog import Catalog
from skyplan.catalog.offer import Offer
from skyplan.errors import CatalogError
from skyplan.frozen import maker
from skyplan.gcpause import paused

BUILTIN_NAME = "built-in snapshot"
_COMPILED_VERSION = 2
_FIELDS = tuple(f.name for f in dataclasses.fields(Offer))
_MEMO: dict[tuple, Catalog] = {}  # the last catalog loaded in this process (catalogs are immutable)


def builtin_path() -> Path:
    return Path(__file__).resolve().parent.parent / "data" / "catalog.csv"


def cache_dir() -> Path:
    root = os.environ.get("SKYPLAN_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "skyplan")
    return Path(root) / "catalog"


def user_offers_path() -> Path:
    return cache_dir() / "offers.csv"


def sources_path() -> Path:
    return cache_dir() / "sources.json"


def key_of(o: Offer) -> tuple:
    """Rows with the same key describe the same offer (GCP attaches different
    accelerators to one machine type, hence the accelerator in the key)."""
    return (o.provider, o.region, o.zone or "", o.instance_type, o.accelerator or "", o.accelerator_count)


def read_file(path: str | os.PathLike, *, provider: str | None = None, trusted: bool = False,
              consequence: str = "nothing was imported") -> csvformat.ParseResult:
    p = Path(path)
    try:
        with open(p, newline="", encoding="utf-8") as f, paused():
            return csvformat.parse(f, name=str(path), provider=provider, trusted=trusted, consequence=consequence)
    except FileNotFoundError:
        raise CatalogError(f"catalog file {str(path)!r} not found",
                           hint="give the path of a catalog CSV (see schemas/catalog.schema.json)") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError, csv.Error) as e:
        raise CatalogError(f"cannot read catalog file {str(path)!r}: {e}",
                           hint="a catalog is a UTF-8 CSV file (see schemas/catalog.schema.json)") from None
    except ValueError:
        if not trusted:
            raise
        # a file skyplan wrote (the cache) edited since: check it row by row to name the fault
        return read_file(path, provider=provider, trusted=False, consequence="the catalog cannot be used")


def read_sources() -> list[dict]:
    try:
        return list(json.loads(sources_path().read_text()))
    except (FileNotFoundError, ValueError, TypeError):
        return []


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


def _describe(sources: list[dict]) -> str:
    if not sources:
        return BUILTIN_NAME
    parts = [f"{s.get('provider') or 'mixed'} {s.get('kind', 'import')} {s.get('date', '')}".strip()
             for s in sources[-3:]]
    return f"{BUILTIN_NAME} + user cache ({'; '.join(parts)})"


def merge(base: Iterable[Offer], overlay: Iterable[Offer]) -> list[Offer]:
    """``base`` with every row of ``overlay`` replacing the base row of the same key."""
    merged = {key_of(o): o for o in base}
    for o in overlay:
        merged[key_of(o)] = o
    return list(merged.values())


def load_catalog(path: str | os.PathLike | None = None) -> Catalog:
    """Exactly the catalog file at ``path``, or the user's cache merged over the built-in snapshot."""
    if path is not None:
        result = read_file(path, consequence="the catalog cannot be used")
        observed = max((o.observed_at or "" for o in result.offers), default="")
        if not observed:  # a file without ObservedAt: the day it was written
            observed = date.fromtimestamp(Path(path).stat().st_mtime).isoformat()
        return Catalog(result.offers, source=str(path), observed_at=observed)
    builtin = builtin_path()
    user = user_offers_path()
    stamp = (_COMPILED_VERSION, _FIELDS, _stamp(builtin), _stamp(user))
    compiled = cache_dir() / f"compiled-py{sys.version_info[0]}{sys.version_info[1]}.marshal"
    memo_key = (stamp, str(user) if stamp[3] is not None else None)  # the snapshot alone: any cache dir
    cached = _MEMO.get(memo_key) or _read_compiled(compiled, stamp)
    if cached is not None:
        _MEMO.clear()
        _MEMO[memo_key] = cached
        return cached
    offers = read_file(builtin, trusted=True).offers
    sources = read_sources()
    if stamp[3] is not None:
        offers = merge(offers, read_file(user, trusted=True).offers)
    observed = max((o.observed_at or "" for o in offers), default="")
    source = _describe(sources if stamp[3] is not None else [])
    _write_compiled(compiled, (stamp, source, observed, [tuple(getattr(o, f) for f in _FIELDS) for o in offers]))
    catalog = Catalog(offers, source=source, observed_at=observed)
    _MEMO.clear()
    _MEMO[memo_key] = catalog
    return catalog


def _read_compiled(path: Path, stamp) -> Catalog | None:
    """The compiled catalog if it was built from exactly these inputs, else None."""
    with paused():  # tens of thousands of small objects: the cyclic GC would rescan them all
        try:
            with open(path, "rb") as f:
                saved_stamp, source, observed, rows = marshal.loads(f.read())
        except Exception:  # absent, truncated or from another format: rebuild
            return None
        if saved_stamp != stamp:
            return None
        make = maker(Offer)  # the stamp holds _FIELDS: each row is every field, in order
        return Catalog([make(*row) for row in rows], source=source, observed_at=observed)


def _write_compiled(path: Path, payload) -> None:
    """Best effort: a read-only cache only costs the next load a CSV parse."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".compiled-")
        with os.fdopen(fd, "wb") as f:
            marshal.dump(payload, f)
        os.replace(tmp, path)
    except (OSError, ValueError):
        pass


def save_to_cache(offers: list[Offer], *, kind: str, provider: str | None, origin: str) -> int:
    """Merge ``offers`` into the user's cache and record where they came from.

    Returns the number of rows the cache holds afterwards. Writes atomically."""
    directory = cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CatalogError(f"cannot create the catalog cache {directory}: {e}",
                           hint="set SKYPLAN_CACHE_DIR to a writable folder") from None
    user = user_offers_path()
    existing = read_file(user, trusted=True).offers if user.exists() else []
    merged = merge(existing, offers)
    merged.sort(key=lambda o: (o.provider, o.instance_type, o.region, o.zone or ""))
    _atomic_write(user, csvformat.dumps(merged))
    sources = read_sources()
    sources.append({"kind": kind, "provider": provider, "origin": origin, "rows": len(offers),
                    "date": date.today().isoformat()})
    _atomic_write(sources_path(), json.dumps(sources, indent=2) + "\n")
    return len(merged)


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise

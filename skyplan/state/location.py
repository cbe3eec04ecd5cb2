"""Where a state lives, and the one call that opens it: a SQLite file (a ``Path``)
or a named state in a PostgreSQL database (``PostgresLocation``). Workflow,
apply, drift and the state commands only ever call ``open_store`` and
``location.exists()``; the store they get has the same methods on both
backends. Nothing here imports a database driver."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from skyplan.errors import StateError

URL_ENV = "SKYPLAN_STATE_URL"
NAME_ENV = "SKYPLAN_STATE_NAME"  # the state's name in the database when the configuration gives none
DEFAULT_NAME = "default"
_PASSWORD_IN_TEXT = re.compile(r"(postgres(?:ql)?://[^:/@\s]*:)[^@\s]*@")
_PASSWORD_PARAM = re.compile(r"((?:^|[\s?&])password=)[^\s&]*", re.I)


def redact_url(url: str) -> str:
    """``url`` with its password (user:PASSWORD@ or ?password=) replaced by ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _PASSWORD_PARAM.sub(r"\1***", _PASSWORD_IN_TEXT.sub(r"\1***@", url))
    netloc = parts.netloc
    if "@" in netloc:
        cred, host = netloc.rsplit("@", 1)
        if ":" in cred:
            cred = cred.split(":", 1)[0] + ":***"
        netloc = f"{cred}@{host}"
    query = _PASSWORD_PARAM.sub(r"\1***", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_text(text: str, url: str | None = None) -> str:
    """``text`` with any PostgreSQL password in it hidden (the URL's own, and any URL form)."""
    if url:
        parts = urlsplit(url)
        if parts.password:
            text = text.replace(url, redact_url(url)).replace(parts.password, "***")
    return _PASSWORD_PARAM.sub(r"\1***", _PASSWORD_IN_TEXT.sub(r"\1***@", text))


def is_postgres_url(text: str) -> bool:
    return text.startswith(("postgres://", "postgresql://"))


@dataclass(frozen=True)
class PostgresLocation:
    """One named state in a PostgreSQL database. ``str()`` never shows the password."""

    url: str
    name: str = DEFAULT_NAME

    def __str__(self) -> str:
        return f"{redact_url(self.url)} (state {self.name!r})"

    @property
    def redacted_url(self) -> str:
        return redact_url(self.url)

    def __repr__(self) -> str:
        return f"PostgresLocation({redact_url(self.url)!r}, {self.name!r})"

    def exists(self) -> bool:
        from skyplan.state.postgres import state_exists

        return state_exists(self)


def location_for(config_dir: str | os.PathLike, backend: str, path: str | None, url: str | None,
                 name: str | None) -> "Path | PostgresLocation":
    base = Path(config_dir)
    if backend == "postgres":
        url = url or os.environ.get(URL_ENV)
        if not url:
            raise StateError("the state backend is \"postgres\" but no database URL is set",
                             hint=f'set skyplan {{ state {{ url = "postgresql://user@host:5432/db" }} }} or {URL_ENV}')
        return PostgresLocation(url, name or os.environ.get(NAME_ENV) or DEFAULT_NAME)
    if path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else base / p
    return base / ".skyplan" / "state.db"


def parse_location(text: str, name: str | None = None) -> "Path | PostgresLocation":
    """A ``--state`` / ``--to`` argument: a PostgreSQL URL, else a SQLite file path."""
    if is_postgres_url(text):
        return PostgresLocation(text, name or os.environ.get(NAME_ENV) or DEFAULT_NAME)
    return Path(text).expanduser()


def open_store(location: "Path | PostgresLocation | str", *, create: bool = True):
    """The state store at ``location`` (created, and migrated, when asked)."""
    if isinstance(location, str):
        location = parse_location(location)
    if isinstance(location, PostgresLocation):
        from skyplan.state.postgres import PostgresStore

        return PostgresStore.open(location, create=create)
    from skyplan.state.store import StateStore

    return StateStore.open(location, create=create)

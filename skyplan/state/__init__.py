"""State: the SQLite store of what skyplan has created. One file (default
``.skyplan/state.db`` beside the config) holds the resources with their
placements and provider ids, the lineage and a serial that grows with every
committed change, the outputs, the lock (with its heartbeat), a journal of every
action with sensitive values redacted, and the named schema migrations. Each
change is its own transaction, so a killed process leaves whole versions; backups
and the portable JSON of ``state pull``/``state push`` live here too. Knows
nothing of HCL or of clouds.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from skyplan.state.lock import LockInfo
from skyplan.state.model import GroupRecord, ResourceRecord, Snapshot

if TYPE_CHECKING:
    from skyplan.config.model import Settings
    from skyplan.state.store import StateStore

STATE_DIR = ".skyplan"
STATE_FILE = "state.db"


def default_state_path(config_dir: str | os.PathLike, settings: "Settings | None" = None):
    """Where the configuration's state lives: with ``backend = "postgres"`` a
    PostgresLocation (its url, or SKYPLAN_STATE_URL, and name); else
    ``settings.state_path`` if the config sets one (relative paths are taken from
    the config folder), else ``<config dir>/.skyplan/state.db``."""
    from skyplan.state.location import location_for

    if settings is None:
        return Path(config_dir) / STATE_DIR / STATE_FILE
    return location_for(config_dir, settings.state_backend, settings.state_path, settings.state_url,
                        settings.state_name)


def __getattr__(name: str):
    if name == "StateStore":  # sqlite3 is only imported by code that opens a state
        from skyplan.state.store import StateStore

        return StateStore
    raise AttributeError(name)


__all__ = ["StateStore", "LockInfo", "Snapshot", "ResourceRecord", "GroupRecord", "default_state_path",
           "STATE_DIR", "STATE_FILE"]

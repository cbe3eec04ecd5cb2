"""The local provider: the embedded default, running workloads as real processes on
this machine. ``provider`` implements the Provider interface (and logs), a detached
``supervisor`` runs each node's setup and run and restarts services, and
``registry`` keeps one JSON file per node so any later skyplan command can find,
check and stop what an earlier one started.
"""

from skyplan.providers.local.provider import LocalProvider

__all__ = ["LocalProvider"]

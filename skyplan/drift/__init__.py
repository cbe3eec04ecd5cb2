"""Drift: refresh asks every provider in use for the objects carrying this
state's lineage, matches them to state and classifies the differences as
changed, missing or unmanaged (``refresh``, ``classify``); ``.skyplanignore``
holds the drift a team accepts (``IgnoreRules``); the report renders drift as
JSON, Markdown or text; ``accept_refreshed`` writes what providers report into
state (``apply -refresh-only``); ``blocked_from_drift`` turns lost spot nodes
into placements the solver must avoid when repairing.
"""

from skyplan.drift.accept import accept_refreshed
from skyplan.drift.blocked import blocked_from_drift, blocked_scopes
from skyplan.drift.classify import Refreshed, classify
from skyplan.drift.ignore import IgnoreRules
from skyplan.drift.refresh import refresh
from skyplan.drift.report import render_markdown, render_text, report_json

__all__ = ["Refreshed", "classify", "IgnoreRules", "refresh", "accept_refreshed", "blocked_from_drift",
           "blocked_scopes", "report_json", "render_text", "render_markdown"]

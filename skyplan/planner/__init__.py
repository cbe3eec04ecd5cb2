"""Planner: ``plan(desired, solution, prior, refreshed, options) -> Plan``, a pure
function that diffs the desired graph and its placements against state and
decides create/update/replace/delete/no-op with reasons (core.py), using the
per-provider replace/update rules in schema.py; renders plans as text, JSON and
Markdown (render_*.py); saves and loads plan files and checks them against state
(planfile.py). Never calls providers, never prints."""

from __future__ import annotations

from skyplan.planner.model import Action, Change, DriftItem, Plan
from skyplan.planner.options import PlanOptions, parse_duration


def __getattr__(name: str):
    if name == "plan":  # the diff itself (and the rules it reads) only for the commands that plan
        from skyplan.planner.core import plan

        return plan
    raise AttributeError(name)


__all__ = ["plan", "Action", "Change", "DriftItem", "Plan", "PlanOptions", "parse_duration"]

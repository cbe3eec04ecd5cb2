"""The tags each planned object carries before and after apply (Terraform's
``tags_all``): its own tags over the ``default_tags`` of the provider block it
runs on. Display only: the diff is decided by the resource's own ``tags``."""

from __future__ import annotations

from dataclasses import replace

from skyplan.config.model import DesiredGraph
from skyplan.planner.model import Action, Change
from skyplan.policy.model import merge_tags


def with_tags(c: Change, desired: DesiredGraph) -> Change:
    """``c`` with the tags its object carries before and after apply (its own over the
    ``default_tags`` of the provider block it runs on), as every provider writes them."""
    from skyplan.planner.core import _provider_key

    if c.kind not in ("workload", "fleet") or c.forget:
        return c
    before = after = None
    if c.after is not None and c.action is not Action.DELETE:
        key = _provider_key(c.placement, None) or _provider_key(None, c.prior)
        after = merge_tags(c.after.get("tags"), desired.providers.get(key) if key else None)
    if c.before is not None and c.action is not Action.CREATE:
        key = _provider_key(None, c.prior)
        before = merge_tags(c.before.get("tags"), desired.providers.get(key) if key else None)
    return replace(c, tags_before=before, tags_after=after) if before or after else c

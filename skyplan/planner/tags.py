"""The tags each planned object carries before and after apply (Terraform's
``tags_all``): its own tags over the ``default_tags`` of the provider block it
runs on. The ``default_tags`` an object was given are recorded with it
(``after["default_tags"]``), so a change of a provider's ``default_tags`` alone is
an in-place update of every object it tagged (``update_because_default_tags``),
as Terraform's AWS provider plans it; apply then sets the new tags and removes
those no longer there (``Change.tags_before`` -> ``tags_after``)."""

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
    defaults: dict | None = None
    if c.after is not None and c.action is not Action.DELETE:
        key = _provider_key(c.placement, None) or _provider_key(None, c.prior)
        cfg = desired.providers.get(key) if key else None
        defaults = merge_tags(None, cfg)
        after = merge_tags(c.after.get("tags"), cfg)
    if c.before is not None and c.action is not Action.CREATE:
        key = _provider_key(None, c.prior)
        recorded = c.before.get("default_tags")
        if recorded is None:  # recorded before default_tags were: taken to be today's
            before = merge_tags(c.before.get("tags"), desired.providers.get(key) if key else None)
        else:
            before = {**{str(k): str(v) for k, v in recorded.items()},
                      **{str(k): str(v) for k, v in dict(c.before.get("tags") or {}).items()}}
    if defaults is not None:
        c = replace(c, after={**c.after, "default_tags": defaults})
    if c.action is Action.NOOP and before is not None and after is not None and before != after:
        c = replace(c, action=Action.UPDATE, update_paths=(("tags",),), reason="update_because_default_tags")
    return replace(c, tags_before=before, tags_after=after) if before or after else c

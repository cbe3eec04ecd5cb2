"""Plan files: ``skyplan plan -out FILE`` saves everything apply needs, and apply
refuses a plan made against another state or an older serial.

A plan file is one JSON document: ``{"skyplan_plan": FORMAT, "plan": {...}}``
holding every Change (actions, before/after, markers, paths, reason,
dependencies, lifecycle, config hash, the WorkloadPlacement with its fallbacks
and approved cost, the prior state record), the drift, output changes,
non-sensitive variables, the catalog source/date, the options, and the state
lineage/serial and config hash it was made against.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Mapping

from skyplan.errors import PlanError, StalePlanError
from skyplan.planner.model import Action, Change, DriftItem, Plan
from skyplan.solver.model import WorkloadPlacement
from skyplan.state.model import ResourceRecord, Snapshot

FORMAT = 1


def change_to_json(c: Change) -> dict:
    return {
        "address": c.address, "action": c.action.value, "kind": c.kind,
        "before": c.before, "after": c.after, "after_unknown": c.after_unknown,
        "before_sensitive": c.before_sensitive, "after_sensitive": c.after_sensitive,
        "replace_paths": [list(p) for p in c.replace_paths], "update_paths": [list(p) for p in c.update_paths],
        "reason": c.reason, "depends_on": list(c.depends_on),
        "placement": c.placement.to_json() if c.placement is not None else None,
        "prior": c.prior.to_json() if c.prior is not None else None,
        "lifecycle": dict(c.lifecycle), "config_hash": c.config_hash, "previous_address": c.previous_address,
        "forget": c.forget, "import_id": c.import_id, "held_by": c.held_by,
        "tags_before": c.tags_before, "tags_after": c.tags_after,
        **({"relaunch_groups": list(c.relaunch_groups)} if c.relaunch_groups else {}),
    }


def change_from_json(d: Mapping[str, Any]) -> Change:
    return Change(
        address=d["address"], action=Action(d["action"]), kind=d.get("kind", "workload"),
        before=d.get("before"), after=d.get("after"), after_unknown=d.get("after_unknown") or {},
        before_sensitive=d.get("before_sensitive") or {}, after_sensitive=d.get("after_sensitive") or {},
        replace_paths=tuple(tuple(p) for p in d.get("replace_paths", ())),
        update_paths=tuple(tuple(p) for p in d.get("update_paths", ())),
        reason=d.get("reason"), depends_on=tuple(d.get("depends_on", ())),
        placement=WorkloadPlacement.from_json(d["placement"]) if d.get("placement") else None,
        prior=ResourceRecord.from_json(d["prior"]) if d.get("prior") else None,
        lifecycle=d.get("lifecycle") or {}, config_hash=d.get("config_hash", ""),
        previous_address=d.get("previous_address"), forget=bool(d.get("forget", False)),
        import_id=d.get("import_id"), held_by=d.get("held_by"),
        tags_before=d.get("tags_before"), tags_after=d.get("tags_after"),
        relaunch_groups=tuple(int(n) for n in d.get("relaunch_groups", ())),
    )


def drift_from_json(d: Mapping[str, Any]) -> DriftItem:
    return DriftItem(address=d["address"], category=d["category"], provider=d.get("provider", ""),
                     provider_ids=tuple(d.get("provider_ids", ())), paths=tuple(d.get("paths", ())),
                     before=d.get("before"), after=d.get("after"), detail=d.get("detail", ""))


def plan_to_json(plan: Plan) -> dict:
    return {
        "changes": [change_to_json(c) for c in plan.changes], "lineage": plan.lineage, "serial": plan.serial,
        "config_hash": plan.config_hash, "drift": [d.to_json() for d in plan.drift],
        "output_changes": dict(plan.output_changes), "variables": dict(plan.variables),
        "sensitive_variables": dict(plan.sensitive_variables),
        "catalog": dict(plan.catalog), "options": dict(plan.options), "solver": dict(plan.solver),
        "cost_before": plan.cost_before, "cost_after": plan.cost_after, "created_at": plan.created_at,
        "estimated_before": plan.estimated_before, "estimated_after": plan.estimated_after,
        "config_dir": plan.config_dir, "errored": plan.errored,
        "policy_results": list(plan.policy_results),
        **({"deadlines": list(plan.deadlines)} if plan.deadlines else {}),
    }


def plan_from_json(d: Mapping[str, Any]) -> Plan:
    return Plan(
        changes=tuple(change_from_json(c) for c in d.get("changes", ())), lineage=d["lineage"],
        serial=int(d["serial"]), config_hash=d.get("config_hash", ""),
        drift=tuple(drift_from_json(x) for x in d.get("drift", ())), output_changes=d.get("output_changes", {}),
        variables=d.get("variables", {}), sensitive_variables=d.get("sensitive_variables", {}),
        catalog=d.get("catalog", {}), options=d.get("options", {}),
        solver=d.get("solver", {}), cost_before=float(d.get("cost_before", 0.0)),
        cost_after=float(d.get("cost_after", 0.0)), created_at=d.get("created_at", ""),
        estimated_before=float(d.get("estimated_before", 0.0)), estimated_after=float(d.get("estimated_after", 0.0)),
        config_dir=d.get("config_dir", ""), errored=bool(d.get("errored", False)),
        policy_results=tuple(d.get("policy_results", ())), deadlines=tuple(d.get("deadlines", ())),
    )


def save_plan(plan: Plan, path: str | os.PathLike) -> Path:
    """Write ``plan`` to ``path`` atomically (readable only by the owner: it can hold
    environment values of workloads)."""
    from skyplan import __version__

    target = Path(path)
    doc = {"skyplan_plan": FORMAT, "skyplan_version": __version__, "plan": plan_to_json(plan)}
    if target.is_dir():
        raise PlanError(f"cannot save the plan to {target}: it is a folder",
                        hint="give a file name, e.g. -out plan.skyplan")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".plan-", dir=str(target.parent))
    except OSError as e:
        raise PlanError(f"cannot save the plan to {target}: {e.strerror or e}",
                        hint="give a path in a folder you can write to") from None
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f, indent=1, default=str)
            f.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException as e:
        with _suppress():
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise PlanError(f"cannot save the plan to {target}: {e.strerror or e}",
                            hint="give a path in a folder you can write to") from None
        raise
    return target


class _suppress:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return True


def is_plan_file(path: str | os.PathLike) -> bool:
    p = Path(path)
    if not p.is_file():
        return False
    try:
        with open(p, "rb") as f:
            head = f.read(64)
        return head.lstrip().startswith(b"{") and b"skyplan_plan" in head
    except OSError:
        return False


def load_plan(path: str | os.PathLike) -> Plan:
    """Read a plan file; raises PlanError when it is not one this skyplan can read."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text())
    except FileNotFoundError:
        raise PlanError(f"plan file {p} does not exist", hint="make one with `skyplan plan -out FILE`") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PlanError(f"{p} is not a skyplan plan file ({e})",
                        hint="make one with `skyplan plan -out FILE`") from None
    if not isinstance(doc, dict) or "skyplan_plan" not in doc or "plan" not in doc:
        raise PlanError(f"{p} is not a skyplan plan file", hint="make one with `skyplan plan -out FILE`")
    if doc["skyplan_plan"] != FORMAT:
        raise PlanError(f"{p} has plan format {doc['skyplan_plan']}; this skyplan reads format {FORMAT}",
                        hint="make the plan again with this version of skyplan")
    try:
        return plan_from_json(doc["plan"])
    except (KeyError, TypeError, ValueError) as e:
        raise PlanError(f"{p} is a damaged plan file ({type(e).__name__}: {e})",
                        hint="make the plan again with `skyplan plan -out FILE`") from None


def check_plan_against_state(plan: Plan, store_or_snapshot: Any) -> None:
    """Raise StalePlanError when ``plan`` was not made against this state as it is now."""
    snap: Snapshot = store_or_snapshot if isinstance(store_or_snapshot, Snapshot) else store_or_snapshot.snapshot()
    fresh_state = snap.serial == 0 and not snap.resources
    if not plan.lineage and not fresh_state:
        raise StalePlanError(
            f"Saved plan is stale: it was made before this state existed, which has changed since "
            f"(state serial {snap.serial})",
            hint="run `skyplan plan -out FILE` again and apply the new plan")
    if plan.lineage != snap.lineage and not (fresh_state and not plan.lineage):
        raise StalePlanError(
            f"Saved plan does not match this state (lineage {plan.lineage or '(none)'} "
            f"vs {snap.lineage or '(none)'})",
            hint="the plan was made for another state; run `skyplan plan -out FILE` again here")
    if plan.serial != snap.serial:
        raise StalePlanError(
            f"Saved plan is stale: state changed since this plan was made (plan serial {plan.serial}, "
            f"state serial {snap.serial})",
            hint="run `skyplan plan -out FILE` again and apply the new plan")

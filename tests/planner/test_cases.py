"""Planner data cases: tests/cases/planner/<case>/{main.sky.hcl, state.json, expected.json}.

Each case runs the real pipeline without providers: config.load, the catalog
file, the solver against the prior state, then planner.plan (see the README in
the cases folder for the file formats)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from skyplan.planner.model import Action
from tests.examples import copy_config

CASES = Path(__file__).resolve().parents[1] / "cases" / "planner"
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if (p / "expected.json").is_file())


def _hash(attrs: dict) -> str:
    return hashlib.sha256(json.dumps(attrs, sort_keys=True, default=str).encode()).hexdigest()[:16]


def build_state(spec: dict, graph):
    from skyplan.config.model import resource_hash
    from skyplan.providers.base import Instance
    from skyplan.solver.model import Placement
    from skyplan.state.model import GroupRecord, ResourceRecord, Snapshot

    lineage = spec.get("lineage", "case-lineage")
    records, refreshed_records = {}, {}
    refresh = spec.get("refresh")
    for r in spec.get("resources", ()):
        addr = r["address"]
        declared = graph.resources().get(addr)
        if "attributes" in r:
            attrs, chash = r["attributes"], r.get("config_hash") or _hash(r["attributes"])
        elif r.get("config", "same") == "same":
            attrs, chash = declared.attributes(), resource_hash(declared)
        else:
            attrs = {**declared.attributes(), **r["config"]["override"]}
            chash = _hash(attrs)
        groups, live_groups = [], []
        present = (refresh or {}).get(addr, {}).get("present")
        for gi, g in enumerate(r.get("groups", ())):
            p = Placement.from_json(g["placement"])
            insts = tuple(Instance(p.provider, f"id-{addr}-{gi}-{k}", addr, lineage, gi, k, p.region, p.zone,
                                   p.instance_type, p.pricing) for k in range(g.get("instances", p.nodes)))
            groups.append(GroupRecord(p, insts))
            keep = len(insts) if present is None else max(0, min(len(insts), present - sum(
                len(x.instances) for x in live_groups)))
            live_groups.append(GroupRecord(p, insts[:keep]))
        rec = ResourceRecord(addr, addr.split(".")[0] if not addr.startswith("module.") else "workload",
                             r.get("status", "running"), tuple(groups), attrs, chash,
                             tainted=r.get("tainted", False), depends_on=tuple(r.get("depends_on", ())))
        records[addr] = rec
        refreshed_records[addr] = ResourceRecord(**{**rec.__dict__, "groups": tuple(live_groups)})
    prior = Snapshot(lineage, spec.get("serial", 1), records, spec.get("outputs", {}))
    refreshed = Snapshot(lineage, prior.serial, refreshed_records, prior.outputs) if refresh is not None else None
    unmanaged = tuple(Instance.from_json({"lineage": lineage, **u}) for u in spec.get("unmanaged", ()))
    return prior, refreshed, unmanaged


@pytest.mark.parametrize("case", CASE_NAMES)
def test_planner_case(case, tmp_path):
    from skyplan import planner, workflow
    from skyplan.errors import PlanError
    from skyplan.planner.options import PlanOptions

    src = CASES / case
    copy_config(src, tmp_path / case)
    folder = tmp_path / case
    expected = json.loads((folder / "expected.json").read_text())
    state_spec = json.loads((folder / "state.json").read_text()) if (folder / "state.json").exists() else {}
    catalog = folder / "catalog.csv" if (folder / "catalog.csv").exists() else CASES / "catalog.csv"
    opts = {k: tuple(v) if isinstance(v, list) else v for k, v in expected.get("options", {}).items()}
    options = PlanOptions(**{"refresh": False, "lock": False, "catalog": str(catalog), **opts})

    graph = workflow.load_config(folder)
    prior, refreshed, unmanaged = build_state(state_spec, graph)
    if options.destroy:
        from skyplan.solver.model import Solution

        solution = Solution()
    else:
        offers, info = workflow.build_offers(graph, options.catalog)
        solution = workflow.solve_placements(graph, offers, refreshed or prior, options)

    if "error" in expected:
        with pytest.raises(PlanError) as e:
            planner.plan(graph, solution, prior, refreshed, options, unmanaged=unmanaged)
        assert re.search(expected["error"], str(e.value)), str(e.value)
        return
    result = planner.plan(graph, solution, prior, refreshed, options, unmanaged=unmanaged)
    actual = {c.address: {"action": c.action.value, "reason": c.reason} for c in result.changes}
    want = {a: {"action": v["action"], "reason": v.get("reason")} for a, v in expected["changes"].items()}
    assert actual == want
    if "counts" in expected:
        assert result.counts() == expected["counts"]
    if "estimated_after" in expected:
        assert result.estimated_after == pytest.approx(expected["estimated_after"], abs=1e-4)
    for addr, v in expected["changes"].items():
        c = next(c for c in result.changes if c.address == addr)
        if "replace_paths" in v:
            assert [list(p) for p in c.replace_paths] == v["replace_paths"]
        if "update_paths" in v:
            assert [list(p) for p in c.update_paths] == v["update_paths"]
        if "relaunch_groups" in v:
            assert list(c.relaunch_groups) == v["relaunch_groups"]
        if "pricing" in v:  # the planned pricing of each group, in group order
            assert [g.chosen.pricing for g in c.placement.groups] == v["pricing"]
        if c.action not in (Action.DELETE, Action.NOOP):
            assert c.placement is not None and c.after["placement"] == c.placement.to_json()

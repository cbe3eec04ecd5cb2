"""Refresh and classification against an in-process provider."""

from __future__ import annotations

import pytest

from skyplan.drift import IgnoreRules, refresh
from skyplan.errors import ProviderError
from tests.drift.memory_provider import LINEAGE, MemoryProvider, error, record, snapshot


@pytest.fixture
def mem():
    return MemoryProvider()


def by_cat(refreshed):
    return {(d.address, d.category): d for d in refreshed.drift}


def test_in_sync(mem):
    a = mem.add("workload.train")
    snap = snapshot(record("workload.train", [[a]]))
    r = refresh(snap, {"mem": mem})
    assert r.drift == () and r.in_sync
    assert r.snapshot.resources["workload.train"] == snap.resources["workload.train"]
    assert r.managed == 1 and r.coverage == 1.0
    assert mem.list_calls == 1


def test_changed_instance_type_state_and_tags(mem):
    a = mem.add("workload.serve", tags={"team": "ml"})
    snap = snapshot(record("workload.serve", [[a]], kind="service"))
    mem.change(a.id, instance_type="m.large", state="stopped", tags={**a.tags, "team": "ops", "owner": "bob"})
    r = refresh(snap, {"mem": mem})
    item = by_cat(r)[("workload.serve", "changed")]
    assert item.paths == ("instance_type", "state", "tags.owner", "tags.team")
    assert item.before["tags.team"] == "ml" and item.after["tags.team"] == "ops"
    assert item.before["instance_type"] == "m.small" and item.after["instance_type"] == "m.large"
    assert item.provider_ids == (a.id,)
    rec = r.snapshot.resources["workload.serve"]
    assert rec.instances[0].instance_type == "m.large"
    assert rec.status == "stopped"


def test_all_nodes_missing(mem):
    a, b = mem.add("workload.train", rank=0), mem.add("workload.train", rank=1)
    snap = snapshot(record("workload.train", [[a, b]]))
    mem.delete([a, b])
    r = refresh(snap, {"mem": mem})
    item = by_cat(r)[("workload.train", "missing")]
    assert set(item.provider_ids) == {a.id, b.id}
    assert item.detail == "all 2 node(s) gone"
    assert r.snapshot.resources["workload.train"].instances == ()
    assert [n["rank"] for n in item.before["nodes"]] == [0, 1]


def test_some_nodes_missing_names_ranks(mem):
    nodes = [mem.add("workload.train", rank=i) for i in range(4)]
    snap = snapshot(record("workload.train", [nodes]))
    mem.delete([nodes[1], nodes[3]])
    r = refresh(snap, {"mem": mem})
    item = by_cat(r)[("workload.train", "missing")]
    assert item.provider_ids == (nodes[1].id, nodes[3].id)
    assert "group 0 rank(s) 1, 3" in item.detail and item.detail.startswith("2 of 4")
    assert [i.rank for i in r.snapshot.resources["workload.train"].instances] == [0, 2]


def test_terminated_objects_count_as_gone(mem):
    a = mem.add("workload.train")
    snap = snapshot(record("workload.train", [[a]]))
    mem.change(a.id, state="terminated")
    r = refresh(snap, {"mem": mem})
    assert ("workload.train", "missing") in by_cat(r)
    assert r.managed == 0


def test_finished_job_is_not_missing(mem):
    a, b = mem.add("workload.train", rank=0), mem.add("workload.train", rank=1)
    snap = snapshot(record("workload.train", [[a, b]]))
    mem.change(a.id, state="succeeded")
    mem.change(b.id, state="succeeded")
    r = refresh(snap, {"mem": mem})
    assert r.drift == ()
    assert r.snapshot.resources["workload.train"].status == "succeeded"
    # ... and once its nodes are cleaned up, the finished job is still not missing
    mem.delete([a, b])
    r2 = refresh(r.snapshot, {"mem": mem})
    assert r2.drift == ()
    assert r2.snapshot.resources["workload.train"].status == "succeeded"


def test_failed_node_marks_job_failed(mem):
    a, b = mem.add("workload.train", rank=0), mem.add("workload.train", rank=1)
    snap = snapshot(record("workload.train", [[a, b]]))
    mem.change(a.id, state="succeeded")
    mem.change(b.id, state="failed")
    r = refresh(snap, {"mem": mem})
    assert r.drift == () and r.snapshot.resources["workload.train"].status == "failed"


def test_service_that_exits_is_changed(mem):
    a = mem.add("workload.api")
    snap = snapshot(record("workload.api", [[a]], kind="service"))
    mem.change(a.id, state="failed")
    r = refresh(snap, {"mem": mem})
    assert by_cat(r)[("workload.api", "changed")].paths == ("state",)


def test_unmanaged_orphan_and_foreign_lineage(mem):
    a = mem.add("workload.train")
    orphan = mem.add("workload.ghost", zone="r1b")
    mem.add("workload.train", lineage="someone-else")
    snap = snapshot(record("workload.train", [[a]]))
    r = refresh(snap, {"mem": mem})
    item = by_cat(r)[("workload.ghost", "unmanaged")]
    assert item.provider_ids == (orphan.id,) and "r1/r1b" in item.detail
    assert [i.id for i in r.unmanaged] == [orphan.id]
    assert r.managed == 1 and r.coverage == 0.5
    assert "workload.ghost" not in r.snapshot.resources


def test_duplicate_node_for_full_group_is_unmanaged(mem):
    a = mem.add("workload.train")
    dup = mem.add("workload.train")
    r = refresh(snapshot(record("workload.train", [[a]])), {"mem": mem})
    assert by_cat(r)[("workload.train", "unmanaged")].provider_ids == (dup.id,)


def test_replaced_object_matched_by_address_tag(mem):
    a = mem.add("workload.train")
    snap = snapshot(record("workload.train", [[a]]))
    mem.delete([a])
    b = mem.add("workload.train")
    r = refresh(snap, {"mem": mem})
    item = by_cat(r)[("workload.train", "changed")]
    assert item.paths == ("id",) and item.before["id"] == a.id and item.after["id"] == b.id
    assert r.snapshot.resources["workload.train"].instances[0].id == b.id
    assert ("workload.train", "missing") not in by_cat(r)


def test_interrupted_create_adopts_tagged_nodes(mem):
    from dataclasses import replace

    rec = record("workload.train", [[]], status="creating")
    rec = replace(rec, groups=(replace(rec.groups[0], placement=replace(rec.groups[0].placement, nodes=2)),))
    a, b = mem.add("workload.train", rank=0), mem.add("workload.train", rank=1)
    r = refresh(snapshot(rec), {"mem": mem})
    assert by_cat(r)[("workload.train", "changed")].paths == ("instances",)
    new = r.snapshot.resources["workload.train"]
    assert [i.id for i in new.instances] == [a.id, b.id] and new.status == "running"
    assert r.unmanaged == ()


def test_interrupted_create_with_nothing_found_is_missing(mem):
    r = refresh(snapshot(record("workload.train", [[]], status="creating")), {"mem": mem})
    assert ("workload.train", "missing") in by_cat(r)


def test_provider_error_raises_and_reports_nothing_missing(mem):
    a = mem.add("workload.train")
    other = MemoryProvider("other")
    b = other.add("workload.eval")
    snap = snapshot(record("workload.train", [[a]]), record("workload.eval", [[b]], provider="other"))
    mem.fail = error("connect timeout to 127.0.0.1:9")
    with pytest.raises(ProviderError) as exc:
        refresh(snap, {"mem": mem, "other": other})
    assert "cannot refresh: provider mem unreachable" in str(exc.value)
    assert "connect timeout" in str(exc.value)
    assert exc.value.provider == "mem"
    assert other.list_calls == 1  # asked concurrently all the same


def test_unexpected_exception_is_wrapped(mem):
    mem.add("workload.train")
    mem.fail = RuntimeError("boom")
    with pytest.raises(ProviderError, match="provider mem unreachable: boom"):
        refresh(snapshot(), {"mem": mem})


def test_provider_in_state_but_not_configured(mem):
    a = mem.add("workload.train")
    with pytest.raises(ProviderError, match="does not declare"):
        refresh(snapshot(record("workload.train", [[a]])), {})


def test_every_provider_asked_once_concurrently():
    provs = {f"p{i}": MemoryProvider(f"p{i}") for i in range(5)}
    recs = []
    for key, p in provs.items():
        recs.append(record(f"workload.{key}", [[p.add(f"workload.{key}")]], provider=key))
    r = refresh(snapshot(*recs), provs)
    assert r.drift == () and r.providers == tuple(sorted(provs))
    assert all(p.list_calls == 1 for p in provs.values())


def test_ignore_rules(mem):
    a = mem.add("workload.train", tags={"owner": "al"})
    b = mem.add("workload.scratch")
    mem.add("workload.notebook")  # unmanaged, ignored by glob
    snap = snapshot(record("workload.train", [[a]]), record("workload.scratch", [[b]]))
    mem.change(a.id, tags={**a.tags, "owner": "bo"}, instance_type="m.large")
    mem.delete([b])
    rules = IgnoreRules.parse("workload.train:tags.owner\nworkload.scratch\nworkload.note*\n")
    r = refresh(snap, {"mem": mem}, ignore=rules)
    assert [(d.address, d.category, d.paths) for d in r.drift] == [("workload.train", "changed", ("instance_type",))]
    # accepted values are still taken into the refreshed snapshot
    assert r.snapshot.resources["workload.train"].instances[0].tags["owner"] == "bo"
    # an ignored address is left exactly as state has it
    assert r.snapshot.resources["workload.scratch"] == snap.resources["workload.scratch"]
    assert r.unmanaged == ()


def test_lineage_is_what_providers_are_asked_for(mem):
    mem.add("workload.train", lineage="other")
    r = refresh(snapshot(lineage=LINEAGE), {"mem": mem})
    assert r.drift == ()


def test_accepted_missing_nodes_are_still_reported(mem):
    a, b = mem.add("workload.train", rank=0), mem.add("workload.train", rank=1)
    snap = snapshot(record("workload.train", [[a, b]], kind="service"))
    mem.delete([b])
    accepted = refresh(snap, {"mem": mem}).snapshot  # what apply -refresh-only would write
    r = refresh(accepted, {"mem": mem})
    (item,) = r.drift
    assert item.category == "missing" and item.detail == "1 of 2 node(s) are recorded as gone"

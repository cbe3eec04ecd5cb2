"""Drift against Kubernetes (the wire-level API emulator on 127.0.0.1): a Job
deleted with kubectl's API calls is missing; a Job that completed is not."""

from __future__ import annotations

import time

from skyplan.drift import refresh
from skyplan.state.model import GroupRecord, ResourceRecord, Snapshot
from tests.providers.kubernetes.helpers import provider, request

LINEAGE = "lin-k8s"


def _world(k8s, tmp_path):
    kp = provider(k8s, tmp_path)
    recs = {}
    for address in ("workload.train", "workload.eval"):
        req = request(address, lineage=LINEAGE, itype="cpu-a", cpus=1, memory_gib=1)
        recs[address] = ResourceRecord(address=address, kind="workload", attributes={"kind": "job"},
                                       groups=(GroupRecord(req.placement, tuple(kp.create(req))),))
    return kp, Snapshot(lineage=LINEAGE, serial=1, resources=recs)


def test_deleted_job_is_missing_and_completed_job_is_not(k8s, tmp_path):
    from kubernetes import client, config

    kp, snap = _world(k8s, tmp_path)
    assert refresh(snap, {"kubernetes": kp}).drift == ()

    train = snap.resources["workload.train"].instances[0]
    evaluate = snap.resources["workload.eval"].instances[0]
    api = config.new_client_from_config(config_file=str(tmp_path / "kubeconfig"))
    client.BatchV1Api(api).delete_namespaced_job(train.attributes["name"], "default",
                                                 propagation_policy="Foreground")
    k8s.finish_job(evaluate.attributes["name"])

    deadline = time.monotonic() + 10
    while True:
        r = refresh(snap, {"kubernetes": kp})
        if r.snapshot.resources["workload.eval"].status == "succeeded" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert [(d.address, d.category) for d in r.drift] == [("workload.train", "missing")]
    assert r.drift[0].provider_ids == (train.id,)
    assert r.snapshot.resources["workload.eval"].status == "succeeded"


def test_deployment_scaled_down_by_hand_is_drift_and_repaired_in_place(k8s, tmp_path):
    """A two-node service scaled to one replica by hand: the node scaled away
    is reported (not hidden as 'pending'), and restoring it scales back to two."""
    from kubernetes import client, config

    from skyplan.drift.repair import in_place_restores, restore_in_place
    from skyplan.state import StateStore

    kp = provider(k8s, tmp_path)
    req = request("workload.api", kind="service", nodes=2, lineage=LINEAGE, itype="cpu-a", cpus=1, memory_gib=1)
    rec = ResourceRecord(address="workload.api", kind="workload", attributes={"kind": "service"},
                         groups=(GroupRecord(req.placement, tuple(kp.create(req))),))
    snap = Snapshot(lineage=LINEAGE, serial=1, resources={"workload.api": rec})
    assert refresh(snap, {"kubernetes": kp}).drift == ()

    api = config.new_client_from_config(config_file=str(tmp_path / "kubeconfig"))
    name = rec.instances[0].attributes["name"]
    client.AppsV1Api(api).patch_namespaced_deployment(name, "default", {"spec": {"replicas": 1}})
    r = refresh(snap, {"kubernetes": kp})
    assert [(d.address, d.category, d.paths) for d in r.drift] == [("workload.api", "changed", ("state",))]
    assert r.drift[0].provider_ids == (rec.instances[1].id,)

    restores = in_place_restores(snap, r, skip=())
    assert [x.changes for x in restores] == [{"state": "running"}]
    with StateStore.open(tmp_path / "state.db", create=True) as store:
        store.record(rec, action="create")
        assert restore_in_place(store, restores, {"kubernetes": kp}) == []
    dep = client.AppsV1Api(api).read_namespaced_deployment(name, "default")
    assert dep.spec.replicas == 2

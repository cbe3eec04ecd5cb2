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

"""The user's tags reach Kubernetes objects as labels (label-value rules applied)."""

from __future__ import annotations

from tests.providers.kubernetes.helpers import provider, request


def test_objects_and_pods_carry_the_user_tags_as_labels(k8s, tmp_path):
    kp = provider(k8s, tmp_path)
    [inst] = kp.create(request("workload.api", kind="service", ports=(8000,),
                               user_tags={"team": "vision", "cost_center": "ML 42 / eu"}))
    (dep,) = k8s.list("deployments")
    for meta in (dep["metadata"], dep["spec"]["template"]["metadata"]):
        assert meta["labels"]["team"] == "vision" and meta["labels"]["cost_center"] == "ML_42_eu"
    svc = [s for s in k8s.list("services")]
    assert svc and all(s["metadata"]["labels"]["team"] == "vision" for s in svc)
    assert inst.tags["team"] == "vision" and inst.tags["cost_center"] == "ML 42 / eu"


def test_a_tag_changed_or_removed_in_place_changes_the_objects_labels_too(k8s, tmp_path):
    kp = provider(k8s, tmp_path)
    [inst] = kp.create(request("workload.api", kind="service", ports=(8000,),
                               user_tags={"team": "vision", "owner": "ana"}))
    inst = kp.update(inst, {"tags": {"team": "nlp / eu", "owner": None}})
    (dep,) = k8s.list("deployments")
    meta = dep["metadata"]
    assert meta["labels"]["team"] == "nlp_eu" and "owner" not in meta["labels"]
    assert meta["annotations"]["tags.skyplan.dev/team"] == "nlp / eu"
    assert "tags.skyplan.dev/owner" not in meta["annotations"]
    assert inst.tags["team"] == "nlp / eu" and "owner" not in inst.tags

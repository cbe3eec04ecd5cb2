"""Names, labels and object bodies built from launch requests (pure)."""

from __future__ import annotations

from skyplan.providers.kubernetes import manifests as mf
from tests.providers.k8s_rules import DNS1035_LABEL, validate
from tests.providers.kubernetes.helpers import request

LONG = 'module.team_a.module.pipelines.workload.very_long_training_workload_name["eu-west/shard-0001"]'


def test_object_names_are_short_unique_dns_labels():
    names = {mf.object_name(LONG, "lin", g) for g in range(3)} | {mf.object_name(LONG, "other", 0)}
    assert len(names) == 4
    assert all(DNS1035_LABEL.match(n) and len(n) <= 50 for n in names)


def test_label_values_are_valid_and_bounded():
    for text in (LONG, "workload.train[0]", "-x-", "a" * 100):
        value = mf.label_value(text)
        assert len(value) <= 63 and (not value or (value[0].isalnum() and value[-1].isalnum()))


def test_every_built_object_passes_api_validation():
    for req in (request(LONG, nodes=3, accelerators="H100:8"), request(LONG, kind="service", ports=(80, 443)),
                request(kind="service", cpus=0.5, memory_gib=1.5)):
        for plural, body in mf.workload_objects(req, accelerator_labels={"nvidia.com/gpu.product": ["H100"]}):
            kind = {"jobs": "Job", "deployments": "Deployment", "services": "Service"}[plural]
            validate(kind, body, body["apiVersion"])  # raises Invalid on any bad field


def test_fractional_cpu_and_memory_quantities():
    (body,) = [b for p, b in mf.workload_objects(request(kind="service", cpus=0.5, memory_gib=1.5))
               if p == "deployments"]
    res = body["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]
    assert res == {"cpu": "500m", "memory": "1536Mi"}


def test_spot_and_on_demand_groups_are_kept_on_their_capacity():
    spot = {"karpenter.sh/capacity-type": "spot", "cloud.google.com/gke-spot": "true"}
    assert mf.capacity_expressions("spot", {}) == [] and mf.capacity_expressions("on_demand", {}) == []
    on_spot = mf.node_affinity({"nvidia.com/gpu.product": ["A100"]}, None, mf.capacity_expressions("spot", spot))
    terms = on_spot["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    # any spot label will do, each ANDed with the accelerator
    assert [[e["key"] for e in t["matchExpressions"]] for t in terms] == [
        ["nvidia.com/gpu.product", "cloud.google.com/gke-spot"], ["nvidia.com/gpu.product", "karpenter.sh/capacity-type"]]
    off_spot = mf.node_affinity({}, "node-a", mf.capacity_expressions("on_demand", spot))
    (term,) = off_spot["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert {e["operator"] for e in term["matchExpressions"]} == {"NotIn"} and len(term["matchExpressions"]) == 2
    assert term["matchFields"] == [{"key": "metadata.name", "operator": "In", "values": ["node-a"]}]


def test_a_relaunched_group_gets_a_name_of_its_own_and_a_retry_the_same():
    assert mf.object_name("workload.api", "lin", 0, "t1") == mf.object_name("workload.api", "lin", 0, "t1")
    assert mf.object_name("workload.api", "lin", 0, "t1") != mf.object_name("workload.api", "lin", 0, "t2")

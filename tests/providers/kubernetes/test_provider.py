"""KubernetesProvider against the wire-level API emulator."""

from __future__ import annotations

import pytest

from skyplan.errors import AuthError, CapacityError, ProviderError, TransientError
from skyplan.providers.base import TAG_ADDRESS, TAG_LINEAGE
from tests.providers.kubernetes.helpers import provider, request


def test_offers_come_live_from_nodes(k8s, tmp_path):
    offers = {o.instance_type: o for o in provider(k8s, tmp_path, price=1.5).offers()}
    assert set(offers) == {"gpu-a", "gpu-b", "t4-a", "cpu-a"}
    h100 = offers["gpu-a"]
    assert (h100.accelerator, h100.accelerator_count, h100.vcpus, h100.memory_gib) == ("H100", 8, 32, 256)
    assert h100.region == "emulator" and h100.on_demand == 1.5 and h100.provider == "kubernetes"
    assert offers["t4-a"].accelerator == "T4"
    assert offers["cpu-a"].accelerator is None and offers["cpu-a"].vcpus == pytest.approx(7.91)


def test_multi_node_job_is_an_indexed_job_with_headless_service(k8s, tmp_path):
    kp = provider(k8s, tmp_path)
    insts = kp.create(request("workload.train[0]", nodes=2, accelerators="H100:8"))
    assert [i.rank for i in insts] == [0, 1] and {i.state for i in insts} == {"running"}
    assert insts[0].address == "workload.train[0]" and insts[0].tags[TAG_ADDRESS] == "workload.train[0]"
    (job,) = k8s.list("jobs")
    spec = job["spec"]
    assert (spec["completionMode"], spec["completions"], spec["parallelism"]) == ("Indexed", 2, 2)
    labels = job["metadata"]["labels"]
    assert labels["skyplan.dev/address"] == "workload.train_0" and labels["skyplan.dev/lineage"] == "lin-1"
    container = spec["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "8"
    assert "python train.py" in container["command"][-1]
    (svc,) = k8s.list("services")
    assert svc["spec"]["clusterIP"] == "None" and svc["metadata"]["name"] == job["metadata"]["name"]
    pods = k8s.list("pods")
    assert sorted(p["spec"]["nodeName"] for p in pods) == ["gpu-a", "gpu-b"]  # 8 GPUs each: one pod per node
    name, ns = job["metadata"]["name"], job["metadata"]["namespace"]
    assert [i.ip for i in insts] == [f"{name}-0.{name}.{ns}.svc", f"{name}-1.{name}.{ns}.svc"]  # workload.x.ip


def test_job_state_follows_completion(k8s, tmp_path):
    kp = provider(k8s, tmp_path)
    (inst,) = kp.create(request())
    k8s.finish_job(inst.attributes["name"])
    import time

    deadline = time.monotonic() + 5
    while kp.list_managed("lin-1")[0].state != "succeeded":
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_failed_job_is_reported_failed(k8s, tmp_path):
    kp = provider(k8s, tmp_path)
    (inst,) = kp.create(request())
    k8s.finish_job(inst.attributes["name"], succeeded=False)
    import time

    deadline = time.monotonic() + 5
    while kp.read(inst.id).state != "failed":
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_service_is_a_deployment_with_a_service_for_ports(k8s, tmp_path):
    kp = provider(k8s, tmp_path)
    insts = kp.create(request("workload.api", kind="service", nodes=3, ports=(8000,)))
    assert len(insts) == 3 and {i.state for i in insts} == {"running"}
    (dep,) = k8s.list("deployments")
    assert dep["spec"]["replicas"] == 3
    (svc,) = [s for s in k8s.list("services") if s["metadata"]["name"] == dep["metadata"]["name"]]
    assert svc["spec"]["ports"][0]["port"] == 8000 and svc["spec"]["clusterIP"] != "None"
    assert {i.ip for i in insts} == {f"{svc['metadata']['name']}.{svc['metadata']['namespace']}.svc"}
    (single,) = kp.create(request("workload.one"))
    assert single.ip is None  # no Service names a single-node job: a dependant on its ip is not launched


def test_a_service_has_one_stable_service_across_its_replica_groups(k8s, tmp_path):
    kp = provider(k8s, tmp_path)
    groups = [kp.create(request("workload.api", kind="service", group=g, ports=(8000,))) for g in (0, 1)]
    per_group = {g[0].attributes["name"] for g in groups}
    (stable,) = [s for s in k8s.list("services") if s["metadata"]["name"] not in per_group]
    assert stable["spec"]["selector"] == {"skyplan.dev/address": "workload.api", "skyplan.dev/lineage": "lin-1"}
    assert stable["spec"]["ports"][0]["port"] == 8000
    name = f"{stable['metadata']['name']}.{stable['metadata']['namespace']}.svc"
    assert {g[0].attributes["service"] for g in groups} == {name}
    kp.delete(groups[0])  # another group still serves behind it
    assert stable["metadata"]["name"] in {s["metadata"]["name"] for s in k8s.list("services")}
    kp.delete(groups[1])
    assert k8s.list("services") == []


def test_list_managed_one_call_per_kind_and_filters_lineage(k8s, tmp_path):
    kp = provider(k8s, tmp_path)
    kp.create(request("workload.a", nodes=2))
    kp.create(request("workload.api", kind="service"))
    kp.create(request("workload.b", lineage="other"))
    k8s.requests.clear()
    found = kp.list_managed("lin-1")
    assert sorted((i.address, i.rank) for i in found) == [("workload.a", 0), ("workload.a", 1), ("workload.api", 0)]
    assert all(i.lineage == "lin-1" and i.tags[TAG_LINEAGE] == "lin-1" for i in found)
    assert sorted(m for m, _ in k8s.requests) == ["GET", "GET"]


def test_update_tags_stop_start_and_env(k8s, tmp_path):
    kp = provider(k8s, tmp_path)
    (inst,) = kp.create(request("workload.api", kind="service"))
    inst = kp.update(inst, {"tags": {"team": "ml"}, "max_hourly_cost": 3})
    assert inst.tags["team"] == "ml"
    assert kp.update(inst, {"state": "stopped"}).state == "stopped"
    assert k8s.list("deployments")[0]["spec"]["replicas"] == 0
    kp.update(inst, {"state": "running", "env": {"MODE": "fast"}, "tags": {"team": None}})
    dep = k8s.list("deployments")[0]
    env = {e["name"]: e.get("value") for e in dep["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["MODE"] == "fast" and "EPOCHS" not in env and env["SKYPLAN_ADDRESS"] == "workload.api"
    assert dep["spec"]["replicas"] == 1 and "tags.skyplan.dev/team" not in dep["metadata"]["annotations"]
    with pytest.raises(ProviderError, match="cannot change run"):
        kp.update(inst, {"run": "other"})


def test_delete_removes_objects_and_pods_and_tolerates_gone(k8s, tmp_path):
    kp = provider(k8s, tmp_path)
    insts = kp.create(request(nodes=2))
    kp.delete(insts)
    assert k8s.list("jobs") == [] and k8s.list("services") == [] and k8s.list("pods") == []
    kp.delete(insts)
    assert kp.list_managed("lin-1") == []


def test_read_for_import(k8s, tmp_path):
    kp = provider(k8s, tmp_path)
    insts = kp.create(request("workload.api", kind="service", nodes=2))
    name = insts[0].attributes["name"]
    assert kp.read(f"deployment/{name}").id == insts[0].id
    assert kp.read(f"default/deployment/{name}/1").rank == 1
    with pytest.raises(ProviderError, match="no deployment"):
        kp.read("deployment/nope")
    with pytest.raises(ProviderError, match="not a Kubernetes object id"):
        kp.read("i-0abc")


def test_unschedulable_pods_become_capacity_error_and_are_cleaned_up(k8s, tmp_path):
    kp = provider(k8s, tmp_path, unschedulable_timeout=0.5)
    k8s.unschedulable = True
    with pytest.raises(CapacityError, match="unschedulable") as err:
        kp.create(request(nodes=2))
    assert err.value.scope == "region"
    import time

    deadline = time.monotonic() + 5
    while k8s.list("pods") or k8s.list("jobs") or k8s.list("services"):
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_too_big_for_any_node_is_capacity_error(k8s, tmp_path):
    kp = provider(k8s, tmp_path, unschedulable_timeout=0.3)
    with pytest.raises(CapacityError):
        kp.create(request(nodes=3, accelerators="H100:8"))  # only two H100 nodes


def test_unknown_accelerator_fails_before_creating(k8s, tmp_path):
    with pytest.raises(CapacityError, match="no node .* has A100"):
        provider(k8s, tmp_path).create(request(accelerators="A100:1"))
    assert k8s.list("jobs") == []


def test_retried_create_adopts_its_own_object(k8s, tmp_path):
    kp = provider(k8s, tmp_path)
    first = kp.create(request())
    again = kp.create(request())
    assert [i.id for i in again] == [i.id for i in first] and len(k8s.list("jobs")) == 1


@pytest.mark.parametrize("code,error", [(429, TransientError), (500, TransientError), (503, TransientError),
                                        (410, TransientError), (403, AuthError)])
def test_status_codes_map_to_errors(k8s, tmp_path, code, error):
    kp = provider(k8s, tmp_path)
    k8s.fail_next(code, method="GET", path="/jobs")
    with pytest.raises(error):
        kp.list_managed("lin-1")


def test_bad_token_is_auth_error_naming_the_context(k8s, tmp_path):
    path = k8s.kubeconfig(tmp_path / "kc", context="research", token="wrong")
    from skyplan.config.model import ProviderConfig
    from skyplan.providers.kubernetes import KubernetesProvider

    kp = KubernetesProvider(ProviderConfig(kind="kubernetes", settings={"kubeconfig": path}))
    with pytest.raises(AuthError, match="research"):
        kp.list_managed("lin-1")


def test_missing_kubeconfig_is_auth_error(tmp_path):
    from skyplan.config.model import ProviderConfig
    from skyplan.providers.kubernetes import KubernetesProvider

    kp = KubernetesProvider(ProviderConfig(kind="kubernetes", settings={"kubeconfig": str(tmp_path / "none")}))
    with pytest.raises(AuthError) as err:
        kp.list_managed("lin-1")
    assert err.value.hint


def test_invalid_body_is_rejected_by_the_api_with_a_clear_error(k8s, tmp_path):
    kp = provider(k8s, tmp_path)
    with pytest.raises(ProviderError, match=r"422.*spec.ports\[0\].port"):
        kp.create(request(ports=(70000,), kind="service"))


def test_imported_object_is_tagged_into_the_lineage(k8s, tmp_path):
    from skyplan.providers.base import TAG_GROUP, TAG_RANK

    kp = provider(k8s, tmp_path)
    (inst,) = kp.create(request("workload.x", lineage="someone"))
    found = kp.read(f"job/{inst.attributes['name']}")
    kp.update(found, {"tags": {TAG_ADDRESS: "workload.y", TAG_LINEAGE: "lin-9", TAG_GROUP: "0", TAG_RANK: "0"}})
    (mine,) = kp.list_managed("lin-9")
    assert (mine.address, mine.lineage, mine.id) == ("workload.y", "lin-9", inst.id)
    assert kp.list_managed("someone") == []


def test_stopping_a_job_suspends_it(k8s, tmp_path):
    import time

    kp = provider(k8s, tmp_path)
    insts = kp.create(request(nodes=2))
    assert kp.update(insts[0], {"state": "stopped"}).state == "stopped"
    deadline = time.monotonic() + 5
    while k8s.list("pods"):  # a suspended Job's pods go away
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_expired_watch_is_listed_again(k8s, tmp_path):
    import threading
    import time

    kp = provider(k8s, tmp_path, unschedulable_timeout=30)
    k8s.unschedulable = True  # keep pods pending so create has to watch
    k8s.fail_next(410, method="GET", path="/pods?watch")

    def release() -> None:  # let the pods schedule once a second watch has started
        deadline = time.monotonic() + 20
        while sum(p.endswith("?watch") for _, p in list(k8s.requests)) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        k8s.unschedulable = False

    threading.Thread(target=release, daemon=True).start()
    (inst,) = kp.create(request())
    assert inst.state == "running"
    lists = [p for m, p in k8s.requests if m == "GET" and p.endswith("/pods")]
    assert len(lists) == 2  # listed again after the 410


def test_provider_labels_go_on_objects_and_pods(k8s, tmp_path):
    kp = provider(k8s, tmp_path, labels={"team": "ml"})
    kp.create(request())
    (job,) = k8s.list("jobs")
    assert job["metadata"]["labels"]["team"] == "ml"
    assert all(p["metadata"]["labels"]["team"] == "ml" for p in k8s.list("pods"))


def test_logs_read_the_pod_of_each_rank(k8s, tmp_path):
    kp = provider(k8s, tmp_path)
    insts = kp.create(request(nodes=2))
    for pod in k8s.list("pods"):
        rank = pod["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"]
        k8s.pod_logs[pod["metadata"]["name"]] = f"epoch 1 on rank {rank}\nepoch 2 on rank {rank}\n"
    assert list(kp.logs(insts[1])) == ["epoch 1 on rank 1", "epoch 2 on rank 1"]


def test_exceeded_namespace_quota_is_a_quota_error_not_an_auth_error(k8s, tmp_path):
    """A ResourceQuota refusal is a 403 too, but credentials are fine: apply
    should fail over to another offer, not stop and blame RBAC."""
    from skyplan.errors import QuotaError

    kp = provider(k8s, tmp_path)
    k8s.fail_next(403, method="POST", path="/jobs", message=(
        'jobs.batch "sp-train-0" is forbidden: exceeded quota: team-quota, requested: count/jobs.batch=1, '
        "used: count/jobs.batch=10, limited: count/jobs.batch=10"))
    with pytest.raises(QuotaError, match="exceeded quota") as err:
        kp.create(request())
    assert err.value.scope == "region"
    assert k8s.list("jobs") == []


def test_autostop_is_refused_before_anything_is_created(k8s, tmp_path):
    from skyplan.errors import ProviderError

    prov = provider(k8s, tmp_path)
    with pytest.raises(ProviderError) as exc:
        prov.create(request(kind="service", autostop=7200))
    assert "a Kubernetes pod has none of its own to stop" in str(exc.value)
    assert k8s.list("deployments") == [] and k8s.list("services") == []

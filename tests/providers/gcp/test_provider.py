"""GcpProvider against the Compute Engine emulator: the real SDK over HTTP on 127.0.0.1."""

from __future__ import annotations

import pytest

from skyplan.config.model import ProviderConfig
from skyplan.errors import AuthError, ProviderError
from skyplan.providers import get_provider
from skyplan.providers.base import TAG_ADDRESS, TAG_GROUP, TAG_LINEAGE, TAG_RANK, SupportsImport, SupportsLogs
from tests.providers.gcp.helpers import PROJECT, provider, request


def test_create_inserts_one_labelled_instance_per_node_in_the_zone(gce):
    gcp = provider(gce)
    insts = gcp.create(request(nodes=2, itype="n1-standard-8", accelerators="T4:1", pricing="spot",
                               kind="service"))
    assert [i.rank for i in insts] == [0, 1] and {i.state for i in insts} == {"running"}
    raws = gce.all_instances(PROJECT)
    assert len(raws) == 2
    for raw in raws:
        assert raw["machineType"].endswith("/zones/us-central1-a/machineTypes/n1-standard-8")
        assert raw["scheduling"]["provisioningModel"] == "SPOT"
        assert raw["scheduling"]["instanceTerminationAction"] == "STOP"
        assert raw["guestAccelerators"][0]["acceleratorType"].endswith("nvidia-tesla-t4")
        assert raw["labels"]["skyplan-lineage"] == "lin-1" and raw["labels"]["skyplan-group"] == "0"
        assert raw["networkInterfaces"][0]["network"].endswith("global/networks/default")
    i = insts[0]
    assert (i.zone, i.region, i.instance_type, i.pricing) == ("us-central1-a", "us-central1", "n1-standard-8", "spot")
    assert i.tags[TAG_ADDRESS] == "workload.train" and i.tags[TAG_LINEAGE] == "lin-1" and i.tags[TAG_RANK] == "0"
    assert i.id == f"{PROJECT}/us-central1-a/{raws[0]['name']}" and i.attributes["private_ip"]
    assert len(gce.calls("zoneOperations.wait")) == 2


def test_list_managed_is_one_aggregated_call_over_all_zones_with_a_label_filter_and_one_for_reservations(gce):
    gcp = provider(gce, regions=("us-central1", "europe-west4"))
    gcp.create(request(zone="us-central1-a", nodes=2))
    gcp.create(request(address="workload.eval", zone="europe-west4-b"))
    gcp.create(request(address="workload.other", zone="us-central1-b", lineage="someone-else"))
    gce.clear_calls()
    found = gcp.list_managed("lin-1")
    assert sorted((i.address, i.zone) for i in found) == [
        ("workload.eval", "europe-west4-b"), ("workload.train", "us-central1-a"), ("workload.train", "us-central1-a")]
    assert [c["method"] for c in gce.calls()] == ["instances.aggregatedList", "reservations.aggregatedList"]


def test_list_managed_follows_pages(gce, monkeypatch):
    from skyplan.providers.gcp import provider as module

    monkeypatch.setattr(module, "PAGE_SIZE", 2)
    gcp = provider(gce)
    gcp.create(request(nodes=5))
    assert len(gcp.list_managed("lin-1")) == 5
    assert len(gce.calls("instances.aggregatedList")) == 3


def test_a_retried_launch_reuses_its_names_and_creates_nothing_twice(gce):
    gcp = provider(gce)
    first = gcp.create(request(nodes=2, token="same"))
    again = gcp.create(request(nodes=2, token="same"))
    assert [i.id for i in again] == [i.id for i in first] and len(gce.all_instances()) == 2


def test_update_sets_labels_with_the_fingerprint_and_stops_and_starts(gce):
    gcp = provider(gce)
    (inst,) = gcp.create(request(kind="service"))
    changed = gcp.update(inst, {"tags": {"owner": "alice"}})
    assert changed.tags["owner"] == "alice" and changed.tags[TAG_ADDRESS] == "workload.train"
    restored = gcp.update(changed, {"tags": {"owner": None, TAG_ADDRESS: "workload.renamed"}})
    assert "owner" not in restored.tags and restored.address == "workload.renamed"
    assert gcp.update(restored, {"state": "stopped"}).state == "stopped"
    assert gcp.update(gcp.read(inst.id), {"state": "running"}).state == "running"
    with pytest.raises(ProviderError, match="in place"):
        gcp.update(inst, {"env": {"A": "1"}})
    # a user's tag is made a valid label on update as at launch (gcp/labels.py user_labels)
    assert gcp.update(gcp.read(inst.id), {"tags": {"Owner": "Alice B"}}).tags["owner"] == "alice_b"


def test_set_labels_retries_once_when_someone_changed_them_meanwhile(gce):
    gcp = provider(gce)
    (inst,) = gcp.create(request())
    gce.inject("conditionNotMet", status=412, method="instances.setLabels")
    assert gcp.update(inst, {"tags": {"owner": "bob"}}).tags["owner"] == "bob"
    assert len(gce.calls("instances.setLabels")) == 2


def test_delete_waits_and_ignores_what_is_already_gone(gce):
    gcp = provider(gce)
    insts = gcp.create(request(nodes=2))
    gcp.delete(insts[:1])
    gcp.delete(insts)
    assert gce.all_instances() == [] and gcp.list_managed("lin-1") == []


def test_import_reads_one_instance_by_project_zone_and_name(gce):
    gcp = provider(gce)
    (inst,) = gcp.create(request(zone="us-central1-c", itype="e2-standard-4"))
    name = inst.attributes["name"]
    assert isinstance(gcp, SupportsImport) and isinstance(gcp, SupportsLogs)
    for text in (f"gcp:{PROJECT}/us-central1-c/{name}", f"{PROJECT}/us-central1-c/{name}", f"us-central1-c/{name}",
                 f"projects/{PROJECT}/zones/us-central1-c/instances/{name}"):
        assert gcp.read(text).id == inst.id
    with pytest.raises(ProviderError, match="no instance"):
        gcp.read(f"gcp:{PROJECT}/us-central1-c/missing")
    with pytest.raises(ProviderError, match="PROJECT/ZONE/NAME"):
        gcp.read("just-a-name")


def test_logs_are_the_serial_console(gce):
    gcp = provider(gce)
    (inst,) = gcp.create(request())
    gce.console(PROJECT, inst.zone, inst.attributes["name"], "setup done\nskyplan: exit_code=0\n")
    assert list(gcp.logs(inst))[-2:] == ["setup done", "skyplan: exit_code=0"]


def test_follow_prints_new_serial_output_until_the_node_stops(gce):
    """``logs --follow`` reads on from where the last read ended (the API's ``start`` and
    ``next``), keeps a line written in two pieces whole, and ends when the VM stops."""
    gcp = provider(gce)
    (inst,) = gcp.create(request())
    name = inst.attributes["name"]
    gce.console(PROJECT, inst.zone, name, "booting\n")
    lines = gcp.logs(inst, follow=True)
    while next(lines) != "booting":  # the emulator's own boot lines come first
        pass
    gce.console(PROJECT, inst.zone, name, "epoch 1 loss ")
    gce.console(PROJECT, inst.zone, name, "0.42\nepoch 2")
    assert next(lines) == "epoch 1 loss 0.42"
    gcp.update(inst, {"state": "stopped"})
    assert list(lines) == ["epoch 2"]


def test_a_job_node_that_powered_itself_off_reports_its_exit_code(gce):
    gcp = provider(gce)
    for code, state in ((0, "succeeded"), (3, "failed")):
        gce.reset()
        (inst,) = gcp.create(request(kind="job"))
        gce.console(PROJECT, inst.zone, inst.attributes["name"], f"skyplan: exit_code={code}\n")
        gcp.update(inst, {"state": "stopped"})
        (found,) = gcp.list_managed("lin-1")
        assert found.state == state and found.attributes["exit_code"] == code
    # A service stopped by someone is just stopped, and costs no console read.
    gce.reset()
    (svc,) = gcp.create(request(kind="service"))
    gcp.update(svc, {"state": "stopped"})
    gce.clear_calls()
    assert [i.state for i in gcp.list_managed("lin-1")] == ["stopped"]
    assert not gce.calls("instances.getSerialPortOutput")


def test_a_preempted_spot_service_is_reported_preempted(gce):
    gcp = provider(gce)
    (inst,) = gcp.create(request(kind="service", pricing="spot"))
    gce.preempt(PROJECT, inst.zone, inst.attributes["name"])
    gce.clear_calls()
    (found,) = gcp.list_managed("lin-1")
    assert found.state == "preempted" and found.tags[TAG_GROUP] == "0"
    assert [c["method"] for c in gce.calls()] == ["instances.aggregatedList", "globalOperations.aggregatedList",
                                                 "reservations.aggregatedList"]
    # Started again after the preemption, then stopped by hand: just stopped.
    gcp.update(found, {"state": "running"})
    gcp.update(gcp.read(inst.id), {"state": "stopped"})
    assert gcp.read(inst.id).state == "stopped"


def test_a_preempted_spot_job_is_gone(gce):
    gcp = provider(gce)
    (inst,) = gcp.create(request(kind="job", pricing="spot"))
    gce.preempt(PROJECT, inst.zone, inst.attributes["name"])
    assert gcp.list_managed("lin-1") == []


def test_registered():
    from skyplan.providers import REGISTRY

    assert "gcp" in REGISTRY


def test_without_endpoint_or_credentials_the_error_names_what_to_set(tmp_path, monkeypatch):
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))
    with pytest.raises(AuthError) as err:
        get_provider(ProviderConfig(kind="gcp", settings={"project": "p"}))
    assert "credentials_file" in err.value.hint and "GOOGLE_APPLICATION_CREDENTIALS" in err.value.hint
    with pytest.raises(ProviderError, match="project"):
        get_provider(ProviderConfig(kind="gcp", settings={"endpoint": "http://127.0.0.1:9"}))
    bad = tmp_path / "key.json"
    bad.write_text("{}")
    with pytest.raises(AuthError, match="service-account key"):
        get_provider(ProviderConfig(kind="gcp", settings={"project": "p", "credentials_file": str(bad)}))

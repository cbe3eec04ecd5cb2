"""AzureProvider against the ARM emulator: what create sends, listing, reads, updates, deletes."""

from __future__ import annotations

import base64

import pytest

from skyplan.errors import AuthError, ProviderError
from skyplan.providers.azure.network import pieces
from tests.providers.azure.helpers import provider, request


def _vm(arm, name=None):
    vms = arm.vms()
    return next(v for v in vms if name is None or v["name"] == name)


def test_create_spot_job_sends_size_spot_tags_custom_data_and_zone(arm):
    p = provider(arm)
    [inst] = p.create(request(pricing="spot", zone="eastus-2", size="Standard_NC24ads_A100_v4"))
    vm = _vm(arm)
    props = vm["properties"]
    assert props["hardwareProfile"]["vmSize"] == "Standard_NC24ads_A100_v4"
    assert props["priority"] == "Spot" and props["evictionPolicy"] == "Delete"
    assert props["billingProfile"]["maxPrice"] == -1
    assert vm["zones"] == ["2"] and inst.zone == "eastus-2"
    assert props["storageProfile"]["imageReference"]["offer"] == "ubuntu-hpc"  # GPU size: HPC/AI image
    script = base64.b64decode(props["osProfile"]["customData"]).decode()
    assert "python train.py" in script and "EPOCHS=3" in script and "shutdown -h now" in script
    assert vm["tags"]["skyplan-address"] == "workload.train"
    assert vm["tags"]["skyplan-lineage"] == "lin-1" and vm["tags"]["skyplan-group"] == "0"
    assert "adminPassword" not in props["osProfile"]  # ARM never returns it
    assert inst.state == "running" and inst.pricing == "spot" and inst.address == "workload.train"
    assert inst.tags["skyplan:address"] == "workload.train"  # reported under skyplan's own tag names
    # its NIC sits in the skyplan subnet; the network pieces exist
    nic = arm.of_type("Microsoft.Network/networkInterfaces")[0]
    subnet = nic["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"]
    assert subnet.endswith("/virtualNetworks/skyplan-vnet-eastus/subnets/skyplan")
    assert arm.groups["skyplan-eastus"]["tags"]["skyplan-lineage"] == "lin-1"


def test_service_spot_deallocates_and_cpu_sizes_boot_ubuntu(arm):
    p = provider(arm)
    p.create(request(kind="service", pricing="spot", run="python serve.py"))
    props = _vm(arm)["properties"]
    assert props["evictionPolicy"] == "Deallocate"
    assert props["storageProfile"]["imageReference"]["publisher"] == "Canonical"
    assert "shutdown" not in base64.b64decode(props["osProfile"]["customData"]).decode()


def test_on_demand_has_no_spot_fields_and_image_setting_wins(arm):
    p = provider(arm, image="Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest")
    p.create(request(nodes=2))
    vms = arm.vms()
    assert len(vms) == 2 and {v["tags"]["skyplan-rank"] for v in vms} == {"0", "1"}
    for vm in vms:
        assert "priority" not in vm["properties"] and "zones" not in vm
        assert vm["properties"]["storageProfile"]["imageReference"]["sku"] == "22_04-lts-gen2"


def test_list_managed_is_one_list_per_resource_group(arm):
    p = provider(arm, regions=("eastus", "westus2"))
    p.create(request(region="eastus", token="a"))
    p.create(request(address="workload.b", region="westus2", token="b"))
    p.create(request(address="workload.other", lineage="someone-else", token="c"))
    arm.calls.clear()
    found = provider(arm, regions=("eastus", "westus2")).list_managed("lin-1")
    assert sorted(i.address for i in found) == ["workload.b", "workload.train"]
    assert all(i.state == "running" for i in found)
    assert arm.count("GET", r"/resourceGroups/[^/]+/providers/Microsoft.Compute/virtualMachines$") == 2
    assert arm.count("GET", r"^/subscriptions/[^/]+/providers/Microsoft.Compute/virtualMachines$") == 1
    assert arm.count("GET", r"^/subscriptions/[^/]+/providers/Microsoft.Compute/capacityReservationGroups$") == 1
    assert len(arm.calls) == 4  # nothing per VM


def test_list_follows_pages(arm):
    arm.page_size = 2
    try:
        p = provider(arm)
        p.create(request(nodes=5))
        assert len(p.list_managed("lin-1")) == 5
    finally:
        arm.page_size = 500


def test_list_of_a_missing_resource_group_is_empty(arm):
    assert provider(arm, regions=("japaneast",)).list_managed("lin-1") == []


def test_delete_removes_vm_nic_disk_and_public_ip(arm):
    p = provider(arm)
    [inst] = p.create(request())
    nic = arm.of_type("Microsoft.Network/networkInterfaces")[0]
    pip_id = nic["id"].rsplit("/providers/", 1)[0] + "/providers/Microsoft.Network/publicIPAddresses/pip1"
    arm.resources[pip_id.lower()] = {"id": pip_id, "name": "pip1", "type": "Microsoft.Network/publicIPAddresses",
                                     "location": "eastus", "tags": {}, "properties": {}}
    nic["properties"]["ipConfigurations"][0]["properties"]["publicIPAddress"] = {"id": pip_id}
    p.delete([inst])
    left = {r["type"] for r in arm.resources.values()}
    assert left == {"Microsoft.Network/networkSecurityGroups", "Microsoft.Network/virtualNetworks",
                    "Microsoft.Network/virtualNetworks/subnets"}
    p.delete([inst])  # already gone: not an error


def test_read_by_group_and_name_or_arm_id(arm):
    p = provider(arm)
    [inst] = p.create(request())
    name = inst.attributes["name"]
    assert p.read(f"skyplan-eastus/{name}").id == inst.id
    assert p.read(inst.id).address == "workload.train"
    with pytest.raises(ProviderError, match="no virtual machine 'nope'"):
        p.read("skyplan-eastus/nope")
    with pytest.raises(ProviderError, match="RESOURCE_GROUP/VM_NAME"):
        p.read("just-a-name")


def test_update_tags_and_power(arm):
    p = provider(arm)
    [inst] = p.create(request(kind="service"))
    inst = p.update(inst, {"tags": {"owner": "ml", "skyplan:kind": None}})
    assert inst.tags["owner"] == "ml" and "skyplan:kind" not in inst.tags
    assert "skyplan-kind" not in _vm(arm)["tags"] and _vm(arm)["tags"]["skyplan-address"] == "workload.train"
    inst = p.update(inst, {"state": "stopped"})
    assert inst.state == "stopped"
    assert p.update(inst, {"state": "running"}).state == "running"
    with pytest.raises(ProviderError, match="cannot change env"):
        p.update(inst, {"env": {"A": "1"}})


def test_evicted_spot_service_is_preempted_and_evicted_spot_job_is_gone(arm):
    p = provider(arm)
    [svc] = p.create(request(address="workload.svc", kind="service", pricing="spot", token="s"))
    [job] = p.create(request(address="workload.job", kind="job", pricing="spot", token="j"))
    arm.evict("skyplan-eastus", svc.attributes["name"])
    arm.evict("skyplan-eastus", job.attributes["name"])
    found = {i.address: i for i in p.list_managed("lin-1")}
    assert found["workload.svc"].state == "preempted"
    assert "workload.job" not in found


def test_finished_job_reads_exit_code_from_boot_diagnostics_and_logs(arm):
    p = provider(arm)
    [ok] = p.create(request(address="workload.ok", token="1"))
    [bad] = p.create(request(address="workload.bad", token="2"))
    arm.finish("skyplan-eastus", ok.attributes["name"], 0)
    arm.finish("skyplan-eastus", bad.attributes["name"], 3)
    found = {i.address: i for i in p.list_managed("lin-1")}
    assert found["workload.ok"].state == "succeeded"
    assert found["workload.bad"].state == "failed" and found["workload.bad"].attributes["exit_code"] == 3
    assert "skyplan: exit_code=0" in list(p.logs(ok))


def test_existing_resource_group_is_used_and_kept(arm):
    arm.groups["team-rg"] = {"id": f"/subscriptions/{arm.subscription}/resourceGroups/team-rg", "name": "team-rg",
                             "type": "Microsoft.Resources/resourceGroups", "location": "eastus", "tags": {},
                             "properties": {"provisioningState": "Succeeded"}}
    p = provider(arm, resource_group="team-rg")
    attrs = [p.ensure_network(piece, "lin-1") for piece in p.network_pieces("eastus")]
    assert [a["created"] for a in attrs] == [False, True, True, True]
    for a in reversed(attrs):
        p.delete_network(a)
    assert "team-rg" in arm.groups
    assert not arm.of_type("Microsoft.Network/virtualNetworks")


def test_resource_group_skyplan_made_is_kept_while_others_use_it(arm):
    p = provider(arm)
    rg = p.ensure_network(p.network_pieces("eastus")[0], "lin-1")
    arm.resources[f"/subscriptions/{arm.subscription}/resourcegroups/skyplan-eastus/providers/microsoft.storage/"
                  "storageaccounts/data"] = {"id": "x", "name": "data", "type": "Microsoft.Storage/storageAccounts",
                                             "location": "eastus", "properties": {}}
    assert "still holds 1 resource" in p.delete_network(rg)
    assert "skyplan-eastus" in arm.groups


def test_interrupted_apply_pieces_with_our_lineage_count_as_created(arm):
    p = provider(arm)
    for piece in p.network_pieces("eastus"):
        p.ensure_network(piece, "lin-1")
    again = provider(arm)  # a new process: nothing cached
    assert all(again.ensure_network(piece, "lin-1")["created"] for piece in again.network_pieces("eastus"))


def test_network_pieces_are_named_per_region_and_alias():
    from skyplan.config.model import ProviderConfig

    east = pieces(ProviderConfig(kind="azure"), "eastus")
    assert [x.address for x in east] == [
        'network.azure_resource_group["skyplan-eastus"]',
        'network.azure_network_security_group["skyplan-eastus/skyplan-nsg-eastus"]',
        'network.azure_virtual_network["skyplan-eastus/skyplan-vnet-eastus"]',
        'network.azure_subnet["skyplan-eastus/skyplan-vnet-eastus/skyplan"]',
    ]
    west = pieces(ProviderConfig(kind="azure", alias="w", settings={"resource_group": "rg1"}), "westus2")
    assert west[0].address == 'network.azure_resource_group["azure.w:rg1"]'
    assert west[-1].depends_on == (west[2].address, west[1].address)


def test_no_subscription_is_a_clear_error_before_any_call(arm):
    with pytest.raises(ProviderError, match="no Azure subscription") as exc:
        provider(arm, subscription_id="")
    assert "AZURE_SUBSCRIPTION_ID" in exc.value.hint
    assert arm.calls == []


def test_a_services_env_change_replaces_the_vm():
    """Custom data is fixed at launch: the planner must not ask update() for env."""
    from skyplan.planner.schema import REPLACE, UPDATE, rules_for

    rules = rules_for("azure", "service")
    assert rules.effect("env") == REPLACE and rules.effect("tags") == UPDATE


def test_default_images_follow_the_size():
    from skyplan.providers.azure.launch import image_reference

    assert image_reference("Standard_ND96isr_H100_v5", None, None)["offer"] == "ubuntu-hpc"
    assert image_reference("Standard_D4ps_v5", None, None)["sku"] == "server-arm64"
    assert image_reference("Standard_D4s_v5", None, None)["sku"] == "server"
    assert image_reference("Standard_D4s_v5", "pytorch/pytorch:2.4.0", None)["sku"] == "server"  # a container
    assert image_reference("Standard_D4s_v5", "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/"
                                              "images/mine", None) == {
        "id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/images/mine"}


def test_without_regions_the_groups_skyplan_made_are_listed(arm):
    p = provider(arm, regions=("westus2",))
    p.create(request(region="westus2"))
    found = provider(arm, regions=()).list_managed("lin-1")
    assert [i.region for i in found] == ["westus2"]


def test_a_subnet_another_state_still_uses_is_kept_on_delete(arm):
    mine, theirs = provider(arm), provider(arm)
    attrs = [mine.ensure_network(piece, "lin-1") for piece in mine.network_pieces("eastus")]
    theirs.create(request(lineage="lin-2"))  # a second state in the same default resource group
    assert "still in use" in mine.delete_network(attrs[3])
    assert arm.of_type("Microsoft.Network/virtualNetworks/subnets")


def test_follow_prints_each_serial_line_once_until_the_vm_is_gone(arm):
    p = provider(arm)
    [vm] = p.create(request(address="workload.svc", kind="service", token="f1"))
    vid = vm.id.lower()
    arm.serial[vid] = "cloud-init: start\n"
    lines = p.logs(vm, follow=True)
    assert next(lines) == "cloud-init: start"
    arm.serial[vid] += "model loaded\n"
    assert next(lines) == "model loaded"
    p.delete([vm])
    assert list(lines) == []

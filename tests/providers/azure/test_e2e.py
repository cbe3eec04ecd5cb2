"""End to end on Azure (the ARM emulator on 127.0.0.1) through the CLI.

apply -> VMs with the right size, spot setting and tags, and the network pieces
recorded as their own addresses -> re-plan is a no-op -> a VM deleted behind
skyplan's back is drift (exit 2) -> ``drift --repair`` -> ``drift`` exit 0 ->
destroy leaves nothing, network pieces included, and keeps a resource group
skyplan did not create. Failover: a capacity error in the first region goes to
the next within the approved cost; a quota error blocks the region; an evicted
spot VM is re-placed elsewhere.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skyplan.cli import main
from skyplan.state import StateStore

CONFIG = """
provider "azure" {{
  subscription_id = "{sub}"
  regions         = {regions}
  endpoint        = "{url}"
  poll_interval   = 0
  max_retries     = 0{extra}
}}

workload "spot" {{
  kind    = "service"
  pricing = ["spot"]
  run     = "python -m http.server 8000"
  resources {{
    instance_type = "Standard_D2s_v5"
  }}
}}

workload "web" {{
  kind = "service"
  run  = "python -m http.server 8080"
  resources {{
    instance_type = "Standard_D4s_v5"
  }}
}}
"""

NETWORK_TYPES = ("Microsoft.Network/networkSecurityGroups", "Microsoft.Network/virtualNetworks",
                 "Microsoft.Network/virtualNetworks/subnets")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def write(root: Path, arm, regions=("eastus",), extra: str = "") -> None:
    root.mkdir(exist_ok=True)
    (root / "main.sky.hcl").write_text(CONFIG.format(sub=arm.subscription, url=arm.url, regions=json.dumps(list(regions)),
                                                     extra=extra))


def records(root: Path):
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        return dict(store.snapshot().resources)


@pytest.fixture
def applied(tmp_path, arm, capsys):
    root = tmp_path / "cfg"
    write(root, arm)
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out + err
    return root


def test_apply_replan_drift_repair_destroy(applied, arm, capsys):
    root = applied
    vms = {v["tags"]["skyplan-address"]: v for v in arm.vms()}
    assert set(vms) == {"workload.spot", "workload.web"}
    assert vms["workload.spot"]["properties"]["hardwareProfile"]["vmSize"] == "Standard_D2s_v5"
    assert vms["workload.spot"]["properties"]["priority"] == "Spot"
    assert vms["workload.spot"]["properties"]["evictionPolicy"] == "Deallocate"
    assert "priority" not in vms["workload.web"]["properties"]
    recs = records(root)
    lineage = recs["workload.web"].instances[0].lineage
    assert all(v["tags"]["skyplan-lineage"] == lineage for v in vms.values())
    network = sorted(a for a, r in recs.items() if r.kind == "network")
    assert network == ['network.azure_network_security_group["skyplan-eastus/skyplan-nsg-eastus"]',
                       'network.azure_resource_group["skyplan-eastus"]',
                       'network.azure_subnet["skyplan-eastus/skyplan-vnet-eastus/skyplan"]',
                       'network.azure_virtual_network["skyplan-eastus/skyplan-vnet-eastus"]']

    code, out, err = run(capsys, "plan", str(root), "--detailed-exitcode")
    assert code == 0, out + err
    assert "No changes" in out

    arm.delete_behind_back("skyplan-eastus", vms["workload.web"]["name"])
    code, out, err = run(capsys, "drift", str(root), "--json")
    assert code == 2, out + err
    assert {(i["address"], i["category"]) for i in json.loads(out)["items"]} == {("workload.web", "missing")}

    code, out, err = run(capsys, "drift", str(root), "--repair", "--auto-approve", "--json")
    assert code == 0, out + err
    code, out, err = run(capsys, "drift", str(root))
    assert code == 0, out + err
    code, out, err = run(capsys, "status", str(root), "--json")
    assert code == 0, out + err
    rows = json.loads(out)["resources"]  # network pieces are not workloads
    assert {(r["address"], r["state"]) for r in rows} == {("workload.spot", "running"), ("workload.web", "running")}
    assert len(arm.vms()) == 2

    code, out, err = run(capsys, "destroy", str(root), "--auto-approve")
    assert code == 0, out + err
    assert arm.resources == {} and arm.groups == {}
    assert records(root) == {}


def test_plan_shows_the_network_pieces_it_will_create(tmp_path, arm, capsys):
    root = tmp_path / "cfg"
    write(root, arm)
    code, out, err = run(capsys, "plan", str(root))
    assert code == 0, out + err
    assert 'network.azure_subnet["skyplan-eastus/skyplan-vnet-eastus/skyplan"] will be created' in out
    assert "created if missing" in out
    assert "Plan: 6 to add, 0 to change, 0 to destroy." in out


def test_destroy_keeps_a_resource_group_skyplan_did_not_create(tmp_path, arm, capsys):
    arm.groups["team-rg"] = {"id": f"/subscriptions/{arm.subscription}/resourceGroups/team-rg", "name": "team-rg",
                             "type": "Microsoft.Resources/resourceGroups", "location": "eastus", "tags": {},
                             "properties": {"provisioningState": "Succeeded"}}
    root = tmp_path / "cfg"
    write(root, arm, extra='\n  resource_group  = "team-rg"')
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out + err
    assert records(root)['network.azure_resource_group["team-rg"]'].attributes["created"] is False

    code, out, err = run(capsys, "plan", str(root), "-destroy")
    assert code == 0, out + err
    assert 'network.azure_resource_group["team-rg"] will be removed from state' in out
    code, out, err = run(capsys, "destroy", str(root), "--auto-approve")
    assert code == 0, out + err
    assert list(arm.groups) == ["team-rg"] and arm.resources == {}


def test_capacity_in_the_first_region_fails_over_and_quota_blocks_a_region(tmp_path, arm, capsys):
    root = tmp_path / "cfg"
    write(root, arm, regions=("eastus", "westus2", "westus3"))
    code, out, err = run(capsys, "plan", str(root), "--json")
    assert code == 0, out + err
    chosen = {c["address"]: c for c in json.loads(out)["resource_changes"]}
    first = chosen["workload.web"]["change"]["after"]["placement"]["groups"][0]["chosen"]["region"]
    arm.fault(kind="capacity", code="ZonalAllocationFailed", region=first, size="Standard_D4s_v5",
              **{"async": True})
    arm.fault(kind="quota", code="QuotaExceeded", size="Standard_D2s_v5", times=100,
              message="exceeding approved standardDSv5Family Cores quota", region=first)
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out + err
    placed = {v["tags"]["skyplan-address"]: v["location"] for v in arm.vms()}
    assert placed["workload.web"] != first and placed["workload.spot"] != first
    assert "failed over" in out + err
    recs = records(root)
    # the fallback regions' pieces are in state, so destroy removes them too
    assert {r.attributes["region"] for r in recs.values() if r.kind == "network"} >= {first, placed["workload.web"]}
    code, out, err = run(capsys, "destroy", str(root), "--auto-approve")
    assert code == 0, out + err
    assert arm.resources == {} and arm.groups == {}


def test_evicted_spot_vm_is_re_placed_by_drift_repair(tmp_path, arm, capsys):
    root = tmp_path / "cfg"
    write(root, arm, regions=("eastus", "eastus2"))
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out + err
    spot = next(v for v in arm.vms() if v["tags"]["skyplan-address"] == "workload.spot")
    arm.evict(f"skyplan-{spot['location']}", spot["name"])
    code, out, err = run(capsys, "drift", str(root), "--json")
    assert code == 2, out + err
    [item] = json.loads(out)["items"]
    assert item["address"] == "workload.spot" and item["after"]["state"] == "preempted"
    code, out, err = run(capsys, "drift", str(root), "--repair", "--auto-approve")
    assert code == 0, out + err
    now = [v for v in arm.vms() if v["tags"]["skyplan-address"] == "workload.spot"]
    assert len(now) == 1 and now[0]["location"] != spot["location"]  # re-placed outside the lost region
    code, out, err = run(capsys, "drift", str(root))
    assert code == 0, out + err


def test_import_status_and_logs(tmp_path, arm, capsys):
    from tests.providers.azure.helpers import provider, request

    made = provider(arm).create(request(address="manual", lineage="none", kind="service"))[0]
    root = tmp_path / "cfg"
    write(root, arm)
    (root / "main.sky.hcl").write_text((root / "main.sky.hcl").read_text().split('workload "spot"')[0] +
                                       'workload "web" {\n kind = "service"\n run = "x"\n'
                                       ' resources {\n instance_type = "Standard_D2s_v5"\n }\n}\n')
    code, out, err = run(capsys, "import", "workload.web", f"azure:skyplan-eastus/{made.attributes['name']}",
                         str(root))
    assert code == 0, out + err
    assert "Imported" in out
    code, out, err = run(capsys, "drift", str(root))
    assert code == 0, out + err
    arm.serial[made.id.lower()] = "Ubuntu 24.04 LTS\nskyplan: serving\n"
    code, out, err = run(capsys, "logs", "workload.web", str(root))
    assert code == 0, out + err
    assert "skyplan: serving" in out


def test_refresh_only_records_a_tag_change_and_changes_nothing(applied, arm, capsys):
    root = applied
    web = next(v for v in arm.vms() if v["tags"]["skyplan-address"] == "workload.web")
    arm.resources[web["id"].lower()]["tags"]["owner"] = "portal-user"
    calls = len(arm.calls)
    code, out, err = run(capsys, "apply", str(root), "--refresh-only", "--auto-approve")
    assert code == 0, out + err
    assert records(root)["workload.web"].instances[0].tags["owner"] == "portal-user"
    assert not [c for c in arm.calls[calls:] if c["method"] in ("PUT", "PATCH", "DELETE")]
    code, out, err = run(capsys, "drift", str(root))
    assert code == 0, out + err


def test_pieces_left_without_nodes_are_deleted_by_the_next_apply(applied, arm, capsys):
    root = applied
    (root / "main.sky.hcl").write_text((root / "main.sky.hcl").read_text().split('workload "spot"')[0])
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")  # the VMs go, then their network
    assert code == 0, out + err
    assert arm.resources == {} and arm.groups == {}
    assert records(root) == {}


def test_the_azure_example_applies_and_destroys(tmp_path, arm, capsys):
    import shutil

    root = tmp_path / "example"
    shutil.copytree(Path(__file__).resolve().parents[3] / "examples" / "azure-spot-service", root)
    main_hcl = root / "main.sky.hcl"  # poll the emulator's operations at once (Azure's default is 5 s)
    main_hcl.write_text(main_hcl.read_text().replace("endpoint        = var.endpoint",
                                                     "endpoint        = var.endpoint\n  poll_interval   = 0"))
    argv = ["-var", f"subscription_id={arm.subscription}", "-var", f"endpoint={arm.url}"]
    code, out, err = run(capsys, "apply", str(root), "--auto-approve", *argv)
    assert code == 0, out + err
    vms = {v["tags"]["skyplan-address"]: v for v in arm.vms()}
    assert vms["workload.api"]["properties"]["priority"] == "Spot"
    assert vms["workload.api"]["properties"]["hardwareProfile"]["vmSize"] == "Standard_D8s_v5"
    code, out, err = run(capsys, "plan", str(root), "--detailed-exitcode", *argv)
    assert code == 0, out + err
    code, out, err = run(capsys, "destroy", str(root), "--auto-approve", *argv)
    assert code == 0, out + err
    assert arm.resources == {} and arm.groups == {}


def test_without_credentials_apply_names_what_to_set_and_creates_nothing(tmp_path, monkeypatch, capsys):
    for var in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE",
                "IDENTITY_ENDPOINT", "MSI_ENDPOINT", "AZURE_USERNAME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no az / azd / pwsh to ask
    monkeypatch.setenv("HOME", str(tmp_path))
    root = tmp_path / "cfg"
    root.mkdir()
    (root / "main.sky.hcl").write_text(CONFIG.format(sub="00000000-0000-0000-0000-000000000000", url="",
                                                     regions='["eastus"]', extra="").replace('endpoint        = ""\n', ""))
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 1
    assert "no usable Azure credentials" in out + err and "AZURE_CLIENT_ID" in out + err and "az login" in out + err
    assert "Traceback" not in out + err
    assert records(root) == {}


def test_a_job_that_finished_is_succeeded_and_plans_as_no_op(tmp_path, arm, capsys):
    root = tmp_path / "cfg"
    write(root, arm)
    (root / "main.sky.hcl").write_text((root / "main.sky.hcl").read_text().split('workload "spot"')[0] +
                                       'workload "train" {\n kind = "job"\n run = "python train.py"\n'
                                       ' resources {\n instance_type = "Standard_D2s_v5"\n }\n}\n')
    code, out, err = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out + err
    [vm] = arm.vms()
    assert vm["properties"].get("evictionPolicy") is None  # on demand
    arm.finish("skyplan-eastus", vm["name"], 0)
    code, out, err = run(capsys, "status", str(root), "--json")
    assert code == 0, out + err
    assert json.loads(out)["resources"][0]["state"] == "succeeded"
    code, out, err = run(capsys, "plan", str(root), "--detailed-exitcode")
    assert code == 0, out + err


def test_a_saved_plan_applies_its_network_pieces(tmp_path, arm, capsys):
    root = tmp_path / "cfg"
    write(root, arm)
    planfile = tmp_path / "plan.json"
    code, out, err = run(capsys, "plan", str(root), "-out", str(planfile))
    assert code == 0, out + err
    code, out, err = run(capsys, "apply", str(planfile), "--auto-approve")
    assert code == 0, out + err
    assert len(arm.vms()) == 2 and len(arm.of_type("Microsoft.Network/virtualNetworks/subnets")) == 1
    assert sum(r.kind == "network" for r in records(root).values()) == 4


def test_plan_json_and_state_pull_push_carry_network_pieces(applied, arm, capsys):
    import jsonschema

    schemas = Path(__file__).resolve().parents[3] / "schemas"
    root = applied
    code, out, err = run(capsys, "plan", str(root), "-destroy", "--format", "json")
    assert code == 0, out + err
    doc = json.loads(out)
    jsonschema.validate(doc, json.loads((schemas / "plan.schema.json").read_text()))
    assert sum(c["type"] == "network" for c in doc["resource_changes"]) == 4
    code, out, err = run(capsys, "state", "pull", str(root))
    assert code == 0, out + err
    pulled = tmp = root / "pulled.json"
    tmp.write_text(out)
    jsonschema.validate(json.loads(out), json.loads((schemas / "state.schema.json").read_text()))
    code, out, err = run(capsys, "state", "push", str(pulled), str(root), "--force")
    assert code == 0, out + err
    assert sum(r.kind == "network" for r in records(root).values()) == 4


def test_markdown_plan_names_each_pieces_region(tmp_path, arm, capsys):
    root = tmp_path / "cfg"
    write(root, arm)
    code, out, err = run(capsys, "plan", str(root), "--format", "markdown")
    assert code == 0, out + err
    row = next(line for line in out.splitlines()
               if line.startswith('| `network.azure_virtual_network["skyplan-eastus/skyplan-vnet-eastus"]` |'))
    assert "`+` create (created if missing)" in row and "azure/eastus" in row, row


def test_a_tag_added_and_a_vm_stopped_in_the_portal_are_put_back(applied, arm, capsys):
    root = applied
    web = next(v for v in arm.vms() if v["tags"]["skyplan-address"] == "workload.web")
    with arm.lock:
        raw = arm.resources[web["id"].lower()]
        raw["tags"]["owner"] = "portal-user"
        raw["_power"] = "stopped"
    code, out, err = run(capsys, "drift", str(root), "--json")
    assert code == 2, out + err
    [item] = json.loads(out)["items"]
    assert item["address"] == "workload.web" and item["paths"] == ["state", "tags.owner"]
    code, out, err = run(capsys, "drift", str(root), "--repair", "--auto-approve")
    assert code == 0, out + err
    assert "owner" not in raw["tags"] and raw["_power"] == "running"
    code, out, err = run(capsys, "drift", str(root))
    assert code == 0, out + err


def test_without_a_subscription_apply_fails_before_the_prompt(tmp_path, arm, monkeypatch, capsys):
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    root = tmp_path / "cfg"
    write(root, arm)
    (root / "main.sky.hcl").write_text((root / "main.sky.hcl").read_text().replace(
        f'subscription_id = "{arm.subscription}"', ""))
    code, out, err = run(capsys, "apply", str(root))  # no --auto-approve: it must not get to ask
    assert code == 1
    assert "no Azure subscription is set" in err and "AZURE_SUBSCRIPTION_ID" in err
    assert "Enter a value" not in out and "Traceback" not in out + err
    assert arm.calls == []

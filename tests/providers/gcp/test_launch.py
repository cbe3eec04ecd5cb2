"""What one instances.insert asks for (pure): machine type, GPUs, image, spot, labels, script."""

from __future__ import annotations

import subprocess

from skyplan.providers.gcp.launch import (
    DEFAULT_CPU_IMAGE, DEFAULT_GPU_IMAGE, instance_body, instance_names, startup_script,
)
from tests.providers.gcp.helpers import PROJECT, request


def body(req, **settings):
    return instance_body(req, instance_names(req)[0], 0, project=PROJECT, settings=settings)


def test_n1_with_t4_attaches_the_gpus_and_boots_a_deep_learning_image():
    b = body(request(itype="n1-standard-8", accelerators="T4:1"))
    assert b["machineType"] == "zones/us-central1-a/machineTypes/n1-standard-8"
    assert b["guestAccelerators"] == [{
        "acceleratorType": f"projects/{PROJECT}/zones/us-central1-a/acceleratorTypes/nvidia-tesla-t4",
        "acceleratorCount": 1}]
    assert b["disks"][0]["initializeParams"]["sourceImage"] == DEFAULT_GPU_IMAGE
    assert b["scheduling"]["onHostMaintenance"] == "TERMINATE"


def test_accelerator_optimised_types_carry_their_gpus_in_the_machine_type():
    for itype in ("a2-highgpu-1g", "a3-highgpu-8g", "g2-standard-8", "a4-highgpu-8g"):
        b = body(request(itype=itype, accelerators="H100:8"))
        assert "guestAccelerators" not in b, itype
        assert b["scheduling"]["onHostMaintenance"] == "TERMINATE", itype
        assert b["disks"][0]["initializeParams"]["sourceImage"] == DEFAULT_GPU_IMAGE, itype


def test_cpu_nodes_boot_debian_and_may_live_migrate():
    b = body(request())
    assert b["disks"][0]["initializeParams"]["sourceImage"] == DEFAULT_CPU_IMAGE
    assert b["scheduling"] == {"provisioningModel": "STANDARD", "automaticRestart": True,
                               "onHostMaintenance": "MIGRATE"}


def test_spot_services_stop_and_spot_jobs_are_deleted_when_preempted():
    service = body(request(pricing="spot", kind="service"))["scheduling"]
    job = body(request(pricing="spot", kind="job"))["scheduling"]
    assert service["provisioningModel"] == job["provisioningModel"] == "SPOT"
    assert (service["instanceTerminationAction"], job["instanceTerminationAction"]) == ("STOP", "DELETE")
    assert service["automaticRestart"] is False


def test_images_network_service_account_and_labels_from_settings():
    b = body(request(disk_gb=200), image="projects/my/global/images/family/base", network="global/networks/ml",
             subnetwork="train-subnet", service_account="runner@p.iam.gserviceaccount.com", labels={"team": "ml"})
    assert b["disks"][0]["initializeParams"] == {"sourceImage": "projects/my/global/images/family/base",
                                                 "diskSizeGb": "200"}
    nic = b["networkInterfaces"][0]
    assert nic["network"] == "global/networks/ml"
    assert nic["subnetwork"] == "regions/us-central1/subnetworks/train-subnet"
    assert b["serviceAccounts"][0]["email"] == "runner@p.iam.gserviceaccount.com"
    assert b["labels"]["team"] == "ml" and b["labels"]["skyplan-address"] == "workload_2etrain"
    # A workload image that names a Compute Engine image boots it; a container image runs in docker.
    assert body(request(image="projects/x/global/images/y"))["disks"][0]["initializeParams"]["sourceImage"] == \
        "projects/x/global/images/y"
    script = body(request(image="pytorch/pytorch:2.4"))["metadata"]["items"][0]["value"]
    assert "docker run" in script and "pytorch/pytorch:2.4" in script


def test_node_names_are_valid_shared_per_group_and_stable_per_launch():
    req = request(address='module.serve.workload.API["eu"]', nodes=3, group=2)
    names = instance_names(req)
    assert len({n.rsplit("-", 1)[0] for n in names}) == 1 and [n[-1] for n in names] == ["0", "1", "2"]
    assert all(len(n) <= 63 and n[0].isalpha() and n == n.lower() for n in names)
    assert instance_names(req) == names and instance_names(request(nodes=3, token="other")) != names


def test_the_startup_script_runs_setup_then_run_and_prints_the_exit_code(tmp_path):
    for run, code in (("echo $EPOCHS $SKYPLAN_NODE_RANK > out.txt", 0), ("exit 3", 3)):
        req = request(run=run, setup="true", kind="service")
        script = startup_script(req, rank=1, root=str(tmp_path))
        (tmp_path / "dev").mkdir(exist_ok=True)
        subprocess.run(["bash", "-c", script], check=True, timeout=30)
        assert (tmp_path / "dev" / "ttyS0").read_text().strip() == f"skyplan: exit_code={code}"
    assert (tmp_path / "opt" / "skyplan" / "out.txt").read_text().strip() == "3 1"
    assert "shutdown -h now" in startup_script(request(kind="job"), 0)


def test_workers_find_the_head_by_its_instance_name(tmp_path):
    req = request(nodes=3)
    names = instance_names(req)
    body = instance_body(req, names[2], 2, project=PROJECT, settings={})
    script = body["metadata"]["items"][0]["value"]
    assert f"getent hosts {names[0]}" in script and "SKYPLAN_NODE_NAMES=" in script
    head = startup_script(req, 0, names=tuple(names), root=str(tmp_path))
    assert "getent" not in head and "hostname -I" in head

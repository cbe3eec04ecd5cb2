"""The user's tags reach the Azure VM beside skyplan's own."""

from __future__ import annotations

from tests.providers.azure.helpers import provider, request


def test_vm_carries_the_user_tags(arm):
    [inst] = provider(arm).create(request(user_tags={"team": "vision", "cost_center": "ml-42", "a/b?": "c",
                                                     "skyplan:address": "not-this"}))
    vm = arm.vms()[0]
    assert vm["tags"]["team"] == "vision" and vm["tags"]["cost_center"] == "ml-42"
    assert vm["tags"]["skyplan-address"] == "workload.train" and vm["tags"]["a_b_"] == "c"
    assert inst.tags["team"] == "vision"


def test_a_user_tag_changed_and_one_removed_in_place(arm):
    p = provider(arm)
    [inst] = p.create(request(user_tags={"team": "vision", "owner": "ana"}))
    inst = p.update(inst, {"tags": {"team": "nlp", "owner": None}})
    vm = arm.vms()[0]
    assert vm["tags"]["team"] == "nlp" and "owner" not in vm["tags"]
    assert vm["tags"]["skyplan-address"] == "workload.train"
    assert "owner" not in inst.tags and inst.tags["team"] == "nlp"

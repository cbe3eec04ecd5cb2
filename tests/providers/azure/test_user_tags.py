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

"""skyplan's tags survive GCP's label rules both ways."""

from __future__ import annotations

import pytest

from skyplan.providers.gcp import labels as lab

ADDRESSES = ["workload.train", 'module.serve.workload.api["eu-west"][3]', "fleet.pool_a", "Workload.UPPER",
             "workload.caf\u00e9", "module." + "deep." * 30 + "workload.x"]


@pytest.mark.parametrize("address", ADDRESSES)
def test_addresses_round_trip_through_valid_labels(address):
    labels = lab.to_labels({"skyplan:address": address, "skyplan:lineage": "0b9e-4c1d", "team": "ml"})
    assert all(lab.valid_key(k) and lab.valid_value(v) for k, v in labels.items())
    assert lab.to_tags(labels) == {"skyplan:address": address, "skyplan:lineage": "0b9e-4c1d", "team": "ml"}


def test_encoding_is_readable_for_common_addresses():
    assert lab.encode("workload.train") == "workload_2etrain"
    assert lab.decode("workload_2etrain") == "workload.train"
    assert lab.to_labels({"skyplan:group": "0"}) == {"skyplan-group": "0"}


def test_a_long_value_continues_in_numbered_labels_and_all_parts_are_found():
    address = "module." + "x" * 150
    labels = lab.to_labels({"skyplan:address": address})
    assert sorted(labels) == ["skyplan-address", "skyplan-address-2", "skyplan-address-3"]
    assert sorted(lab.label_keys("skyplan:address", {**labels, "skyplan-group": "1"})) == sorted(labels)


def test_user_labels_must_already_be_valid():
    with pytest.raises(ValueError, match="not a valid GCP label"):
        lab.to_labels({"Owner": "x"})

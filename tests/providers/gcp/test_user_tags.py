"""The user's tags reach Compute Engine as labels, made valid by GCP's label rules."""

from __future__ import annotations

from skyplan.providers.gcp.labels import user_labels
from tests.providers.gcp.helpers import PROJECT, provider, request


def test_instances_carry_the_user_tags_as_normalised_labels(gce):
    [inst] = provider(gce).create(request(user_tags={"Team": "Vision", "cost.center": "ML 42", "2fa": "On"}))
    [raw] = gce.all_instances(PROJECT)
    labels = raw["labels"]
    assert labels["team"] == "vision" and labels["cost_center"] == "ml_42" and labels["t2fa"] == "on"
    assert labels["skyplan-lineage"] == "lin-1"
    assert inst.tags["team"] == "vision"


def test_user_labels_follow_the_rules():
    out = user_labels({"K" * 80: "V" * 80, "skyplan:address": "x", "a/b": "c:d"})
    assert out == {"k" * 63: "v" * 63, "a_b": "c_d"}


def test_a_user_tag_changed_and_one_removed_in_place_through_set_labels(gce):
    gp = provider(gce)
    [inst] = gp.create(request(user_tags={"Team": "Vision", "owner": "ana"}))
    inst = gp.update(inst, {"tags": {"Team": "NLP", "owner": None}})
    [raw] = gce.all_instances(PROJECT)
    labels = raw["labels"]
    assert labels["team"] == "nlp" and "owner" not in labels
    assert labels["skyplan-lineage"] == "lin-1"  # skyplan's own stay
    assert "owner" not in inst.tags and inst.tags["team"] == "nlp"

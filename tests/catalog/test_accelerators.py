from __future__ import annotations

import pytest

from skyplan.catalog.accelerators import CANONICAL, canonical, close_matches


@pytest.mark.parametrize("name,canon", [
    ("H100", "H100"), ("h100", "H100"), ("nvidia-h100-80gb", "H100"), ("NVIDIA_H100", "H100"),
    ("a100-80gb", "A100-80GB"), ("nvidia-tesla-a100", "A100"), ("A100-SXM4-80GB", "A100-80GB"),
    ("nvidia-h100-mega-80gb", "H100-MEGA"), ("nvidia-l4", "L4"), ("Tesla T4", "T4"), ("nvidia-l40s", "L40S"),
    ("tpu-v5-lite-podslice", "TPU-v5e"), ("nvidia-h200-141gb", "H200"), ("a10g", "A10G"),
    ("nvidia-b200", "B200"), ("B200", "B200"), ("nvidia-b200-180gb", "B200"), ("nvidia-gb200", "GB200"),
    ("GB200", "GB200"), ("amd-mi300x-192gb", "MI300X"), ("mi300x", "MI300X"),
])
def test_aliases(name, canon):
    assert canonical(name) == canon


def test_every_canonical_name_is_its_own_canonical():
    for name in CANONICAL:
        assert canonical(name) == name


def test_unknown_names_and_suggestions():
    assert canonical("H1000") is None and canonical("") is None
    assert close_matches("H10")[0] == "H100"
    assert "A100-80GB" in close_matches("a100-80")
    assert close_matches("zzzzzz") == []


@pytest.mark.parametrize("name", ["Inferentia", "Trainium2", "M60", "T4g", "P4", "P40", "K520",
                                  "Radeon Pro V520", "Gaudi HL-205", "MI25", "tpu-v2-8", "tpu-v5litepod-4"])
def test_the_other_accelerators_skypilot_catalogs_name_are_known(name):
    assert canonical(name) is not None


def test_tpu_slices_name_their_family():
    assert [canonical(n) for n in ("tpu-v3-32", "tpu-v5litepod-8", "tpu-v5p-8", "tpu-v6e-1")] == \
        ["TPU-v3", "TPU-v5e", "TPU-v5p", "TPU-v6e"]


def test_current_top_gpus_have_their_memory():
    assert (CANONICAL["B200"], CANONICAL["GB200"], CANONICAL["H200"], CANONICAL["MI300X"]) == (180, 186, 141, 192)

from __future__ import annotations

import os

import pytest

from skyplan.catalog import NodeInfo, local_offers, offers_from_nodes
from skyplan.catalog.kubernetes import accelerator_of, quantity
from skyplan.catalog.local import parse_nvidia_smi


def test_local_offer_describes_this_machine():
    [offer] = local_offers()
    assert (offer.provider, offer.region, offer.zone, offer.instance_type) == ("local", "local", None, "local")
    assert offer.vcpus == os.cpu_count()
    assert offer.memory_gib > 0.1
    assert (offer.on_demand, offer.reserved, offer.spot) == (0.0, 0.0, None)


def test_nvidia_smi_output_is_parsed():
    out = "NVIDIA H100 80GB HBM3, 81559 MiB\nNVIDIA H100 80GB HBM3, 81559 MiB\n"
    assert parse_nvidia_smi(out) == ("H100", 2, 79.6)
    assert parse_nvidia_smi("NVIDIA A100-SXM4-80GB, 81920 MiB\n")[0] == "A100-80GB"
    assert parse_nvidia_smi("Tesla T4, 15360 MiB\n") == ("T4", 1, 15.0)
    assert parse_nvidia_smi("") == (None, 0, None)


@pytest.mark.parametrize("text,value", [("3500m", 3.5), ("16Gi", 16 * 2**30), ("8", 8.0), ("1k", 1000.0),
                                        ("1.5e3", 1500.0)])
def test_quantities(text, value):
    assert quantity(text) == value


def test_nodes_become_offers():
    nodes = [
        NodeInfo("gpu-1", {"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB",
                           "topology.kubernetes.io/zone": "z1"},
                 {"cpu": "95500m", "memory": "1000Gi", "nvidia.com/gpu": "8"}),
        NodeInfo("gke-l4", {"cloud.google.com/gke-accelerator": "nvidia-l4"},
                 {"cpu": "8", "memory": "32Gi", "nvidia.com/gpu": "1"}),
        NodeInfo("cpu-1", {"kubernetes.io/arch": "arm64"}, {"cpu": "4", "memory": "16Gi"}),
        NodeInfo("bad", {}, {"cpu": "lots"}),
        NodeInfo("cordoned-empty", {}, {}),
    ]
    offers = offers_from_nodes(nodes, price=1.5)
    assert [o.instance_type for o in offers] == ["gpu-1", "gke-l4", "cpu-1"]
    gpu = offers[0]
    assert (gpu.accelerator, gpu.accelerator_count, gpu.vcpus, gpu.memory_gib, gpu.zone) == (
        "A100-80GB", 8, 95.5, 1000.0, "z1")
    assert offers[1].accelerator == "L4"
    assert offers[2].arch == "arm64" and offers[2].accelerator is None
    assert all(o.on_demand == 1.5 and o.provider == "kubernetes" for o in offers)


def test_skyplan_label_wins():
    assert accelerator_of({"skyplan.dev/accelerator": "H100", "nvidia.com/gpu.product": "Tesla-T4"}) == "H100"
    assert accelerator_of({"nvidia.com/gpu.product": "mystery-gpu"}) is None


@pytest.mark.parametrize("label, expected", [
    ("NVIDIA-H100-80GB-HBM3", "H100"), ("NVIDIA-A100-SXM4-80GB", "A100-80GB"), ("NVIDIA-A100-PCIE-40GB", "A100"),
    ("Tesla-V100-SXM2-16GB", "V100"), ("Tesla-V100-SXM2-32GB", "V100-32GB"), ("Tesla-T4", "T4"),
])
def test_gpu_product_labels_name_the_accelerator_and_its_memory(label, expected):
    assert accelerator_of({"nvidia.com/gpu.product": label}) == expected


def test_a_node_labelled_as_spot_capacity_is_a_spot_offer_only():
    from skyplan.catalog.kubernetes import NodeInfo, node_prices, offers_from_nodes

    alloc = {"cpu": "8", "memory": "32Gi"}
    nodes = [NodeInfo("od", {}, alloc), NodeInfo("k", {"karpenter.sh/capacity-type": "spot"}, alloc),
             NodeInfo("eks", {"eks.amazonaws.com/capacityType": "SPOT"}, alloc),
             NodeInfo("ondemand", {"karpenter.sh/capacity-type": "on-demand"}, alloc)]
    prices = node_prices({"price": 0.4, "spot_price": 0.1})
    got = {o.instance_type: (o.on_demand, o.spot) for o in offers_from_nodes(nodes, **prices)}
    assert got == {"od": (0.4, None), "k": (None, 0.1), "eks": (None, 0.1), "ondemand": (0.4, None)}
    # without spot_price a spot node costs what any node does
    assert {o.spot for o in offers_from_nodes(nodes[1:2], **node_prices({"price": 0.4}))} == {0.4}

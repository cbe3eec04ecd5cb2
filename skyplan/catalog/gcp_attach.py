"""GCP catalogs that price GPUs on their own rows: put host and GPUs back together.

A SkyPilot-style GCP ``vms.csv`` lists GPUs as rows without an instance type
(accelerator, count, price per zone) beside the host VMs, because GCP bills the
two separately. An Offer is a whole node, so on import such GPU rows are added
to their hosts:

- accelerator-optimised machine types (``a2-``, ``a3-``, ``a4-``, ``a4x-``, ``g2-``) have
  fixed GPUs, named by the machine type (``a2-ultragpu-2g`` is ``A100-80GB:2``);
  the GPU row of the same zone, accelerator and count is added to the host price;
- N1 hosts (``n1-standard-N``, ``n1-highmem-N``, ``n1-highcpu-N``) take attachable
  GPUs (T4, V100, P100, P4, K80): each GPU row of the zone is combined with every N1
  host that GCP allows for that GPU count (``N1_LIMITS``: at most so many vCPUs and
  so much memory per count), as an extra offer beside the plain host.

Files without GPU-only rows are taken as whole-node prices and left alone.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Iterable

from skyplan.catalog.offer import Offer

ATTACHABLE = ("T4", "V100", "P100", "P4", "K80")
# GCP's documented limits for GPUs attached to N1 VMs: accelerator -> GPU count ->
# (most vCPUs, most memory GB) the VM may have. P100 x 4 allows 96 vCPUs / 624 GB in
# most zones but 64 / 208 in some; the smaller limit is kept so every offer is real.
N1_LIMITS: dict[str, dict[int, tuple[int, float]]] = {
    "T4": {1: (48, 312), 2: (48, 312), 4: (96, 624)},
    "V100": {1: (12, 78), 2: (24, 156), 4: (48, 312), 8: (96, 624)},
    "P100": {1: (16, 104), 2: (32, 208), 4: (64, 208)},
    "P4": {1: (24, 156), 2: (48, 312), 4: (96, 624)},
    "K80": {1: (8, 52), 2: (16, 104), 4: (32, 208), 8: (64, 416)},
}
_N1 = re.compile(r"^n1-(standard|highmem|highcpu)-\d+$")
_NAMED = re.compile(r"^(a2-highgpu|a2-megagpu|a2-ultragpu|a3-highgpu|a3-edgegpu|a3-megagpu|a3-ultragpu"
                    r"|a4-highgpu|a4x-highgpu)-(\d+)g$")
_FAMILY_GPU = {"a2-highgpu": "A100", "a2-megagpu": "A100", "a2-ultragpu": "A100-80GB", "a3-highgpu": "H100",
               "a3-edgegpu": "H100", "a3-megagpu": "H100-MEGA", "a3-ultragpu": "H200", "a4-highgpu": "B200",
               "a4x-highgpu": "GB200"}
_G2_COUNT = {4: 1, 8: 1, 12: 1, 16: 1, 32: 1, 24: 2, 48: 4, 96: 8}


def fixed_gpus(instance_type: str) -> tuple[str, int] | None:
    """The GPUs an accelerator-optimised machine type always has, e.g. ("A100-80GB", 2)."""
    m = _NAMED.match(instance_type)
    if m:
        return _FAMILY_GPU[m.group(1)], int(m.group(2))
    if instance_type.startswith("g2-standard-"):
        try:
            n = int(instance_type.rsplit("-", 1)[1])
        except ValueError:
            return None
        return ("L4", _G2_COUNT[n]) if n in _G2_COUNT else None
    return None


def is_n1_host(instance_type: str) -> bool:
    """True for the N1 shapes GPUs attach to (n1-standard/highmem/highcpu-N)."""
    return bool(_N1.match(instance_type))


def n1_gpu_counts(accelerator: str, vcpus: float, memory_gib: float) -> list[int]:
    """The counts of ``accelerator`` GCP lets an N1 VM of this size carry (none when
    the GPU does not attach to N1 or the VM is too big for every count)."""
    limits = N1_LIMITS.get(accelerator, {})
    return [n for n, (max_vcpus, max_mem) in sorted(limits.items())
            if vcpus <= max_vcpus and memory_gib <= max_mem + 1e-9]


def _add(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a + b, 6)


def combine(offers: list[Offer], gpu_rows: Iterable[Offer]) -> tuple[list[Offer], dict[str, int]]:
    """Whole-node GCP offers from hosts plus GPU-only rows; returns (offers, notes: what -> count)."""
    gpus: dict[tuple, Offer] = {}
    for g in gpu_rows:
        gpus[(g.region, g.zone or "", g.accelerator, int(g.accelerator_count))] = g
    if not gpus:
        return offers, {}
    notes: dict[str, int] = {}

    def note(what: str) -> None:
        notes[what] = notes.get(what, 0) + 1

    used: set[tuple] = set()
    out: list[Offer] = []
    for o in offers:
        if o.provider != "gcp":
            out.append(o)
            continue
        fixed = fixed_gpus(o.instance_type)
        if fixed is not None:
            key = (o.region, o.zone or "", fixed[0], fixed[1])
            g = gpus.get(key)
            if g is None:
                note("GCP accelerator-optimised rows without a GPU price row (kept as priced)")
                out.append(o)
                continue
            used.add(key)
            out.append(replace(o, accelerator=fixed[0], accelerator_count=fixed[1],
                               accelerator_memory_gib=g.accelerator_memory_gib,
                               on_demand=_add(o.on_demand, g.on_demand), spot=_add(o.spot, g.spot),
                               reserved=_add(o.reserved, g.reserved)))
            note("GCP hosts priced with their fixed GPUs")
            continue
        out.append(o)
        if is_n1_host(o.instance_type) and not o.accelerator:
            for accel in ATTACHABLE:
                for count in n1_gpu_counts(accel, o.vcpus, o.memory_gib):
                    key = (o.region, o.zone or "", accel, count)
                    g = gpus.get(key)
                    if g is None:
                        continue
                    used.add(key)
                    out.append(replace(o, accelerator=accel, accelerator_count=count,
                                       accelerator_memory_gib=g.accelerator_memory_gib,
                                       on_demand=_add(o.on_demand, g.on_demand), spot=_add(o.spot, g.spot),
                                       reserved=_add(o.reserved, g.reserved)))
                    note("N1 host + attachable GPU offers added")
    unused = len(set(gpus) - used)
    if unused:
        notes["GPU-only rows with no matching host in their zone (not kept)"] = unused
    return out, notes

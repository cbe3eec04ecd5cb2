"""Canonical accelerator names across clouds, and their aliases.

``canonical("nvidia-h100-80gb") == "H100"``; ``canonical("a100-80gb") == "A100-80GB"``.
Unknown names return None; ``close_matches`` suggests spellings.
"""

from __future__ import annotations

import difflib
import re

# canonical name -> memory per accelerator (GiB)
CANONICAL: dict[str, float] = {
    "B200": 180, "GB200": 186, "H200": 141, "H100": 80, "H100-MEGA": 80, "A100": 40, "A100-80GB": 80, "L40S": 48, "L4": 24,
    "A10G": 24, "A10": 24, "T4": 16, "V100": 16, "V100-32GB": 32, "P100": 16, "K80": 12,
    "TPU-v5e": 16, "TPU-v5p": 95, "TPU-v4": 32, "Trainium": 32, "Inferentia2": 32, "MI300X": 192,
    # older and non-NVIDIA accelerators that SkyPilot's vms.csv files name, so those files import whole
    "Trainium2": 96, "Inferentia": 8, "M60": 8, "T4g": 16, "P4": 8, "P40": 24, "K520": 4,
    "Radeon-Pro-V520": 8, "Gaudi-HL-205": 32, "MI25": 16, "TPU-v2": 16, "TPU-v3": 32, "TPU-v6e": 32,
}

_ALIASES: dict[str, str] = {
    "nvidia-b200-180gb": "B200", "b200-180gb": "B200", "b200-sxm": "B200",
    "nvidia-gb200-186gb": "GB200", "gb200-186gb": "GB200", "gb200-192gb": "GB200", "gb200-nvl72": "GB200",
    "amd-mi300x": "MI300X", "amd-mi300x-192gb": "MI300X", "mi300x-192gb": "MI300X", "instinct-mi300x": "MI300X",
    "nvidia-h200": "H200", "nvidia-h200-141gb": "H200", "h200-141gb": "H200",
    "nvidia-h100-80gb": "H100", "nvidia-h100": "H100", "h100-80gb": "H100", "h100-sxm": "H100",
    "nvidia-h100-mega-80gb": "H100-MEGA", "h100-mega-80gb": "H100-MEGA",
    "nvidia-tesla-a100": "A100", "nvidia-a100": "A100", "a100-40gb": "A100", "a100-sxm4-40gb": "A100",
    "nvidia-a100-80gb": "A100-80GB", "a100-sxm4-80gb": "A100-80GB", "nvidia-a100-sxm4-80gb": "A100-80GB",
    "nvidia-l40s": "L40S", "nvidia-l4": "L4", "nvidia-a10g": "A10G", "nvidia-a10": "A10",
    "nvidia-tesla-t4": "T4", "tesla-t4": "T4", "nvidia-t4": "T4",
    "nvidia-tesla-v100": "V100", "tesla-v100": "V100", "nvidia-tesla-p100": "P100", "nvidia-tesla-k80": "K80",
    "tpu-v5-lite-podslice": "TPU-v5e", "tpu-v5-lite-device": "TPU-v5e", "tpu-v5litepod": "TPU-v5e",
    "tpu-v5p-slice": "TPU-v5p", "tpu-v4-podslice": "TPU-v4",
}
_BY_LOWER = {name.lower(): name for name in CANONICAL}
# TPU slices as SkyPilot's GCP catalog names them (tpu-v3-8, tpu-v5litepod-4, tpu-v5p-8): the TPU family
_TPU_SLICE = re.compile(r"^tpu-(v2|v3|v4|v5litepod|v5e|v5p|v6e)-\d+$")
_TPU_FAMILY = {"v2": "TPU-v2", "v3": "TPU-v3", "v4": "TPU-v4", "v5litepod": "TPU-v5e", "v5e": "TPU-v5e",
               "v5p": "TPU-v5p", "v6e": "TPU-v6e"}


def _key(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(" ", "-")


def canonical(name: str) -> str | None:
    """The canonical spelling of an accelerator name, or None if unknown."""
    k = _key(name)
    if k in _BY_LOWER:
        return _BY_LOWER[k]
    if k in _ALIASES:
        return _ALIASES[k]
    if k.startswith("nvidia-"):
        return canonical(k[len("nvidia-"):])
    m = _TPU_SLICE.match(k)
    if m:
        return _TPU_FAMILY[m.group(1)]
    return None


def close_matches(name: str, n: int = 3) -> list[str]:
    pool = list(CANONICAL) + list(_ALIASES)
    hits = difflib.get_close_matches(_key(name), [p.lower() for p in pool], n=n, cutoff=0.5)
    out: list[str] = []
    for h in hits:
        c = canonical(h)
        if c and c not in out:
            out.append(c)
    return out

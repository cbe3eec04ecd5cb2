"""The local machine as an Offer: its CPUs, memory and any NVIDIA GPUs, at price 0."""

from __future__ import annotations

import os
import shutil
import subprocess

from skyplan.catalog.accelerators import canonical
from skyplan.catalog.offer import Offer

NVIDIA_SMI_TIMEOUT = 5.0


def memory_gib() -> float:
    """Total memory in GiB from /proc/meminfo, else sysconf; 0 when neither says."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / (1024 * 1024), 2)
    except (OSError, ValueError, IndexError):
        pass
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 2)
    except (ValueError, OSError, AttributeError):
        return 0.0


def gpu_name(raw: str) -> str | None:
    """``NVIDIA H100 80GB HBM3`` -> ``H100``; ``Tesla T4`` -> ``T4``; unknown -> None."""
    words = raw.replace("NVIDIA", " ").replace("Tesla", " ").replace("GeForce", " ").split()
    if not words:
        return None
    model = words[0]
    mem = next((w for w in words[1:] if w.upper().endswith("GB")), "")
    if model.upper() == "A100" and mem.upper().startswith("80"):
        return "A100-80GB"
    if model.upper() == "V100" and mem.upper().startswith("32"):
        return "V100-32GB"
    if model.upper().startswith("H100"):
        return "H100"
    return canonical(model)


def parse_nvidia_smi(text: str) -> tuple[str | None, int, float | None]:
    """(canonical name or the raw name, count, memory GiB per GPU) from
    ``nvidia-smi --query-gpu=name,memory.total --format=csv,noheader`` output."""
    names: list[str] = []
    mems: list[float] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        name, _, mem = line.partition(",")
        names.append(name.strip())
        digits = "".join(ch for ch in mem if ch.isdigit() or ch == ".")
        if digits:
            mems.append(float(digits) / 1024)  # MiB
    if not names:
        return None, 0, None
    accel = gpu_name(names[0]) or names[0].replace(" ", "-")
    return accel, len(names), (round(min(mems), 1) if mems else None)


def detect_gpus() -> tuple[str | None, int, float | None]:
    exe = shutil.which("nvidia-smi")
    if not exe:
        return None, 0, None
    try:
        out = subprocess.run([exe, "--query-gpu=name,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=NVIDIA_SMI_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None, 0, None
    if out.returncode != 0:
        return None, 0, None
    return parse_nvidia_smi(out.stdout)


def local_offers(price=None) -> list[Offer]:
    """One offer: this machine, provider/region ``local``, price 0; a provider block's
    ``price = { on_demand = 3, spot = 1 }`` prices it (and offers it as spot), so a
    deadline job's spot/on-demand choices can be run and seen on one machine."""
    import platform

    prices = price if isinstance(price, dict) else ({"on_demand": price} if price is not None else {})
    on_demand = float(prices.get("on_demand", 0.0) or 0.0)
    spot = float(prices["spot"]) if prices.get("spot") is not None else None

    accel, count, mem = detect_gpus()
    machine = platform.machine().lower()
    return [Offer(
        provider="local", region="local", zone=None, instance_type="local",
        accelerator=accel, accelerator_count=count, accelerator_memory_gib=mem if accel else None,
        vcpus=float(os.cpu_count() or 1), memory_gib=memory_gib(),
        arch="arm64" if machine in ("arm64", "aarch64") else "x86_64",
        on_demand=on_demand, spot=spot, reserved=on_demand, interruption_band=None,
    )]

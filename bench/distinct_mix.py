"""A team configuration of n distinct workloads, written as a real config folder.

Drawn from a fixed seed: GPU jobs of 1-8 accelerators across every accelerator
of the catalog (sometimes an any-of pair), 1-4 nodes; CPU jobs with CPU and
memory floors; services with replicas, some spread; spot, on-demand or both;
each workload on its own random subset of providers and of the 26 regions
configured (some as globs); 10% of workloads on the team's own accounts, which
have shared quotas. Every workload can run somewhere (it is drawn around one
offer that fits it).
"""

from __future__ import annotations

import random
from pathlib import Path

REGIONS = {
    "aws": ("us-east-1", "us-east-2", "us-west-2", "us-west-1", "eu-west-1", "eu-central-1", "eu-north-1",
            "ap-northeast-1", "ap-south-1", "ca-central-1"),
    "gcp": ("us-central1", "us-east1", "us-east4", "us-west1", "europe-west4", "europe-west1", "asia-east1",
            "asia-northeast1", "asia-south1"),
    "azure": ("eastus", "eastus2", "westus2", "westeurope", "northeurope", "japaneast", "uksouth"),
}
TEAM = {"aws.team": "aws", "gcp.team": "gcp"}  # the accounts with shared quotas
GLOBS = {"us-": "us-*", "eu-": "eu-*", "europe-": "europe-*", "ap-": "ap-*", "asia-": "asia-*"}


def _offers_by_shape(catalog):
    """(accelerator, count) -> offers in the configured regions; None -> CPU offers (x86)."""
    wanted = {(k, r) for k, rs in REGIONS.items() for r in rs}
    shapes: dict = {}
    for o in catalog.offers:
        if (o.provider, o.region) not in wanted:
            continue
        if o.accelerator:
            shapes.setdefault((o.accelerator, int(o.accelerator_count)), []).append(o)
        elif o.arch == "x86_64":
            shapes.setdefault(None, []).append(o)
    return shapes


def _q(v: float) -> str:
    return f"{v:g}"


def workloads(n: int, seed: int, catalog) -> list[str]:
    """HCL blocks of n distinct workloads."""
    rng = random.Random(seed)
    shapes = _offers_by_shape(catalog)
    gpu_shapes = sorted(k for k in shapes if k is not None)
    cpu_offers = shapes[None]
    blocks = []
    for i in range(n):
        roll = rng.random()
        lines = []
        kind, replicas, spread = "job", 1, None
        if roll < 0.45:  # GPU job
            acc, count = rng.choice(gpu_shapes)
            anchor = rng.choice(shapes[(acc, count)])
            accs = [f"{acc}:{count}"]
            if rng.random() < 0.2:
                other = rng.choice(gpu_shapes)
                if other != (acc, count):
                    accs.append(f"{other[0]}:{other[1]}")
            lines.append("    accelerators = [" + ", ".join(f'"{a}"' for a in accs) + "]")
            if rng.random() < 0.3:
                lines.append(f'    cpus = "{_q(min(anchor.vcpus, rng.choice([4, 8, 16, 32])))}+"')
            if anchor.arch != "x86_64":  # an arm GPU host: x86_64 is the default
                lines.append('    arch = "any"')
            nodes = rng.choice([1, 1, 1, 2, 2, 4])
            hours = rng.choice([1, 2, 4, 8, 12, 24, 48, 72])
        else:  # CPU job or service
            anchor = rng.choice(cpu_offers)
            cpus = max(1, int(anchor.vcpus // rng.choice([1, 1, 2, 4])))
            mem = max(1, int(anchor.memory_gib // rng.choice([1, 2, 4])))
            exact = rng.random() < 0.1
            lines.append(f'    cpus = {_q(anchor.vcpus)}' if exact else f'    cpus = "{cpus}+"')
            lines.append(f'    memory = "{mem}+"')
            nodes = rng.choice([1, 1, 1, 2])
            hours = rng.choice([1, 2, 4, 8, 24])
            if roll > 0.9:
                kind, nodes, hours = "service", 1, None
                replicas = rng.choice([1, 2, 3])
                spread = rng.choice([None, "region", "zone"]) if replicas > 1 else None
        pricing = rng.choice([("on_demand",), ("spot",), ("spot", "on_demand")])
        if pricing == ("spot",) and (anchor.spot is None or kind == "service"):
            pricing = ("on_demand",)
        if anchor.on_demand is None:
            pricing = ("spot",)
        team = rng.random() < 0.10 and anchor.provider in TEAM.values()
        if team:
            providers = [k for k, v in TEAM.items() if v == anchor.provider]
        else:
            providers = sorted({anchor.provider} | set(rng.sample(sorted(REGIONS), rng.randint(0, 2))))
        regions = {anchor.region}
        pool = [r for p in providers for r in REGIONS[TEAM.get(p, p)]]
        regions |= set(rng.sample(pool, min(len(pool), rng.randint(0, 8))))
        if rng.random() < 0.25:  # some as globs
            regions = {next((g for p, g in GLOBS.items() if r.startswith(p)), r) for r in regions}
        body = [f"workload \"w{i}\" {{", f'  kind = "{kind}"']
        if kind == "job":
            body.append(f"  duration_hours = {hours}")
        if nodes > 1:
            body.append(f"  num_nodes = {nodes}")
        if replicas > 1:
            body.append(f"  replicas = {replicas}")
        body.append("  pricing = [" + ", ".join(f'"{p}"' for p in pricing) + "]")
        body += ["  resources {"] + lines + ["  }"]
        body += ["  placement {", "    providers = [" + ", ".join(f'"{p}"' for p in providers) + "]",
                 "    regions = [" + ", ".join(f'"{r}"' for r in sorted(regions)) + "]"]
        if spread:
            body.append(f'    spread = "{spread}"')
        body += ["  }", '  run = "python main.py"', "}"]
        blocks.append("\n".join(body))
    return blocks


def providers_hcl(n: int) -> str:
    scale = max(1, n // 100)
    out = []
    for kind, regions in REGIONS.items():
        out.append(f'provider "{kind}" {{\n  regions = [' + ", ".join(f'"{r}"' for r in regions) + "]\n}")
    quotas = {
        "aws.team": [("H100", 48 * scale, None), ("A100", 48 * scale, None), ("vcpus", 3000 * scale, None),
                     ("L4", 24 * scale, "us-*")],
        "gcp.team": [("H100", 48 * scale, None), ("vcpus", 3000 * scale, None), ("T4", 24 * scale, None)],
    }
    for key, kind in TEAM.items():
        alias = key.split(".")[1]
        qs = "".join(
            "\n  quota {\n" + (f'    accelerator = "{r}"\n    max = {m}\n' if r != "vcpus" else f"    vcpus = {m}\n")
            + (f'    region = "{reg}"\n' if reg else "") + "  }" for r, m, reg in quotas[key])
        out.append(f'provider "{kind}" {{\n  alias = "{alias}"\n  regions = ['
                   + ", ".join(f'"{r}"' for r in REGIONS[kind]) + "]" + qs + "\n}")
    return "\n\n".join(out)


def write_config(folder: Path, n: int, seed: int, catalog) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "main.sky.hcl").write_text(providers_hcl(n) + "\n\n" + "\n\n".join(workloads(n, seed, catalog)) + "\n")
    return folder


if __name__ == "__main__":
    import argparse

    from skyplan.catalog import load_catalog

    cli = argparse.ArgumentParser(description="Write a config folder of n distinct workloads (the bench's mix).")
    cli.add_argument("folder", type=Path)
    cli.add_argument("n", type=int)
    cli.add_argument("--seed", type=int, default=7)
    args = cli.parse_args()
    print(write_config(args.folder, args.n, args.seed, load_catalog()) / "main.sky.hcl")

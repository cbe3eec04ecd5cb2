"""GCP facts for the built-in catalog snapshot.

Source: the public Compute Engine VM and GPU price lists
(cloud.google.com/compute/vm-instance-pricing, /compute/gpus-pricing),
us-central1, compiled 2026-11-28. GCP bills a VM's vCPUs and memory by series
(``core``/``ram`` $/h) and its GPUs separately; every offer here carries the sum
(host + GPUs), so a2/a3/g2 and n1+T4/V100 rows are whole-node prices. Other
regions are us-central1 times the region's multiplier. GCP prices spot per zone
(spot fraction varied per zone by the builder); ``reserved`` is the 1-year
committed-use price as a fraction of on-demand; ``band`` is an estimate (GCP
publishes no interruption rates).

GPUs attached to N1 VMs (T4, V100) are offered on every N1 shape (standard 3.75,
highmem 6.5, highcpu 0.9 GB per vCPU; 4 to 96 vCPUs) that GCP allows for the GPU
count: ``skyplan.catalog.gcp_attach.N1_LIMITS`` holds GCP's documented vCPU and
memory limits per count (8 x V100: up to 96 vCPUs and 624 GB, so n1-highmem-96).

Current top GPU machine types:
- a3-ultragpu-8g: 8 x H200 (141 GB), 224 vCPUs, 2952 GB; H200 $8.7288 per GPU-hour
  (GPU price list, observed 2026-11-28) plus the A3 vCPU and memory rates.
- a4-highgpu-8g: 8 x B200 (180 GB), 224 vCPUs, 3968 GB. ESTIMATE for the B200 GPU
  rate: no public per-GPU list price was at hand on 2026-11-28, so $15.7118 per
  GPU-hour is the H200 rate times the B200/H200 ratio of AWS's list prices
  (p6-b200.48xlarge / p5en.48xlarge = 113.9328 / 63.296 = 1.80); the host is priced
  at the A3 vCPU and memory rates. Regions: those A4 is announced in.
"""

from skyplan.catalog.gcp_attach import N1_LIMITS

OBSERVED = "2026-11-28"

REGIONS = {
    "us-central1": (1.00, "abcf"), "us-east1": (1.00, "bcd"), "us-east4": (1.126, "abc"),
    "us-west1": (1.00, "abc"), "us-west4": (1.126, "abc"),
    "europe-west4": (1.10, "abc"), "europe-west1": (1.10, "bcd"), "europe-west2": (1.29, "abc"),
    "europe-west3": (1.29, "abc"),
    "asia-east1": (1.16, "abc"), "asia-northeast1": (1.29, "abc"), "asia-southeast1": (1.23, "abc"),
    "asia-south1": (1.20, "abc"),
}
ALL = tuple(REGIONS)

# series -> vCPU $/h, memory GiB $/h (us-central1 on-demand)
SERIES = {
    "e2": (0.021811, 0.002923), "n2": (0.031611, 0.004237), "n2d": (0.027502, 0.003686),
    "n1": (0.031611, 0.004237), "c2": (0.03398, 0.00455), "c3": (0.03465, 0.003938),
    "g2": (0.024988, 0.002928), "a2": (0.031611, 0.004237), "a3": (0.031611, 0.004237),
    "a4": (0.031611, 0.004237),  # estimate: A3's rates
}

# per-GPU $/h (us-central1 on-demand)
GPU_PRICE = {"T4": 0.35, "V100": 2.48, "L4": 0.56, "A100": 2.934, "A100-80GB": 3.93, "H100": 9.2385,
             "H100-MEGA": 9.9669, "H200": 8.7288,
             "B200": 15.7118}  # B200: estimate (see the docstring)


def _shapes(series, kind, gib_per_vcpu, vcpus):
    return [(f"{series}-{kind}-{v}", v, v * gib_per_vcpu, None, 0) for v in vcpus]


N1_SHAPES = [(f"n1-{kind}-{v}", v, round(v * gb, 1)) for kind, gb in (("standard", 3.75), ("highmem", 6.5),
                                                                       ("highcpu", 0.9))
             for v in (4, 8, 16, 32, 64, 96)]


def _n1_with(accel):
    """Every N1 shape x GPU count GCP allows for ``accel`` (gcp_attach.N1_LIMITS)."""
    return [(name, v, mem, accel, count) for name, v, mem in N1_SHAPES
            for count, (max_vcpus, max_mem) in sorted(N1_LIMITS[accel].items())
            if v <= max_vcpus and mem <= max_mem]


# machine family: shapes [(machine type, vCPUs, GiB, accelerator, count)], regions, spot, reserved, band
FAMILIES = {
    "e2": dict(shapes=_shapes("e2", "standard", 4, (2, 4, 8, 16, 32)) + _shapes("e2", "highmem", 8, (2, 4, 8, 16)),
               spot=0.31, band="5-10%"),
    "n2": dict(shapes=_shapes("n2", "standard", 4, (2, 4, 8, 16, 32, 48, 64, 80, 96, 128)),
               spot=0.29, band="5-10%"),
    "n2-highmem": dict(series="n2", shapes=_shapes("n2", "highmem", 8, (2, 4, 8, 16, 32, 48, 64, 80, 96, 128)),
                       spot=0.29, band="5-10%"),
    "n2-highcpu": dict(series="n2", shapes=_shapes("n2", "highcpu", 1, (2, 4, 8, 16, 32, 48, 64, 80, 96)),
                       spot=0.29, band="5-10%"),
    "n2d": dict(shapes=_shapes("n2d", "standard", 4, (2, 4, 8, 16, 32, 48, 64, 96, 128, 224)),
                spot=0.23, band="5-10%"),
    "c2": dict(shapes=_shapes("c2", "standard", 4, (4, 8, 16, 30, 60)), spot=0.30, band="10-15%"),
    "c3": dict(shapes=_shapes("c3", "standard", 4, (4, 8, 22, 44, 88, 176))
               + _shapes("c3", "highcpu", 2, (4, 8, 22, 44, 88, 176)), spot=0.35, band="10-15%"),
    "c3-highmem": dict(series="c3", shapes=_shapes("c3", "highmem", 8, (4, 8, 22, 44, 88, 176)),
                       spot=0.35, band="10-15%"),
    "n1-t4": dict(series="n1", shapes=_n1_with("T4"), spot=0.40, band="5-10%"),
    "n1-v100": dict(series="n1", shapes=_n1_with("V100"),
                    regions=("us-central1", "us-east1", "us-west1", "europe-west4", "asia-east1"),
                    spot=0.40, band="10-15%"),
    "g2": dict(shapes=[("g2-standard-4", 4, 16, "L4", 1), ("g2-standard-8", 8, 32, "L4", 1),
                       ("g2-standard-12", 12, 48, "L4", 1), ("g2-standard-16", 16, 64, "L4", 1),
                       ("g2-standard-32", 32, 128, "L4", 1), ("g2-standard-24", 24, 96, "L4", 2),
                       ("g2-standard-48", 48, 192, "L4", 4), ("g2-standard-96", 96, 384, "L4", 8)],
               regions=("us-central1", "us-east1", "us-east4", "us-west1", "us-west4", "europe-west4",
                        "europe-west1", "europe-west2", "europe-west3", "asia-east1", "asia-northeast1",
                        "asia-southeast1", "asia-south1"),
               spot=0.40, band="10-15%"),
    "a2-highgpu": dict(series="a2", shapes=[("a2-highgpu-1g", 12, 85, "A100", 1), ("a2-highgpu-2g", 24, 170, "A100", 2),
                                            ("a2-highgpu-4g", 48, 340, "A100", 4), ("a2-highgpu-8g", 96, 680, "A100", 8),
                                            ("a2-megagpu-16g", 96, 1360, "A100", 16)],
                       regions=("us-central1", "us-east1", "us-west1", "us-west4", "europe-west4",
                                "asia-northeast1", "asia-southeast1"),
                       spot=0.40, band="15-20%"),
    "a2-ultragpu": dict(series="a2", shapes=[("a2-ultragpu-1g", 12, 170, "A100-80GB", 1),
                                             ("a2-ultragpu-2g", 24, 340, "A100-80GB", 2),
                                             ("a2-ultragpu-4g", 48, 680, "A100-80GB", 4),
                                             ("a2-ultragpu-8g", 96, 1360, "A100-80GB", 8)],
                        regions=("us-central1", "us-east4", "us-east1", "europe-west4", "asia-southeast1",
                                 "asia-northeast1"),
                        spot=0.40, band="15-20%"),
    "a3-high": dict(series="a3", shapes=[("a3-highgpu-8g", 208, 1872, "H100", 8)],
                    regions=("us-central1", "us-east4", "us-east1", "us-west1", "us-west4", "europe-west4",
                             "europe-west1", "asia-east1", "asia-northeast1", "asia-southeast1"),
                    spot=0.36, reserved=0.55, band=">20%"),
    "a3-mega": dict(series="a3", shapes=[("a3-megagpu-8g", 208, 1872, "H100-MEGA", 8)],
                    regions=("us-central1", "us-east4", "us-east1", "us-west1", "europe-west4",
                             "europe-west1", "asia-northeast1", "asia-southeast1"),
                    spot=0.36, reserved=0.55, band=">20%"),
    "a3-ultra": dict(series="a3", shapes=[("a3-ultragpu-8g", 224, 2952, "H200", 8)],
                     regions=("us-central1", "us-east4", "us-east1", "us-west1", "europe-west1",
                              "europe-west4", "asia-south1", "asia-southeast1"),
                     spot=0.40, reserved=0.55, band=">20%"),
    "a4-high": dict(series="a4", shapes=[("a4-highgpu-8g", 224, 3968, "B200", 8)],
                    regions=("us-central1", "us-east1", "us-east4", "us-west1", "europe-west4",
                             "asia-northeast1", "asia-southeast1"),
                    spot=0.40, reserved=0.55, band=">20%"),
}

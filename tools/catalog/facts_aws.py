"""AWS facts for the built-in catalog snapshot.

Source: the public EC2 on-demand Linux list prices (aws.amazon.com/ec2/pricing),
us-east-1, compiled 2026-11-28; P4/P5 prices are the post-June-2025 ones.
Other regions are us-east-1 times the region's multiplier (or an explicit
per-region price where the family's regional ratios differ). ``spot`` is the
family's typical spot price as a fraction of on-demand, varied per zone by the
builder (AWS prices spot per zone); ``reserved`` is the 1-year no-upfront
standard RI effective hourly as a fraction of on-demand; ``band`` is the
spot-advisor interruption band typical of the family.

Current top GPU types (list prices observed 2026-11-28 on the EC2 on-demand page):
- p6-b200.48xlarge: 8 x B200 (180 GB HBM3e each), 192 vCPUs, 2048 GiB, $113.9328/h in
  us-east-1; offered in us-east-1, us-east-2 and us-west-2 (where P6-B200 launched).
  Regions outside us-east-1 take the US multiplier 1.00; its spot fraction and band
  are estimates from P5en's (no spot history of its own in the source).
- p5en.48xlarge: 8 x H200 (141 GB), 192 vCPUs, 2048 GiB, $63.296/h in us-east-1.
"""

OBSERVED = "2026-11-28"

# region -> (price multiplier vs us-east-1, zone suffixes)
REGIONS = {
    "us-east-1": (1.00, "abcdf"), "us-east-2": (1.00, "abc"), "us-west-2": (1.00, "abcd"),
    "us-west-1": (1.17, "ac"), "ca-central-1": (1.10, "abd"),
    "eu-west-1": (1.11, "abc"), "eu-central-1": (1.19, "abc"), "eu-west-2": (1.16, "abc"),
    "eu-north-1": (1.06, "abc"),
    "ap-northeast-1": (1.27, "acd"), "ap-southeast-1": (1.24, "abc"), "ap-south-1": (1.05, "abc"),
    "ap-southeast-2": (1.25, "abc"), "ap-northeast-2": (1.22, "abcd"),
}
ALL = tuple(REGIONS)


def _sizes(base_price, base_vcpus, gib_per_vcpu, sizes):
    """Linear families: (suffix, vCPUs) -> rows priced per vCPU like the base size."""
    return [(s, v, v * gib_per_vcpu, 0, round(base_price * v / base_vcpus, 6)) for s, v in sizes]


_STD = [("large", 2), ("xlarge", 4), ("2xlarge", 8), ("4xlarge", 16), ("8xlarge", 32),
        ("12xlarge", 48), ("16xlarge", 64), ("24xlarge", 96)]
_STD48 = _STD + [("48xlarge", 192)]
_STD32 = _STD + [("32xlarge", 128)]
_GRAV = [("medium", 1)] + _STD[:5] + [("12xlarge", 48), ("16xlarge", 64)]

# family: accelerator, accelerator GiB, arch, sizes [(suffix, vCPUs, GiB, accel count, us-east-1 $/h)],
#         regions, spot fraction, reserved fraction, band, category
FAMILIES = {
    # general purpose
    "t3": dict(sizes=[("medium", 2, 4, 0, 0.0416), ("large", 2, 8, 0, 0.0832), ("xlarge", 4, 16, 0, 0.1664),
                      ("2xlarge", 8, 32, 0, 0.3328)], spot=0.31, band="<5%"),
    "m7i": dict(sizes=_sizes(0.1008, 2, 4, _STD48), spot=0.42, band="<5%"),
    "m6i": dict(sizes=_sizes(0.096, 2, 4, _STD32), spot=0.38, band="<5%"),
    "m7a": dict(sizes=_sizes(0.11592, 2, 4, _STD48), spot=0.45, band="5-10%"),
    "m7g": dict(arch="arm64", sizes=_sizes(0.0816, 2, 4, _GRAV), spot=0.40, band="<5%"),
    # compute optimised
    "c7i": dict(sizes=_sizes(0.08925, 2, 2, _STD48), spot=0.43, band="5-10%"),
    "c6i": dict(sizes=_sizes(0.085, 2, 2, _STD32), spot=0.40, band="5-10%"),
    "c7g": dict(arch="arm64", sizes=_sizes(0.0725, 2, 2, _GRAV), spot=0.42, band="<5%"),
    # memory optimised
    "r7i": dict(sizes=_sizes(0.1323, 2, 8, _STD48), spot=0.37, band="<5%"),
    "r6i": dict(sizes=_sizes(0.126, 2, 8, _STD32), spot=0.35, band="<5%"),
    "x2idn": dict(sizes=[("16xlarge", 64, 1024, 0, 6.66902), ("24xlarge", 96, 1536, 0, 10.00353),
                         ("32xlarge", 128, 2048, 0, 13.33804)],
                  regions=("us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1",
                           "ap-northeast-1", "ap-southeast-1", "ap-south-1"), spot=0.35, band="<5%"),
    # accelerated
    "p5": dict(accel="H100", sizes=[("4xlarge", 16, 256, 1, 6.88), ("48xlarge", 192, 2048, 8, 55.04)],
               regions=("us-east-1", "us-east-2", "us-west-2", "us-west-1", "ca-central-1", "eu-north-1",
                        "eu-west-2", "ap-northeast-1", "ap-south-1", "ap-southeast-2"),
               regional={"us-west-1": 1.25, "ca-central-1": 1.15, "eu-north-1": 1.07, "eu-west-2": 1.30,
                         "ap-northeast-1": 1.25, "ap-south-1": 1.20, "ap-southeast-2": 1.30},
               spot=0.62, reserved=0.64, band=">20%"),
    "p6-b200": dict(accel="B200", sizes=[("48xlarge", 192, 2048, 8, 113.9328)],
                    regions=("us-east-1", "us-east-2", "us-west-2"),
                    spot=0.60, reserved=0.64, band=">20%"),
    "p5en": dict(accel="H200", sizes=[("48xlarge", 192, 2048, 8, 63.296)],
                 regions=("us-east-1", "us-east-2", "us-west-2", "us-west-1", "eu-north-1", "ap-northeast-1",
                          "ap-south-1", "ap-northeast-2"),
                 regional={"us-west-1": 1.25, "eu-north-1": 1.07, "ap-northeast-1": 1.25, "ap-south-1": 1.20,
                           "ap-northeast-2": 1.38},
                 spot=0.60, reserved=0.64, band=">20%"),
    "p4d": dict(accel="A100", sizes=[("24xlarge", 96, 1152, 8, 21.957642)],
                regions=("us-east-1", "us-east-2", "us-west-2", "ca-central-1", "eu-west-1", "eu-central-1",
                         "eu-west-2", "eu-north-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1",
                         "ap-southeast-2", "ap-south-1"),
                regional={"ca-central-1": 1.15, "eu-west-1": 1.08, "eu-central-1": 1.249, "eu-west-2": 1.30,
                          "eu-north-1": 1.08, "ap-northeast-1": 1.371, "ap-northeast-2": 1.385,
                          "ap-southeast-1": 1.20, "ap-southeast-2": 1.30, "ap-south-1": 1.20},
                spot=0.52, reserved=0.634, band=">20%"),
    "p4de": dict(accel="A100-80GB", sizes=[("24xlarge", 96, 1152, 8, 27.44705)],
                 regions=("us-east-1", "us-west-2", "eu-central-1", "ap-northeast-1", "ap-southeast-1"),
                 regional={"eu-central-1": 1.249, "ap-northeast-1": 1.371, "ap-southeast-1": 1.20},
                 spot=0.55, reserved=0.634, band=">20%"),
    "g6e": dict(accel="L40S", sizes=[("xlarge", 4, 32, 1, 1.861), ("2xlarge", 8, 64, 1, 2.24208),
                                     ("4xlarge", 16, 128, 1, 3.00424), ("8xlarge", 32, 256, 1, 4.52856),
                                     ("16xlarge", 64, 512, 1, 7.57719), ("12xlarge", 48, 384, 4, 10.49264),
                                     ("24xlarge", 96, 768, 4, 15.06559), ("48xlarge", 192, 1536, 8, 30.13118)],
                regions=("us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "eu-north-1",
                         "ap-northeast-1", "ap-southeast-1", "ap-south-1", "ap-southeast-2"),
                spot=0.45, band="15-20%"),
    "g6": dict(accel="L4", sizes=[("xlarge", 4, 16, 1, 0.8048), ("2xlarge", 8, 32, 1, 0.9776),
                                  ("4xlarge", 16, 64, 1, 1.3232), ("8xlarge", 32, 128, 1, 2.0144),
                                  ("16xlarge", 64, 256, 1, 3.3968), ("12xlarge", 48, 192, 4, 4.6016),
                                  ("24xlarge", 96, 384, 4, 6.6752), ("48xlarge", 192, 768, 8, 13.3504)],
               regions=("us-east-1", "us-east-2", "us-west-2", "ca-central-1", "eu-west-1", "eu-central-1",
                        "eu-west-2", "eu-north-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-2",
                        "ap-south-1"),
               spot=0.42, band="5-10%"),
    "g5": dict(accel="A10G", sizes=[("xlarge", 4, 16, 1, 1.006), ("2xlarge", 8, 32, 1, 1.212),
                                    ("4xlarge", 16, 64, 1, 1.624), ("8xlarge", 32, 128, 1, 2.448),
                                    ("16xlarge", 64, 256, 1, 4.096), ("12xlarge", 48, 192, 4, 5.672),
                                    ("24xlarge", 96, 384, 4, 8.144), ("48xlarge", 192, 768, 8, 16.288)],
               regions=("us-east-1", "us-east-2", "us-west-2", "ca-central-1", "eu-west-1", "eu-central-1",
                        "eu-west-2", "eu-north-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1",
                        "ap-southeast-2", "ap-south-1"),
               spot=0.40, band="10-15%"),
    "g4dn": dict(accel="T4", sizes=[("xlarge", 4, 16, 1, 0.526), ("2xlarge", 8, 32, 1, 0.752),
                                    ("4xlarge", 16, 64, 1, 1.204), ("8xlarge", 32, 128, 1, 2.176),
                                    ("16xlarge", 64, 256, 1, 4.352), ("12xlarge", 48, 192, 4, 3.912),
                                    ("metal", 96, 384, 8, 7.824)],
                 regions=ALL, spot=0.36, band="5-10%"),
    "p3": dict(accel="V100", sizes=[("2xlarge", 8, 61, 1, 3.06), ("8xlarge", 32, 244, 4, 12.24),
                                    ("16xlarge", 64, 488, 8, 24.48)],
               regions=("us-east-1", "us-east-2", "us-west-2", "ca-central-1", "eu-west-1", "eu-central-1",
                        "eu-west-2", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2"),
               spot=0.33, band="10-15%"),
    "trn1": dict(accel="Trainium", sizes=[("2xlarge", 8, 32, 1, 1.34375), ("32xlarge", 128, 512, 16, 21.50)],
                 regions=("us-east-1", "us-east-2", "us-west-2", "eu-north-1", "ap-northeast-1", "ap-south-1"),
                 spot=0.40, band="10-15%"),
    "inf2": dict(accel="Inferentia2", sizes=[("xlarge", 4, 16, 1, 0.7582), ("8xlarge", 32, 128, 1, 1.96786),
                                             ("24xlarge", 96, 384, 6, 6.49063), ("48xlarge", 192, 768, 12, 12.98127)],
                 regions=("us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "eu-north-1",
                          "ap-northeast-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2"),
                 spot=0.38, band="5-10%"),
    "p3dn": dict(accel="V100-32GB", sizes=[("24xlarge", 96, 768, 8, 31.212)],
                 regions=("us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1"),
                 regional={"eu-west-1": 1.08, "ap-northeast-1": 1.371}, spot=0.33, band="10-15%"),
}

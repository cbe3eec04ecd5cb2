"""Azure facts for the built-in catalog snapshot.

Source: the public Azure Linux VM pay-as-you-go list prices (Retail Prices API /
azure.microsoft.com/pricing/details/virtual-machines/linux), East US, compiled
2026-11-28. Other regions are East US times the region's multiplier. Azure
prices spot per region, so offers have no zone. ``reserved`` is the 1-year
reservation effective hourly as a fraction of pay-as-you-go; ``band`` is an
estimate from Azure's published eviction-rate ranges. ``spot=None`` marks sizes
Azure sells no Spot capacity of (offers without a spot price).

Current top GPU sizes (sizes from Azure's VM size documentation; prices as noted):
- Standard_ND96isr_H200_v5: 8 x H200 (141 GB), 96 vCPUs, 1850 GiB, $110.24/h East US
  (pay-as-you-go list price, observed 2026-11-28).
- Standard_ND96isr_MI300X_v5: 8 x AMD MI300X (192 GB), 96 vCPUs, 1850 GiB. ESTIMATE:
  $48.00/h East US, the figure published comparisons quote for this size; no Retail
  Prices API row for it was at hand on 2026-11-28. Regions: those the size is
  announced in (East US, East US 2, West US 3, Sweden Central, Canada Central).
- Standard_ND128isr_NDR_GB200_v6: 4 x GB200 (Blackwell GPU with Grace CPU, 186 GB
  usable HBM3e each), 128 vCPUs, 864 GiB (the resource SKU's memory). ESTIMATE: no
  public pay-as-you-go price is listed; $99.20/h East US is ND H200 v5's price per GPU
  ($13.78) times the B200/H200 ratio of AWS's list prices (p6-b200 / p5en = 1.80),
  times 4 GPUs. Offered in few regions (East US 2, West US 3, Sweden Central); no Spot.
"""

OBSERVED = "2026-11-28"

REGIONS = {
    "eastus": 1.00, "eastus2": 1.00, "westus2": 1.00, "westus3": 1.00, "southcentralus": 1.02,
    "canadacentral": 1.10, "northeurope": 1.07, "westeurope": 1.15, "uksouth": 1.16,
    "swedencentral": 1.05, "germanywestcentral": 1.18,
    "japaneast": 1.26, "southeastasia": 1.22, "centralindia": 1.05, "australiaeast": 1.25,
    "koreacentral": 1.20,
}
ALL = tuple(REGIONS)
GPU_REGIONS = ("eastus", "eastus2", "westus2", "westus3", "southcentralus", "northeurope",
               "westeurope", "uksouth", "swedencentral", "japaneast", "southeastasia", "australiaeast")


def _linear(fmt, base_price, base_vcpus, gib_per_vcpu, vcpus):
    return [(fmt.format(v), v, v * gib_per_vcpu, None, 0, round(base_price * v / base_vcpus, 6)) for v in vcpus]


# family: sizes [(VM size, vCPUs, GiB, accelerator, count, East US $/h)], regions, spot, reserved, band
FAMILIES = {
    "Dsv5": dict(sizes=_linear("Standard_D{}s_v5", 0.096, 2, 4, (2, 4, 8, 16, 32, 48, 64, 96)),
                 spot=0.20, reserved=0.59, band="<5%"),
    "Dasv5": dict(sizes=_linear("Standard_D{}as_v5", 0.086, 2, 4, (2, 4, 8, 16, 32, 48, 64, 96)),
                  spot=0.20, reserved=0.59, band="<5%"),
    "Dpsv5": dict(arch="arm64", sizes=_linear("Standard_D{}ps_v5", 0.077, 2, 4, (2, 4, 8, 16, 32, 48, 64)),
                  spot=0.22, reserved=0.60, band="<5%"),
    "Fsv2": dict(sizes=_linear("Standard_F{}s_v2", 0.0846, 2, 2, (2, 4, 8, 16, 32, 48, 64, 72)),
                 spot=0.21, reserved=0.60, band="5-10%"),
    "Esv5": dict(sizes=_linear("Standard_E{}s_v5", 0.126, 2, 8, (2, 4, 8, 16, 20, 32, 48, 64, 96)),
                 spot=0.20, reserved=0.59, band="<5%"),
    "NCasT4_v3": dict(sizes=[("Standard_NC4as_T4_v3", 4, 28, "T4", 1, 0.526),
                             ("Standard_NC8as_T4_v3", 8, 56, "T4", 1, 0.752),
                             ("Standard_NC16as_T4_v3", 16, 110, "T4", 1, 1.204),
                             ("Standard_NC64as_T4_v3", 64, 440, "T4", 4, 4.352)],
                      regions=GPU_REGIONS, spot=0.30, reserved=0.62, band="5-10%"),
    "NCv3": dict(sizes=[("Standard_NC6s_v3", 6, 112, "V100", 1, 3.06),
                        ("Standard_NC12s_v3", 12, 224, "V100", 2, 6.12),
                        ("Standard_NC24s_v3", 24, 448, "V100", 4, 12.24)],
                 regions=("eastus", "eastus2", "westus2", "southcentralus", "northeurope", "westeurope",
                          "uksouth", "japaneast", "southeastasia", "australiaeast", "canadacentral",
                          "centralindia", "koreacentral"),
                 spot=0.30, reserved=0.62, band="10-15%"),
    "NDv2": dict(sizes=[("Standard_ND40rs_v2", 40, 672, "V100-32GB", 8, 22.032)],
                 regions=("eastus", "westus2", "southcentralus", "westeurope", "northeurope",
                          "southeastasia", "japaneast", "uksouth"),
                 spot=0.35, reserved=0.62, band="10-15%"),
    "NVadsA10_v5": dict(sizes=[("Standard_NV36ads_A10_v5", 36, 440, "A10", 1, 3.20),
                               ("Standard_NV72ads_A10_v5", 72, 880, "A10", 2, 6.52)],
                        regions=GPU_REGIONS, spot=0.30, reserved=0.62, band="10-15%"),
    "NCadsA100_v4": dict(sizes=[("Standard_NC24ads_A100_v4", 24, 220, "A100-80GB", 1, 3.673),
                                ("Standard_NC48ads_A100_v4", 48, 440, "A100-80GB", 2, 7.346),
                                ("Standard_NC96ads_A100_v4", 96, 880, "A100-80GB", 4, 14.692)],
                         regions=GPU_REGIONS, spot=0.40, reserved=0.62, band="15-20%"),
    "NDasrA100_v4": dict(sizes=[("Standard_ND96asr_v4", 96, 900, "A100", 8, 27.197)],
                         regions=("eastus", "eastus2", "westus2", "southcentralus", "westeurope",
                                  "northeurope", "uksouth", "japaneast", "southeastasia", "australiaeast"),
                         spot=0.45, reserved=0.62, band=">20%"),
    "NDamsrA100_v4": dict(sizes=[("Standard_ND96amsr_A100_v4", 96, 1900, "A100-80GB", 8, 32.77)],
                          regions=("eastus", "eastus2", "westus2", "southcentralus", "westeurope",
                                   "northeurope", "swedencentral", "japaneast", "southeastasia"),
                          spot=0.45, reserved=0.62, band=">20%"),
    "NCadsH100_v5": dict(sizes=[("Standard_NC40ads_H100_v5", 40, 320, "H100", 1, 6.98),
                                ("Standard_NC80adis_H100_v5", 80, 640, "H100", 2, 13.96)],
                         regions=("eastus", "eastus2", "westus3", "southcentralus", "westeurope",
                                  "swedencentral", "uksouth", "japaneast", "australiaeast"),
                         spot=0.45, reserved=0.62, band=">20%"),
    "NDisrH100_v5": dict(sizes=[("Standard_ND96isr_H100_v5", 96, 1900, "H100", 8, 98.32)],
                         regions=("eastus", "eastus2", "westus3", "southcentralus", "westeurope",
                                  "swedencentral", "uksouth", "japaneast", "australiaeast"),
                         spot=0.45, reserved=0.62, band=">20%"),
    "NDisrMI300X_v5": dict(sizes=[("Standard_ND96isr_MI300X_v5", 96, 1850, "MI300X", 8, 48.00)],
                           regions=("eastus", "eastus2", "westus3", "swedencentral", "canadacentral"),
                           spot=0.45, reserved=0.62, band=">20%"),
    "NDGB200_v6": dict(sizes=[("Standard_ND128isr_NDR_GB200_v6", 128, 864, "GB200", 4, 99.20)],
                       regions=("eastus2", "westus3", "swedencentral"), arch="arm64",
                       spot=None, reserved=0.62, band=">20%"),
    "NDisrH200_v5": dict(sizes=[("Standard_ND96isr_H200_v5", 96, 1850, "H200", 8, 110.24)],
                         regions=("eastus", "eastus2", "westus3", "southcentralus", "swedencentral",
                                  "uksouth", "japaneast", "westeurope"),
                         spot=0.45, reserved=0.62, band=">20%"),
}

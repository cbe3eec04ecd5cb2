"""The Offer: one way to buy one node, with its prices per pricing model."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

INTERRUPTION_BANDS = ("<5%", "5-10%", "10-15%", "15-20%", ">20%")
# Midpoint interruption probability (per run) for each band, used by the solver's
# expected-cost model for spot.
BAND_RATE = {"<5%": 0.025, "5-10%": 0.075, "10-15%": 0.125, "15-20%": 0.175, ">20%": 0.25}


@dataclass(frozen=True)
class Offer:
    provider: str  # aws | gcp | azure | kubernetes | local (the provider kind)
    region: str
    zone: str | None
    instance_type: str
    accelerator: str | None = None  # canonical accelerator name
    accelerator_count: float = 0
    accelerator_memory_gib: float | None = None
    vcpus: float = 0
    memory_gib: float = 0
    arch: str = "x86_64"
    on_demand: float | None = None
    spot: float | None = None
    reserved: float | None = None
    interruption_band: str | None = None
    observed_at: str | None = None  # ISO date the price was observed

    def price(self, pricing: str) -> float | None:
        """Hourly price for ``pricing`` in on_demand | spot | reserved, or None."""
        return {"on_demand": self.on_demand, "spot": self.spot, "reserved": self.reserved}[pricing]

    @property
    def interruption_rate(self) -> float:
        return BAND_RATE.get(self.interruption_band or "", 0.1)

    @property
    def infra(self) -> str:
        return "/".join(p for p in (self.provider, self.region, self.zone) if p)

    @cached_property  # read for every option the solver builds on this offer
    def accelerators(self) -> str | None:
        if not self.accelerator:
            return None
        c = self.accelerator_count
        return f"{self.accelerator}:{int(c) if float(c).is_integer() else c}"

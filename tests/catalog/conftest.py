"""Fixtures for catalog tests: a small catalog file and a fresh cache per test."""

from __future__ import annotations

import pytest

SMALL = """InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone,Cloud,ReservedPrice,InterruptionBand,AcceleratorMemoryGiB,Arch,ObservedAt
p5.48xlarge,H100,8,192,2048,55.04,33.1,us-east-1,us-east-1a,aws,35.2,>20%,80,x86_64,2026-11-01
p5.48xlarge,H100,8,192,2048,55.04,31.9,us-east-1,us-east-1b,aws,35.2,>20%,80,x86_64,2026-11-01
p5.48xlarge,H100,8,192,2048,68.8,,us-west-1,us-west-1a,aws,44.0,>20%,80,x86_64,2026-11-01
g6.xlarge,L4,1,4,16,0.8048,0.34,us-east-1,us-east-1a,aws,0.507,5-10%,24,x86_64,2026-11-01
m7i.large,,,2,8,0.1008,0.042,eu-west-1,eu-west-1a,aws,0.0635,<5%,,x86_64,2026-11-01
g2-standard-4,L4,1,4,16,0.7068,0.28,us-central1,us-central1-a,gcp,0.445,10-15%,24,x86_64,2026-11-02
Standard_NC40ads_H100_v5,H100,1,40,320,6.98,3.1,eastus,,azure,4.3,>20%,80,x86_64,2026-11-03
"""


@pytest.fixture
def small_csv(tmp_path):
    path = tmp_path / "small.csv"
    path.write_text(SMALL)
    return path


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("SKYPLAN_CACHE_DIR", str(d))
    return d / "catalog"

"""Fixtures for the state tests: a fresh store in a temporary folder and records."""

from __future__ import annotations

import pytest

from skyplan.addrs import Address
from skyplan.providers.base import Instance
from skyplan.solver.model import Placement
from skyplan.state.model import GroupRecord, ResourceRecord


def make_record(address: str = "workload.train", version: int = 1, *, nodes: int = 1, groups: int = 1,
                lineage: str = "L", **attrs) -> ResourceRecord:
    """A record whose every part names ``version``, so a torn write would show."""
    gs = []
    for g in range(groups):
        p = Placement("aws", "us-east-1", "us-east-1a", f"type-{version}", "on_demand", float(version), nodes=nodes)
        insts = tuple(Instance("aws", f"i-{address}-{version}-{g}-{r}", address, lineage, group=g, rank=r,
                               region="us-east-1", zone="us-east-1a", instance_type=f"type-{version}") for r in range(nodes))
        gs.append(GroupRecord(p, insts))
    attributes = {"version": version, "env": {"TOKEN": f"secret-{version}"}, **attrs}
    return ResourceRecord(address, Address.parse(address).kind,
                          groups=tuple(gs), attributes=attributes, config_hash=f"h{version}")


@pytest.fixture
def state_path(tmp_path):
    return tmp_path / "cfg" / ".skyplan" / "state.db"


@pytest.fixture
def store(state_path):
    from skyplan.state.store import StateStore

    s = StateStore.open(state_path)
    yield s
    s.close()

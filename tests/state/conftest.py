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
    from skyplan.state.location import open_store

    s = open_store(state_path)
    yield s
    s.close()


# ---- the PostgreSQL backend: one real server per test session -------------------------------------

@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server of the Debian ``postgresql`` package in a temp folder. Skipped
    (saying why) where its binaries are absent, except in CI, where that is a failure."""
    import os

    from tests.pgserver import PgServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries (initdb, pg_ctl) are missing; CI must install the postgresql package")
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) are not installed: apt-get install postgresql")
    server = PgServer(bindir).init()
    yield server
    server.destroy()


@pytest.fixture
def pg_location(pg_server):
    """A fresh named state in the session's database."""
    import uuid

    from skyplan.state.location import PostgresLocation

    return PostgresLocation(pg_server.url, f"team/test-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def sqlite_path(tmp_path):
    return tmp_path / "cfg" / ".skyplan" / "state.db"


@pytest.fixture(params=["sqlite", "postgres"])
def location(request, tmp_path):
    """Where the store under test lives, on each backend (the shared store contract)."""
    if request.param == "sqlite":
        return tmp_path / "cfg" / ".skyplan" / "state.db"
    return request.getfixturevalue("pg_location")

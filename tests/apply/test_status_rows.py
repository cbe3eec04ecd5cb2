"""`skyplan status` rows: live state, uptime and cost so far from state plus one list call per provider."""

from __future__ import annotations

from skyplan.commands.run_view import status_rows
from skyplan.errors import TransientError
from skyplan.providers.base import Instance
from skyplan.state.model import GroupRecord, ResourceRecord, Snapshot
from tests.apply.sim import placement

T0 = 1_800_000_000.0


class Listing:
    name = "sim"

    def __init__(self, insts=(), error=None):
        self.insts, self.error = list(insts), error

    def list_managed(self, lineage):
        if self.error:
            raise self.error
        return [i for i in self.insts if i.lineage == lineage]


def _inst(address, state, started, ended=None, rank=0):
    return Instance(provider="sim", id=f"{address}-{rank}", address=address, lineage="L", rank=rank, state=state,
                    attributes={"started_at": started, "ended_at": ended})


def _rec(address, status="running", price=2.0, nodes=1, kind="service"):
    p = placement(price=price, nodes=nodes)
    return ResourceRecord(address=address, kind="workload", status=status, groups=(GroupRecord(p),),
                          attributes={"kind": kind}, created_at="2027-01-15T08:00:00+00:00")


def test_rows_show_live_state_uptime_and_cost_so_far():
    snap = Snapshot("L", 3, {
        "workload.api": _rec("workload.api", nodes=2),
        "workload.job": _rec("workload.job", kind="job", price=4.0),
        "workload.gone": _rec("workload.gone"),
        "workload.done": _rec("workload.done", status="succeeded", kind="job"),
    })
    prov = Listing([
        _inst("workload.api", "running", T0, rank=0), _inst("workload.api", "running", T0 + 10, rank=1),
        _inst("workload.job", "succeeded", T0, ended=T0 + 1800),
    ])
    rows = {r["address"]: r for r in status_rows(snap, {"sim": prov}, now=T0 + 3600)}
    api = rows["workload.api"]
    assert api["state"] == "running" and api["nodes"] == 2 and api["uptime_seconds"] == 3600
    assert api["hourly_cost"] == 4.0 and api["cost_so_far"] == 4.0
    job = rows["workload.job"]
    assert job["state"] == "succeeded" and job["uptime_seconds"] == 1800 and job["cost_so_far"] == 2.0
    assert rows["workload.gone"]["state"] == "missing"
    assert rows["workload.done"]["state"] == "succeeded"


def test_an_unreachable_provider_is_shown_per_row():
    snap = Snapshot("L", 1, {"workload.api": _rec("workload.api")})
    rows = status_rows(snap, {"sim": Listing(error=TransientError("endpoint timed out"))}, now=T0)
    assert rows[0]["state"] == "unknown (endpoint timed out)"


def test_rows_carry_tags_over_default_tags_and_cost_sums_per_tag_value():
    from skyplan.commands.run_view import cost_by
    from skyplan.config.model import ProviderConfig

    def rec(address, tags, price):
        r = _rec(address, price=price)
        return ResourceRecord(**{**r.__dict__, "attributes": {"kind": "service", **({"tags": tags} if tags else {})}})

    snap = Snapshot("L", 2, {
        "workload.a": rec("workload.a", {"team": "vision"}, 2.0),
        "workload.b": rec("workload.b", {"team": "vision", "env": "dev"}, 3.0),
        "workload.c": rec("workload.c", {"team": "nlp"}, 1.0),
        "workload.d": rec("workload.d", None, 0.5),
        "workload.e": rec("workload.e", {"team": "nlp"}, 9.0),  # not running: not summed
    })
    prov = Listing([_inst(a, "running", T0) for a in ("workload.a", "workload.b", "workload.c", "workload.d")])
    prov.cfg = ProviderConfig(kind="sim", settings={"default_tags": {"env": "prod", "owner": "ml"}})
    rows = status_rows(snap, {"sim": prov}, now=T0 + 60)
    tags = {r["address"]: r["tags"] for r in rows}
    assert tags["workload.b"] == {"env": "dev", "owner": "ml", "team": "vision"}  # its own win
    assert tags["workload.d"] == {"env": "prod", "owner": "ml"}
    assert cost_by(rows, "team") == [
        {"value": "vision", "hourly_cost": 5.0, "resources": 2},
        {"value": "nlp", "hourly_cost": 1.0, "resources": 1},
        {"value": "(untagged)", "hourly_cost": 0.5, "resources": 1},
    ]

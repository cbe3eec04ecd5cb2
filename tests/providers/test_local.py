"""The local provider: real processes, an on-disk registry, services restarted, groups killed."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from skyplan.config.model import ProviderConfig
from skyplan.errors import ProviderError
from skyplan.providers.base import TAG_ADDRESS, TAG_LINEAGE, LaunchRequest, Provider, SupportsLogs
from skyplan.providers.local import LocalProvider
from skyplan.solver.model import Placement

LOCAL = Placement(provider="local", region="local", zone=None, instance_type="local", pricing="on_demand",
                  hourly_price=0.0)


@pytest.fixture()
def prov(tmp_path):
    p = LocalProvider(ProviderConfig(kind="local", settings={"root": str(tmp_path)}))
    yield p
    p.delete(p.list_managed("L"))


def _req(address="workload.x", *, nodes=1, kind="job", run="true", setup=None, env=None, lineage="L"):
    pl = Placement(**{**LOCAL.__dict__, "nodes": nodes})
    return LaunchRequest(address=address, lineage=lineage, group=0, placement=pl, kind=kind, run=run,
                         setup=setup, env=env or {})


def _wait(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


def _group_exists(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def _states(prov, address):
    return sorted(i.state for i in prov.list_managed("L") if i.address == address)


def test_implements_the_provider_interface(prov):
    assert isinstance(prov, Provider) and isinstance(prov, SupportsLogs)
    assert prov.offers()[0].provider == "local"


def test_multi_node_job_runs_setup_then_run_with_rank_env_and_succeeds(prov, tmp_path):
    run = 'echo "rank=$SKYPLAN_NODE_RANK of $SKYPLAN_NUM_NODES greeting=$GREETING" > out.txt; cat setup.txt >> out.txt'
    insts = prov.create(_req(nodes=3, setup="echo prepared > setup.txt", run=run, env={"GREETING": "hi"}))
    assert [i.rank for i in insts] == [0, 1, 2]
    assert insts[0].tags[TAG_ADDRESS] == "workload.x" and insts[0].tags[TAG_LINEAGE] == "L"
    assert _wait(lambda: _states(prov, "workload.x") == ["succeeded"] * 3)
    for rank in range(3):
        wd = tmp_path / ".skyplan" / "local" / "workload.x" / f"0-{rank}"
        assert (wd / "out.txt").read_text() == f"rank={rank} of 3 greeting=hi\nprepared\n"
    inst = prov.list_managed("L")[0]
    assert inst.attributes["exit_code"] == 0 and inst.attributes["ip"] == "127.0.0.1"


def test_failed_job_and_failed_setup_record_their_exit_codes(prov):
    prov.create(_req("workload.bad", run="echo oops >&2; exit 3"))
    prov.create(_req("workload.nosetup", setup="exit 7", run="echo never"))
    assert _wait(lambda: _states(prov, "workload.bad") == ["failed"] and _states(prov, "workload.nosetup") == ["failed"])
    codes = {i.address: i.attributes["exit_code"] for i in prov.list_managed("L")}
    assert codes == {"workload.bad": 3, "workload.nosetup": 7}
    bad = next(i for i in prov.list_managed("L") if i.address == "workload.bad")
    assert "oops" in list(prov.logs(bad))


def test_list_managed_filters_by_lineage(prov):
    prov.create(_req("workload.mine", run="sleep 30"))
    other = prov.create(_req("workload.theirs", run="sleep 30", lineage="OTHER"))
    try:
        assert [i.address for i in prov.list_managed("L")] == ["workload.mine"]
    finally:
        prov.delete(other)


def test_service_is_restarted_when_it_dies(prov):
    insts = prov.create(_req("workload.svc", kind="service", run="echo started; sleep 30"))
    # Kill only the service's bash (not the supervisor): the supervisor restarts it.
    entry = prov.registry.read(insts[0].id)
    sup = int(entry["pid"])
    assert _wait(lambda: any("started" in line for line in prov.logs(insts[0])))
    children = [int(p) for p in Path(f"/proc/{sup}/task/{sup}/children").read_text().split()]
    assert children
    os.kill(children[0], signal.SIGKILL)
    assert _wait(lambda: sum(line == "started" for line in prov.logs(insts[0])) >= 2, timeout=15)
    assert _states(prov, "workload.svc") == ["running"]


def test_killed_from_outside_is_gone_and_delete_kills_the_whole_group(prov):
    insts = prov.create(_req("workload.svc", kind="service", run="sleep 30 & sleep 30; wait"))
    entry = prov.registry.read(insts[0].id)
    pgid = int(entry["pgid"])
    prov.delete(insts)
    assert _states(prov, "workload.svc") == []
    assert _wait(lambda: not _group_exists(pgid), timeout=3)  # (zombies may linger a moment for init to reap)
    prov.delete(insts)  # already gone: not an error

    again = prov.create(_req("workload.svc2", kind="service", run="sleep 30"))
    os.killpg(int(prov.registry.read(again[0].id)["pgid"]), signal.SIGKILL)
    assert _wait(lambda: _states(prov, "workload.svc2") == [])  # gone: refresh will call it missing


def test_update_env_restarts_a_service_with_the_same_id(prov):
    insts = prov.create(_req("workload.svc", kind="service", run='echo "v=$VERSION"; sleep 30', env={"VERSION": "1"}))
    assert _wait(lambda: "v=1" in list(prov.logs(insts[0])))
    new = prov.update(insts[0], {"env": {"VERSION": "2"}})
    assert new.id == insts[0].id and new.state == "running"
    assert _wait(lambda: "v=2" in list(prov.logs(new)))
    assert new.attributes["env"] == {"VERSION": "2"}


def test_update_of_a_job_command_is_refused(prov):
    insts = prov.create(_req("workload.j", run="sleep 30"))
    with pytest.raises(ProviderError, match="cannot change in place"):
        prov.update(insts[0], {"run": "echo other"})
    assert prov.update(insts[0], {"max_hourly_cost": 3}).id == insts[0].id


def test_follow_logs_until_the_job_ends(prov):
    insts = prov.create(_req("workload.j", run="for i in 1 2 3; do echo line$i; sleep 0.1; done"))
    lines = [line for line in prov.logs(insts[0], follow=True) if not line.startswith("[skyplan]")]
    assert lines == ["line1", "line2", "line3"]


def test_a_registration_whose_creator_died_before_starting_is_dropped(prov):
    entry = {"id": "workload.z-g0-r0-dead", "address": "workload.z", "lineage": "L", "group": 0, "rank": 0,
             "pid": None, "pgid": None, "started_at": time.time(), "creator": [999999999, "1"]}
    prov.registry.write(entry)
    assert prov.list_managed("L") == []
    assert prov.registry.read(entry["id"]) is None


def test_reading_an_unregistered_node_fails(prov):
    with pytest.raises(ProviderError):
        prov.read("nope")


def test_delete_kills_a_node_whose_creator_died_before_recording_its_pid(prov):
    # An apply killed between starting the supervisor and writing its pid into the entry
    # leaves an entry with no pid or group; the supervisor's own pid file names it.
    insts = prov.create(_req("workload.svc", kind="service", run="sleep 30"))
    entry = prov.registry.read(insts[0].id)
    pgid = int(entry["pgid"])
    prov.registry.write({**entry, "pid": None, "pgid": None, "proc_start": None})
    assert [i.state for i in prov.list_managed("L")] == ["running"]
    prov.delete(prov.list_managed("L"))
    assert _states(prov, "workload.svc") == []
    assert _wait(lambda: not _group_exists(pgid), timeout=3)

"""A Capacity Block for ML bought by skyplan, end to end through the CLI against
the EC2 test server: apply buys the cheapest offering in the plan's zone, the
workloads on it launch into it in the capacity-block market once it has
started, and destroy says truthfully that EC2 cannot cancel it."""

from __future__ import annotations

import datetime as dt

import pytest

from skyplan.state import StateStore
from tests.providers.aws.test_e2e import run
from tests.providers.aws.test_fleet_e2e import _timed_job, ec2, lineage_of, live, write

BLOCK = """
fleet "block" {
  provider       = "aws"
  reservation    = "capacity_block"
  nodes          = 1
  duration_hours = 24
  keep           = true
  resources {
    accelerators = "A10G:1"
  }
}
"""


def blocks(moto, lineage: str) -> list[dict]:
    return [r for r in ec2(moto).describe_capacity_reservations(Filters=[
        {"Name": "tag:skyplan:lineage", "Values": [lineage]}])["CapacityReservations"]
        if r["ReservationType"] == "capacity-block"]


@pytest.mark.slow
def test_a_bought_block_that_has_started_takes_its_workload_and_destroy_says_it_stays_billed(tmp_path, moto, capsys):
    moto.reservations.block_offers = [("a", 0.0, 1.0), ("b", 0.0, 1.0)]
    root = tmp_path / "cfg"
    write(root, moto, BLOCK, _timed_job("short", "fleet.block", 4))
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    assert code == 0, out
    assert ("fleet.block: $96.00 for 1 \u00d7 g5.xlarge reserved 24 h vs $4.02 on demand for the workloads on it: "
            "bought (keep = true) (the upfront fee of its Capacity Block offering in us-east-1a, ") in out, out
    assert "waits for fleet.block" not in out  # the offering starts when bought
    lineage = lineage_of(root)
    (block,) = blocks(moto, lineage)
    assert block["State"] == "active" and block["TotalInstanceCount"] == 1
    assert block["EndDate"] - block["StartDate"] == dt.timedelta(hours=24)
    (inst,) = live(moto, lineage)
    assert inst["CapacityReservationId"] == block["CapacityReservationId"]
    assert inst["Placement"]["AvailabilityZone"] == block["AvailabilityZone"]
    assert moto.reservations.reservation(block["CapacityReservationId"])["available"] == 0
    assert moto.reservations.purchases == 1
    with StateStore.open(root / ".skyplan" / "state.db") as store:
        (held,) = store.get("fleet.block").groups[0].instances
    assert (held.attributes["upfront_fee"], held.attributes["currency"]) == ("96.00", "USD")  # 4 $/h x 24 h
    code, out = run(capsys, "drift", str(root))
    assert code == 0, out  # the fee, known only from the purchase, is not drift when refresh cannot read it

    code, out = run(capsys, "destroy", str(root), "--auto-approve")
    assert code == 0, out
    assert "a Capacity Block cannot be cancelled on EC2: skyplan forgets it, and it stays billed until its end" in out
    assert [b["State"] for b in blocks(moto, lineage)] == ["active"]  # nothing pretended to cancel it


@pytest.mark.slow
def test_a_workload_on_a_block_that_has_not_started_is_not_launched_and_says_when_it_starts(tmp_path, moto, capsys):
    moto.reservations.block_offers = [("a", 5.0, 1.0), ("b", 5.0, 1.0)]
    root = tmp_path / "cfg"
    write(root, moto, BLOCK.replace("  keep", '  start          = "2026-01-01T00:00:00Z"\n  keep'),
          _timed_job("short", "fleet.block", 4))
    code, out = run(capsys, "apply", str(root), "--auto-approve")
    lineage = lineage_of(root)
    (block,) = blocks(moto, lineage)
    assert block["State"] == "scheduled"
    assert code == 1, out
    assert f"workload.short: Capacity Block {block['CapacityReservationId']} starts at " in out, out
    assert "nothing launched before then" in out
    assert live(moto, lineage) == []
    assert moto.calls("RunInstances") == []


def test_a_retried_purchase_finds_the_block_the_first_one_bought(moto):
    from tests.providers.aws.helpers import provider, request

    aws = provider(moto)
    req = request("fleet.block", itype="g5.xlarge", zone="us-east-1b", reserve="capacity_block", reserve_hours=24,
                  token="tok-1")
    moto.inject("InternalError", action="PurchaseCapacityBlock", status=500, after=True, times=1)
    with pytest.raises(Exception):
        aws.create(req)  # bought, but its answer is lost
    (inst,) = aws.create(req)
    assert moto.reservations.purchases == 1
    assert inst.zone == "us-east-1b" and inst.attributes["reservation"] == "capacity_block"
    assert inst.attributes["reservation_state"] == "scheduled"  # the cheapest offering in 1b starts in 24 h


def test_no_offering_in_the_planned_zone_is_a_capacity_error_and_buys_nothing(moto):
    from skyplan.errors import CapacityError
    from tests.providers.aws.helpers import provider, request

    moto.reservations.block_offers = [("a", 0.0, 1.0)]
    req = request("fleet.block", itype="g5.xlarge", zone="us-east-1b", reserve="capacity_block", reserve_hours=24)
    with pytest.raises(CapacityError, match="no Capacity Block offering of 1 x g5.xlarge for 24 h in us-east-1b"):
        provider(moto).create(req)
    assert moto.reservations.purchases == 0


def test_plan_prices_a_block_to_buy_by_its_offering_and_says_it_estimates_only_without_access(
        tmp_path, moto, capsys):
    import json

    moto.reservations.block_offers = [("a", 2.0, 1.0), ("b", 0.0, 1.25)]  # 1a: $96 in 2 h; 1b: $120 now
    root = tmp_path / "cfg"
    write(root, moto, BLOCK, _timed_job("short", "fleet.block", 4))
    code, out = run(capsys, "plan", str(root))
    assert code == 0, out
    asked = moto.calls("DescribeCapacityBlockOfferings")
    assert asked and moto.calls("PurchaseCapacityBlock") == []  # a plan asks, it never buys
    assert "fleet.block: $96.00 for 1 \u00d7 g5.xlarge reserved 24 h vs $4.02 on demand for the workloads on it: " \
           "bought (keep = true) (the upfront fee of its Capacity Block offering in us-east-1a, " in out, out
    assert "estimated at the list price" not in out
    code, out = run(capsys, "plan", str(root), "--json")
    doc = json.loads(out[out.index("{"):])
    (choice,) = doc["solver"]["fleets"]
    offering = choice["offering"]
    assert offering["zone"] == "us-east-1a" and offering["upfront_fee"] == 96.0
    starts = dt.datetime.fromisoformat(offering["starts_at"])
    ends = dt.datetime.fromisoformat(offering["ends_at"])
    assert ends - starts == dt.timedelta(hours=24)
    assert dt.timedelta(hours=1.9) < starts - dt.datetime.now(dt.timezone.utc) < dt.timedelta(hours=2.1)
    (entry,) = [p for p in doc["placements"] if p["address"] == "workload.short"]
    assert entry["waits_for"] == {"fleet": "fleet.block", "starts_at": offering["starts_at"]}

    code, out = run(capsys, "plan", str(root), "-refresh=false")
    assert code == 0, out
    assert "fleet.block: $24.14 for 1 \u00d7 g5.xlarge reserved 24 h" in out
    assert "(estimated at the list price: a Capacity Block costs its offering's upfront fee" in out


def test_a_plan_not_allowed_to_read_offerings_prices_the_block_at_the_list_price_and_says_so(tmp_path, moto, capsys):
    root = tmp_path / "cfg"
    write(root, moto, BLOCK, _timed_job("short", "fleet.block", 4))
    moto.inject("UnauthorizedOperation", action="DescribeCapacityBlockOfferings", status=403)
    code, out = run(capsys, "plan", str(root))
    assert code == 0, out
    assert moto.calls("DescribeCapacityBlockOfferings")  # it asked, and was refused
    assert "fleet.block: $24.14 for 1 \u00d7 g5.xlarge reserved 24 h" in out
    assert "(estimated at the list price: a Capacity Block costs its offering's upfront fee" in out


def test_a_block_to_buy_that_starts_later_is_waited_for_unless_start_by_is_earlier(tmp_path, moto, capsys):
    import json

    moto.reservations.block_offers = [("a", 0.0, 1.0)]  # sold from the start asked for
    start = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=10)).replace(microsecond=0)
    fleet = BLOCK.replace("  keep", f'  start          = "{start.isoformat()}"\n  keep')
    root = tmp_path / "cfg"
    write(root, moto, fleet, _timed_job("short", "fleet.block", 4))
    for refresh in ("-refresh=false", "-refresh=true"):  # the configured start, or the offering's
        code, out = run(capsys, "plan", str(root), refresh)
        assert code == 0, out
        assert f"waits for fleet.block, starts {start.strftime('%Y-%m-%dT%H:%MZ')}" in out, out

    start_by = (start - dt.timedelta(hours=9)).isoformat()
    write(root, moto, fleet, _timed_job("short", "fleet.block", 4).replace(
        "  duration_hours", f'  start_by = "{start_by}"\n  duration_hours'))
    code, out = run(capsys, "plan", str(root), "-refresh=false", "--json")
    assert code == 0, out
    doc = json.loads(out[out.index("{"):])
    change = next(c for c in doc["resource_changes"] if c["address"] == "workload.short")
    placement = change["change"]["after"]["placement"]
    assert placement["groups"][0]["chosen"]["fleet"] is None
    assert f"not on fleet.block: its Capacity Block starts {start.isoformat()}, after start_by {start_by}" \
        in placement["explanation"]


def test_block_offerings_are_read_as_ec2_answers_them_and_buy_nothing(moto):
    from tests.providers.aws.helpers import provider

    moto.reservations.block_offers = [("a", 0.0, 1.0), ("b", 24.0, 0.8)]
    start = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=3)).replace(microsecond=0)
    quotes = provider(moto).block_offerings("us-east-1", "g5.xlarge", 2, 23.5, start.isoformat())
    assert [(q.zone, q.count, q.hours, q.upfront_fee, q.currency) for q in quotes] == [
        ("us-east-1a", 2, 24.0, 192.0, "USD"), ("us-east-1b", 2, 24.0, 153.6, "USD")]  # whole hours, as EC2 sells
    a, b = (dt.datetime.fromisoformat(q.starts_at) for q in quotes)
    assert a == start and b == start + dt.timedelta(hours=24)
    assert dt.datetime.fromisoformat(quotes[0].ends_at) - a == dt.timedelta(hours=24)
    assert moto.reservations.purchases == 0

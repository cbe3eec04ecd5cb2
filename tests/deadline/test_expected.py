"""The expected spot and on-demand hours the solver prices a paced job with come from
the same decisions the watch loop makes, over traces at the offer's availability."""

import pytest

from skyplan.deadline.expected import availability, expected_hours


def test_less_spot_availability_needs_more_on_demand():
    hours = [expected_hours(48, 70, 0.2, availability(b)) for b in ("<5%", "5-10%", "10-15%", "15-20%", ">20%")]
    on_demand = [od for _, od in hours]
    assert on_demand == sorted(on_demand)
    assert on_demand[0] < 2 < 30 < on_demand[-1]
    for spot, od in hours:  # all the work is done, and restarts add their changeovers
        assert spot + od >= 48 - 1e-6


def test_safety_net_from_the_start_is_on_demand_all_the_way():
    assert expected_hours(48, 48.3, 0.2, 0.9) == pytest.approx((0.0, 48.2))


def test_a_job_of_seconds_keeps_its_size():
    spot, od = expected_hours(20 / 3600, 60 / 3600, 0.5 / 3600, 0.6)
    assert 0 < spot < 20 / 3600 + 1e-9 and 0 < od < 40 / 3600
    assert spot + od >= 20 / 3600

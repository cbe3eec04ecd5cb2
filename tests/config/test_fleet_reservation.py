"""Fleet reservation attributes: an AWS provisioned fleet is an ODCR by default;
reservation and reservation_id are refused, with file:line:col, where they
cannot mean what they say."""

from __future__ import annotations

import pytest

from skyplan import config


def _load(tmp_path, body: str):
    (tmp_path / "main.sky.hcl").write_text('provider "aws" {}\nprovider "gcp" {\n  project = "p"\n}\n' + body)
    return config.validate(tmp_path), tmp_path


def _fleet(**attrs) -> str:
    lines = "".join(f"  {k} = {v}\n" for k, v in attrs.items())
    return 'fleet "pool" {\n' + lines + '  resources {\n    accelerators = "A10G:1"\n  }\n}\n'


def test_a_provisioned_aws_fleet_is_an_odcr_unless_none(tmp_path):
    (tmp_path / "main.sky.hcl").write_text('provider "aws" {}\n' + _fleet(provider='"aws"', nodes=2))
    graph = config.load(tmp_path)
    assert graph.fleets["fleet.pool"].reservation == "odcr"
    (tmp_path / "main.sky.hcl").write_text('provider "aws" {}\n' + _fleet(provider='"aws"', nodes=2,
                                                                       reservation='"none"', duration_hours=48))
    f = config.load(tmp_path).fleets["fleet.pool"]
    assert f.reservation is None and f.duration_hours == 48


@pytest.mark.parametrize("attrs, message", [
    ({"provider": '"gcp"', "nodes": 2, "reservation": '"odcr"'}, "is an EC2 capacity reservation"),
    ({"provider": '"aws"', "nodes": 2, "reservation": '"capacity_block"'}, "A Capacity Block is bought for a fixed time"),
    ({"provider": '"aws"', "nodes": 2, "reservation": '"capacity_block"', "duration_hours": 24, "start": '"soon"'},
     'start = "soon" is not an RFC 3339 time'),
    ({"provider": '"aws"', "nodes": 2, "duration_hours": 24, "start": '"2026-12-24T11:30:00Z"'},
     "start is the earliest start of a Capacity Block"),
    ({"provider": '"gcp"', "nodes": 2, "reservation": '"capacity_block"', "duration_hours": 24},
     "this fleet's provider is gcp"),
    ({"provider": '"aws"', "nodes": 2, "reservation_id": '"cr-1"'}, "reservation_id names a reservation"),
    ({"provider": '"aws"', "existing": "true", "reservation": '"odcr"', "reservation_id": '"cr-1"'},
     "reservation applies to a provisioned fleet"),
])
def test_reservation_attributes_that_cannot_hold_are_errors_with_a_position(tmp_path, attrs, message):
    diags, root = _load(tmp_path, _fleet(**attrs))
    errors = [d for d in diags if d.severity == "error"]
    assert any(message in d.summary for d in errors), [d.summary for d in errors]
    assert all(d.source is not None for d in errors)


def test_a_brought_reservation_needs_no_capacity_block(tmp_path):
    (tmp_path / "main.sky.hcl").write_text(
        'provider "aws" {}\nfleet "shared" {\n  provider = "aws"\n  existing = true\n'
        '  reservation_id = "cr-0123456789abcdef0"\n}\n')
    f = config.load(tmp_path).fleets["fleet.shared"]
    assert f.existing and f.reservation_id == "cr-0123456789abcdef0" and f.capacity == ()


def test_a_provisioned_azure_fleet_is_a_capacity_reservation_and_odcr_is_refused_there(tmp_path):
    head = 'provider "azure" {\n  subscription_id = "s"\n}\n'
    (tmp_path / "main.sky.hcl").write_text(head + _fleet(provider='"azure"', nodes=2))
    assert config.load(tmp_path).fleets["fleet.pool"].reservation == "capacity_reservation"
    (tmp_path / "main.sky.hcl").write_text(head + _fleet(provider='"azure"', nodes=2, reservation='"odcr"'))
    errors = [d for d in config.validate(tmp_path) if d.severity == "error"]
    assert any("is an EC2 capacity reservation" in d.summary and 'reservation = "capacity_reservation"' in
               (d.hint or "") for d in errors), [(d.summary, d.hint) for d in errors]


def test_an_existing_kubernetes_fleet_without_capacity_is_its_live_nodes_but_aws_needs_one(tmp_path):
    (tmp_path / "main.sky.hcl").write_text(
        'provider "kubernetes" {}\nfleet "cluster" {\n  provider = "kubernetes"\n  existing = true\n}\n')
    f = config.load(tmp_path).fleets["fleet.cluster"]
    assert f.existing and f.capacity == ()
    (tmp_path / "main.sky.hcl").write_text('provider "aws" {}\nfleet "p" {\n  provider = "aws"\n  existing = true\n}\n')
    errors = [d for d in config.validate(tmp_path) if d.severity == "error"]
    assert any("needs at least one capacity block" in d.summary for d in errors)

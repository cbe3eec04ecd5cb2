"""The quick constructor of frozen dataclasses gives what the dataclass gives."""

from __future__ import annotations

import pytest

from skyplan.catalog.offer import Offer
from skyplan.frozen import maker
from skyplan.solver.model import Candidate, Placement


def test_the_quick_constructor_gives_what_the_dataclass_gives():
    values = ("aws", "us-east-1", "us-east-1a", "m5.large", "spot", 0.1, 2, None, "T4:1", 4.0, 16.0, None, None)
    quick = maker(Placement)(*values)
    assert quick == Placement(*values) and hash(quick) == hash(Placement(*values)) and quick.hourly_cost == 0.2
    assert maker(Candidate)("aws/us-east-1", "m5.large", 2, 8, None, "spot", 0.1, 1.0, True, "x86_64") == \
        Candidate("aws/us-east-1", "m5.large", 2, 8, None, "spot", 0.1, 1.0, True, "x86_64")
    offer = Offer("gcp", "us-central1", "us-central1-a", "a2-highgpu-1g", "A100", 1.0, 40.0, 12, 85.0)
    row = tuple(getattr(offer, f) for f in Offer.__dataclass_fields__)
    again = maker(Offer)(*row)
    assert again == offer and again.accelerators == "A100:1"


def test_a_short_row_is_refused():
    with pytest.raises(TypeError):
        maker(Candidate)("aws/us-east-1", "m5.large")

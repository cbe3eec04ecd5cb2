"""What a plan says about Capacity Blocks in every rendering (text, JSON,
Markdown): when a workload on a block not started yet starts, and that
destroying a bought block cannot cancel it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jsonschema

from skyplan.addrs import Address
from skyplan.config.model import Fleet, Resources, resource_hash
from skyplan.planner import PlanOptions, plan
from skyplan.planner.render_json import to_document
from skyplan.planner.render_markdown import render_markdown
from skyplan.planner.render_text import render_text
from skyplan.providers.base import Instance
from skyplan.state.model import GroupRecord, ResourceRecord
from tests.planner.builders import LINEAGE, graph, place, snapshot, solution, workload, wplace

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "plan.schema.json").read_text())
ON_BLOCK = dataclasses.replace(place(pricing="reserved", price=0.0), fleet="fleet.block",
                               reservation="cr-0b10c4", starts_at="2026-12-03T10:00:00+00:00")


def waiting_plan():
    job = workload("train", kind="job", duration_hours=4)
    return plan(graph(job), solution(wplace("workload.train", ON_BLOCK)), snapshot(), None, PlanOptions())


def test_a_workload_on_a_block_not_started_says_when_it_starts_in_text_json_and_markdown():
    p = waiting_plan()
    assert "workload.train: aws/us-east-1/us-east-1a p5.48xlarge H100:8 reserved x1 $0.00/h, " \
           "waits for fleet.block, starts 2026-12-03T10:00Z" in render_text(p)
    doc = to_document(p)
    jsonschema.validate(doc, SCHEMA)
    (entry,) = doc["placements"]
    assert entry["waits_for"] == {"fleet": "fleet.block", "starts_at": "2026-12-03T10:00:00+00:00"}
    assert entry["after"][0]["starts_at"] == "2026-12-03T10:00:00+00:00"
    md = render_markdown(p)
    head = md.split("<details>")[0]  # said before the folded plan, not only inside it
    assert "`workload.train` waits for fleet.block, starts 2026-12-03T10:00Z" in head


def test_a_workload_that_runs_now_has_no_wait_anywhere():
    job = workload("train", kind="job", duration_hours=4)
    p = plan(graph(job), solution(wplace("workload.train", place())), snapshot(), None, PlanOptions())
    assert "waits for" not in render_text(p) and "waits for" not in render_markdown(p)
    assert "waits_for" not in to_document(p)["placements"][0]


BLOCK = Fleet(Address("fleet", "block"), provider="aws", nodes=1, resources=Resources(),
              reservation="capacity_block", duration_hours=24, keep=True)


def block_record() -> ResourceRecord:
    at = place(pricing="reserved", price=0.0)
    inst = Instance("aws", "cr-0b10c4", "fleet.block", LINEAGE, 0, 0, "us-east-1", "us-east-1a", "p5.48xlarge",
                    "reserved", attributes={"reservation": "capacity_block", "end_date": "2026-12-04T10:00:00+00:00"})
    return ResourceRecord("fleet.block", "fleet", "running", (GroupRecord(at, (inst,)),), BLOCK.attributes(),
                          resource_hash(BLOCK))


def test_destroying_a_bought_block_warns_it_stays_billed_in_text_json_and_markdown():
    p = plan(graph(), solution(), snapshot(block_record()), None, PlanOptions(destroy=True))
    warning = ("a Capacity Block cannot be cancelled on EC2: skyplan forgets it, and it stays billed until its end "
               "(2026-12-04T10:00:00+00:00)")
    assert warning in render_text(p)
    doc = to_document(p)
    jsonschema.validate(doc, SCHEMA)
    (rc,) = doc["resource_changes"]
    assert rc["capacity_block_kept"] == {"reservation_id": "cr-0b10c4", "ends_at": "2026-12-04T10:00:00+00:00",
                                         "message": warning}
    head = render_markdown(p).split("<details>")[0]
    assert f"`fleet.block`: {warning}" in head

"""The drift report: JSON validated by its schema, Markdown and text."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

import skyplan
from skyplan.drift import refresh, render_markdown, render_text, report_json
from tests.drift.memory_provider import MemoryProvider, record, snapshot

SCHEMA = json.loads((Path(skyplan.__file__).parent / "schemas" / "drift.schema.json").read_text())


@pytest.fixture
def drifted():
    mem = MemoryProvider()
    a = mem.add("workload.serve", tags={"team": "ml"})
    b0, b1 = mem.add("workload.train", rank=0), mem.add("workload.train", rank=1)
    snap = snapshot(record("workload.serve", [[a]], kind="service"), record("workload.train", [[b0, b1]]))
    mem.change(a.id, tags={**a.tags, "team": "ops|x"})
    mem.delete([b1])
    orphan = mem.add("workload.ghost")
    return refresh(snap, {"mem": mem}), a, b1, orphan


def test_json_counts_coverage_and_schema(drifted):
    r, a, b1, orphan = drifted
    data = report_json(r, timestamp="2026-11-28T00:00:00Z")
    jsonschema.validate(data, SCHEMA)
    assert data["summary"]["changed"] == 1 and data["summary"]["missing"] == 1 and data["summary"]["unmanaged"] == 1
    assert data["summary"]["objects"] == {"managed": 2, "unmanaged": 1, "total": 3}
    assert data["summary"]["coverage"] == pytest.approx(2 / 3, abs=1e-4)
    assert not data["in_sync"]
    cats = [(i["category"], i["address"], i["provider_ids"]) for i in data["items"]]
    assert cats == [("changed", "workload.serve", [a.id]), ("missing", "workload.train", [b1.id]),
                    ("unmanaged", "workload.ghost", [orphan.id])]
    assert data["items"][0]["paths"] == ["tags.team"]
    json.dumps(data)  # plain JSON


def test_in_sync_json_validates():
    mem = MemoryProvider()
    a = mem.add("workload.x")
    data = report_json(refresh(snapshot(record("workload.x", [[a]])), {"mem": mem}))
    jsonschema.validate(data, SCHEMA)
    assert data["in_sync"] and data["items"] == [] and data["summary"]["coverage"] == 1.0


def test_schema_rejects_a_changed_item_without_paths(drifted):
    data = report_json(drifted[0])
    data["items"][0]["paths"] = []
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)


def test_text_like_terraform(drifted):
    r, a, b1, orphan = drifted
    text = render_text(report_json(r))
    assert text.startswith("Objects have changed outside of skyplan\n")
    assert "# workload.serve has changed" in text
    assert '~ tags.team: "ml" -> "ops|x"' in text
    assert "# workload.train has lost nodes" in text and "- 1 of 2 node(s) gone: group 0 rank(s) 1" in text
    assert "# workload.ghost is not managed by skyplan" in text and orphan.id in text
    assert "Drift: 1 changed, 1 missing, 1 unmanaged; coverage 67%" in text


def test_text_markup_is_escaped(drifted):
    from rich.text import Text

    marked = render_text(report_json(drifted[0]), markup=True)
    assert Text.from_markup(marked).plain == render_text(report_json(drifted[0]))


def test_in_sync_text():
    mem = MemoryProvider()
    a = mem.add("workload.x")
    text = render_text(report_json(refresh(snapshot(record("workload.x", [[a]])), {"mem": mem})))
    assert text.startswith("No drift")


def test_markdown_table_and_escaping(drifted):
    from markdown_it import MarkdownIt

    r, a, b1, orphan = drifted
    md = render_markdown(report_json(r))
    assert md.startswith("## skyplan drift: 3 resource(s) drifted")
    assert f"| missing | `workload.train` | mem | `{b1.id}` |" in md
    html = MarkdownIt().enable("table").render(md)
    assert html.count("<tr>") == 4  # header + 3 items
    assert "! tags.team: &quot;ml&quot; -&gt; &quot;ops|x&quot;" in html


def test_markdown_is_truncated_for_comments():
    mem = MemoryProvider()
    for i in range(2000):
        mem.add(f"workload.orphan_with_a_rather_long_name_{i}")
    md = render_markdown(report_json(refresh(snapshot(), {"mem": mem})))
    assert len(md) < 65_536 and "Report truncated" in md

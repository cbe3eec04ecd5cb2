"""A service's readiness and update blocks: read into the workload, and refused with
file:line:col where they cannot mean what they say."""

from __future__ import annotations

import pytest

from skyplan import config


def _service(blocks: str, kind: str = "service", ports: str = "[8000]") -> str:
    return (f'workload "api" {{\n  kind     = "{kind}"\n  replicas = 3\n  ports    = {ports}\n'
            f'  run      = "serve"\n{blocks}}}\n')


def test_readiness_and_update_are_read_with_their_durations(tmp_path):
    (tmp_path / "main.sky.hcl").write_text(_service(
        '  readiness {\n    path = "/health"\n    initial_delay = "10m"\n    period = "500ms"\n'
        '    failure_threshold = 4\n  }\n  update {\n    max_surge = 2\n  }\n'))
    w = config.load(tmp_path).workloads["workload.api"]
    assert (w.readiness.path, w.readiness.initial_delay, w.readiness.period, w.readiness.failure_threshold) == \
        ("/health", 600.0, 0.5, 4)
    assert (w.update.strategy, w.update.max_surge, w.update.max_unavailable) == ("rolling", 2, 1)
    assert w.attributes()["readiness"]["initial_delay"] == 600.0


def test_a_service_without_the_blocks_has_the_attributes_it_had(tmp_path):
    (tmp_path / "main.sky.hcl").write_text(_service(""))
    assert "readiness" not in config.load(tmp_path).workloads["workload.api"].attributes()


@pytest.mark.parametrize("text, line, message", [
    (_service('  readiness {\n    path = "/h"\n    command = "true"\n  }\n'), 6, "exactly one of path"),
    (_service('  readiness {\n    path = "/h"\n  }\n', ports="[]"), 7, "declares no ports"),
    (_service('  readiness {\n    path = "/h"\n  }\n', kind="job"), 6, "readiness applies to a service"),
    (_service('  readiness {\n    path = "/h"\n    period = "soon"\n  }\n'), 8, 'Invalid value for "readiness.period"'),
    (_service('  update {\n    max_unavailable = 3\n  }\n'), 7, "stop every one of the 3 replicas"),
    (_service('  update {\n    strategy = "blue-green"\n  }\n'), 7, 'Invalid value for "update.strategy"'),
])
def test_blocks_that_cannot_hold_are_errors_with_a_position(tmp_path, text, line, message):
    (tmp_path / "main.sky.hcl").write_text(text)
    diags = [d for d in config.validate(tmp_path) if d.severity == "error"]
    assert diags, text
    assert any(message in d.summary for d in diags), [d.summary for d in diags]
    hit = next(d for d in diags if message in d.summary)
    assert hit.source.file.endswith("main.sky.hcl") and hit.source.line == line, (hit.source, hit.summary)


def _spot_service(spot: str, kind: str = "service", pricing: str = '["spot", "on_demand"]') -> str:
    return (f'workload "api" {{\n  kind     = "{kind}"\n  replicas = 3\n  pricing  = {pricing}\n'
            f'  run      = "serve"\n  spot {{\n{spot}  }}\n}}\n')


def test_spot_block_is_read_into_the_workload(tmp_path):
    (tmp_path / "main.sky.hcl").write_text(_spot_service(
        "    base_on_demand_replicas = 1\n    fallback_on_demand = true\n"))
    w = config.load(tmp_path).workloads["workload.api"]
    assert (w.spot.base_on_demand_replicas, w.spot.fallback_on_demand) == (1, True)
    assert w.attributes()["spot"] == {"base_on_demand_replicas": 1, "fallback_on_demand": True}


def test_a_workload_without_a_spot_block_has_the_attributes_it_had(tmp_path):
    (tmp_path / "main.sky.hcl").write_text(_service(""))
    w = config.load(tmp_path).workloads["workload.api"]
    assert w.spot is None and "spot" not in w.attributes()


@pytest.mark.parametrize("text, line, message", [
    (_spot_service("    base_on_demand_replicas = 4\n"), 7, "more than the 3 replica(s)"),
    (_spot_service("    base_on_demand_replicas = 1\n", kind="job"), 6, "spot applies to a service"),
    (_spot_service("    base_on_demand_replicas = 1\n", pricing='["on_demand"]'), 6, "pricing must allow both"),
    (_spot_service("    base_on_demand_replicas = -1\n"), 7, 'Invalid value for "spot.base_on_demand_replicas"'),
    (_spot_service("    fallback = true\n"), 7, "fallback"),
])
def test_spot_blocks_that_cannot_hold_are_errors_with_a_position(tmp_path, text, line, message):
    (tmp_path / "main.sky.hcl").write_text(text)
    diags = [d for d in config.validate(tmp_path) if d.severity == "error"]
    assert diags, text
    assert any(message in d.summary for d in diags), [d.summary for d in diags]
    hit = next(d for d in diags if message in d.summary)
    assert hit.source.file.endswith("main.sky.hcl") and hit.source.line == line, (hit.source, hit.summary)
    assert hit.source.column >= 1


def test_the_service_example_of_the_language_page_is_valid(tmp_path):
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "examples" / "README.md").read_text()
    block = text.split("A service says how", 1)[1].split("```hcl\n", 1)[1].split("```", 1)[0]
    (tmp_path / "main.sky.hcl").write_text(block)
    w = config.load(tmp_path).workloads["workload.api"]
    assert (w.spot.base_on_demand_replicas, w.spot.fallback_on_demand) == (1, True)
    assert w.readiness.initial_delay == 600.0 and w.update.max_surge == 1

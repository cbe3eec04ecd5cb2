"""Typo-sized counts are refused at once, at their file:line, before anything is
expanded: documented limits per block and per configuration, overridable in the
skyplan block's ``limits``."""

from __future__ import annotations

import json
import time

import pytest

from skyplan.cli import main


def run(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return info.value.code, out, err


def _diag(capsys, folder):
    code, out, _ = run(capsys, "validate", "--json", str(folder))
    return code, json.loads(out)["diagnostics"]


@pytest.mark.parametrize("text,line,words", [
    ('workload "a" {\n  count = 1000000\n  run = "x"\n}\n', 2, "count = 1000000 is above the limit of 10000"),
    ('workload "a" {\n  for_each = { for i in range(20000) : tostring(i) => i }\n}\n', 2,
     "for_each has 20000 elements, above the limit of 10000"),
    ('workload "a" {\n  replicas = 1000000000\n}\n', 2, "replicas = 1000000000 is above the limit of 1000"),
    ('workload "a" {\n  num_nodes = 100000000\n}\n', 2, "num_nodes = 100000000 is above the limit of 1000"),
    ('workload "a" {\n  count = 600\n  replicas = 1000\n}\n', 1, "above the limit of 100000 nodes in the configuration"),
    ('skyplan {\n  limits {\n    instances_per_block = 5\n  }\n}\nworkload "a" {\n  count = 6\n}\n', 7,
     "count = 6 is above the limit of 5"),
    ('skyplan {\n  limits {\n    instances = 5\n  }\n}\nworkload "a" {\n  count = 3\n}\nworkload "b" {\n  count = 3\n}\n',
     10, "above the limit of 5 workloads and fleets in the configuration"),
])
def test_limits_are_errors_at_the_line(write_config, capsys, text, line, words):
    t = time.perf_counter()
    code, diags = _diag(capsys, write_config(text))
    assert time.perf_counter() - t < 30
    assert code == 1
    [d] = [d for d in diags if words in d["summary"]]
    assert d["line"] == line, d
    assert "limits" in d["hint"], d


def test_raised_limits_allow_more(write_config, capsys):
    d = write_config('skyplan {\n  limits {\n    replicas = 5000\n  }\n}\nworkload "a" {\n  replicas = 2000\n}\n')
    code, diags = _diag(capsys, d)
    assert code == 0, diags


def test_limits_must_be_positive_whole_numbers(write_config, capsys):
    d = write_config('skyplan {\n  limits {\n    replicas = 0\n  }\n}\n')
    code, diags = _diag(capsys, d)
    assert code == 1 and diags[0]["line"] == 3


def test_plan_refuses_a_typo_sized_replica_count_at_once(write_config, capsys):
    d = write_config('workload "a" {\n  replicas = 1000000000\n  run = "x"\n}\n')
    t = time.perf_counter()
    code, _, err = run(capsys, "plan", str(d))
    assert code == 1 and "main.sky.hcl:2:3" in err and time.perf_counter() - t < 30

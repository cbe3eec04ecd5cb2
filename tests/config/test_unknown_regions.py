"""Region and zone names the catalog does not know for that provider are validation
errors at their file:line:col, with "did you mean" from that provider's regions; and
solver failures that come from one configuration value name where that value is."""

from __future__ import annotations

import json

import pytest

from skyplan.cli import main


def run(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return info.value.code, out, err


def _diags(capsys, folder):
    code, out, _ = run(capsys, "validate", "--json", str(folder))
    return code, json.loads(out)["diagnostics"]


@pytest.mark.parametrize("text,summary,line,col,hint", [
    ('provider "aws" {\n  regions = ["mars-1"]\n}\n', 'Unknown aws region "mars-1"', 2, 14, None),
    ('provider "aws" {\n  regions = ["us-east-1", "us-central1"]\n}\n', 'Unknown aws region "us-central1"', 2, 27,
     "a gcp region"),
    ('provider "aws" {\n  regions = ["us-eats-1"]\n}\n', 'Unknown aws region "us-eats-1"', 2, 14, 'did you mean "us-east-1"'),
    ('provider "gcp" {\n  regions = ["mars-*"]\n}\n', 'No gcp region matches "mars-*"', 2, 14, None),
    ('provider "aws" {\n  regions = ["us-east-1"]\n}\nworkload "a" {\n  placement {\n    zones = ["us-east-1z"]\n  }\n}\n',
     'Unknown aws zone "us-east-1z"', 6, 14, 'did you mean "us-east-1'),
    ('provider "aws" {}\nworkload "a" {\n  placement {\n    regions = ["europe-west4"]\n  }\n}\n',
     'Unknown aws region "europe-west4"', 4, 16, "a gcp region"),
    ('provider "aws" {}\nfleet "f" {\n  provider = "aws"\n  region   = "mars-1"\n  nodes    = 1\n}\n',
     'Unknown aws region "mars-1"', 4, 3, None),
    ('provider "aws" {\n  quota {\n    vcpus  = 8\n    region = "mars-1"\n  }\n}\n',
     'Unknown aws region "mars-1"', 4, 5, None),
])
def test_unknown_region_is_a_validation_error(write_config, capsys, text, summary, line, col, hint):
    code, diags = _diags(capsys, write_config(text))
    assert code == 1
    [d] = [d for d in diags if d["summary"].startswith(summary)]
    assert (d["line"], d["col"]) == (line, col), d
    if hint:
        assert hint in d["hint"] + d["detail"], d


@pytest.mark.parametrize("text", [
    'provider "aws" {\n  regions = ["us-east-1", "us-*", "eu-west-1"]\n}\nworkload "a" {\n'
    '  placement {\n    regions = ["us-east-1"]\n    zones = ["us-east-1a"]\n  }\n}\n',
    'provider "kubernetes" {}\nworkload "a" {\n  placement { regions = ["onprem-dc1"] }\n}\n',  # cluster regions are live
    'workload "a" {\n  placement { regions = ["anything"] }\n}\n',  # only local: nothing to look up
])
def test_known_regions_and_live_providers_pass(write_config, capsys, text):
    code, diags = _diags(capsys, write_config(text))
    assert code == 0, diags


@pytest.mark.parametrize("text,where,words", [
    ('provider "aws" {}\nworkload "a" {\n  resources {\n    accelerators = ["H100:64"]\n  }\n}\n',
     "main.sky.hcl:4:5", "H100:64"),
    ('workload "a" {\n  resources {\n    accelerators = ["A100:1"]\n  }\n}\n', "main.sky.hcl:3:5", "A100"),
    ('skyplan {\n  max_hourly_cost = 0.001\n}\nprovider "aws" {}\nworkload "a" {\n  resources { cpus = 2 }\n}\n',
     "main.sky.hcl:2:3", "max_hourly_cost"),
    ('provider "aws" {}\nworkload "a" {\n  resources { cpus = 2 }\n  max_hourly_cost = 0.0001\n}\n',
     "main.sky.hcl:4:3", "max_hourly_cost"),
])
def test_solver_errors_name_the_value(write_config, capsys, text, where, words):
    d = write_config(text)
    code, out, err = run(capsys, "plan", "-refresh=false", str(d))
    assert code == 1
    assert where in err and words in err, err
    code, out, err = run(capsys, "optimize", str(d))
    assert code == 1 and where in err, err

"""An attribute set twice in one block is an error pointing at both places, as
Terraform's "Attribute redefined" (never the last one silently winning)."""

from __future__ import annotations

import json

import pytest

from skyplan.cli import main


def run(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return info.value.code, out, err


@pytest.mark.parametrize("text,line,first", [
    ('workload "a" {\n  run = "x"\n  run = "y"\n}\n', 3, "2:3"),
    ('provider "aws" {\n  regions = ["us-east-1"]\n  regions = ["us-west-2"]\n}\n', 3, "2:3"),
    ('workload "a" {\n  resources {\n    cpus = 2\n    cpus = 4\n  }\n}\n', 4, "3:5"),
    ('locals {\n  a = 1\n  a = 2\n}\n', 3, "2:3"),
    ('skyplan {\n  state {\n    path = "a.db"\n    path = "b.db"\n  }\n}\n', 4, "3:5"),
])
def test_attribute_redefined(write_config, capsys, text, line, first):
    d = write_config(text)
    code, out, err = run(capsys, "validate", "--json", str(d))
    assert code == 1
    diags = json.loads(out)["diagnostics"]
    [redef] = [x for x in diags if x["summary"].startswith("Attribute redefined")]
    assert redef["line"] == line
    assert f"main.sky.hcl:{first}" in redef["detail"]
    assert len(diags) == 1, diags  # said once, not again as another kind of duplicate


def test_attribute_redefined_text(write_config, capsys):
    d = write_config('workload "a" {\n  run = "x"\n  run = "y"\n}\n')
    code, _, err = run(capsys, "validate", str(d))
    assert code == 1
    assert 'main.sky.hcl:3:3: Attribute redefined' in err
    assert 'The argument "run" was already set at ' in err and 'main.sky.hcl:2:3. Each argument' in err


def test_same_name_in_different_blocks_is_fine(write_config, capsys):
    d = write_config('workload "a" {\n  run = "x"\n}\nworkload "b" {\n  run = "x"\n  resources { cpus = 2 }\n'
                     '  placement { regions = ["*"] }\n}\n')
    code, _, err = run(capsys, "validate", str(d))
    assert code == 0, err

"""validate / graph / console through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skyplan.addrs import Address
from skyplan.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return info.value.code, out, err


def test_validate_ok_and_invalid(write_config, capsys):
    ok = write_config('workload "a" { run = "x" }', folder="ok")
    code, out, _ = run(capsys, "validate", str(ok))
    assert code == 0 and "valid" in out
    bad = write_config('workload "a" {\n  nmu_nodes = 1\n}\n', folder="bad")
    code, _, err = run(capsys, "validate", str(bad))
    assert code == 1
    assert 'main.sky.hcl:2:3' in err and 'did you mean "num_nodes"?' in err and "Traceback" not in err


def test_validate_json_lists_diagnostics(write_config, capsys):
    bad = write_config('workload "a" {\n  kind = "batch"\n}\n')
    code, out, _ = run(capsys, "validate", "--json", str(bad))
    data = json.loads(out)
    assert code == 1 and data["valid"] is False
    d = data["diagnostics"][0]
    assert {"file", "line", "col", "severity", "summary", "detail"} <= set(d) and d["line"] == 2


def test_terraform_var_spellings(write_config, capsys, tmp_path):
    d = write_config('variable "n" { type = number }\nworkload "a" { num_nodes = var.n }')
    assert run(capsys, "validate", str(d), "-var", "n=2")[0] == 0
    vf = tmp_path / "x.skyvars.hcl"
    vf.write_text("n = 3\n")
    assert run(capsys, "validate", str(d), "-var-file", str(vf))[0] == 0
    code, _, err = run(capsys, "validate", str(d), "-var", "n=abc")
    assert code == 1 and 'Invalid value for variable "n"' in err


def test_graph_prints_dot(capsys):
    code, out, _ = run(capsys, "graph", str(EXAMPLES / "multinode-spot-training"))
    assert code == 0 and out.startswith("digraph skyplan {")
    assert '"workload.train" -> "workload.preprocess";' in out


def test_console_evaluates_expressions(write_config, capsys):
    d = write_config('locals { xs = [for i in range(3) : i * 2] }\nworkload "a" { run = "x" }')
    code, out, _ = run(capsys, "console", str(d), "-e", "local.xs", "-e", "workload.a.ip")
    assert code == 0 and out.split() == ["[", "0,", "2,", "4,", "]", "(known", "after", "apply)"]
    code, out, _ = run(capsys, "console", str(d), "-e", "{a = local.xs[1]}", "--json")
    assert json.loads(out) == {"a": 2}
    code, _, err = run(capsys, "console", str(d), "-e", "local.nope")
    assert code == 1 and "local.nope" in err


@pytest.mark.parametrize("cmd", ["validate", "graph", "console"])
def test_help(cmd, capsys):
    code, out, _ = run(capsys, cmd, "--help")
    assert code == 0 and "Usage" in out


@pytest.mark.parametrize("name", ["finetune-single-gpu", "multinode-spot-training", "inference-service", "module-library"])
def test_examples_validate(name):
    from skyplan.config import load

    g = load(EXAMPLES / name)
    assert g.workloads
    assert all(p in ("aws", "gcp") for p in g.providers)


def test_example_contents():
    from skyplan.config import load

    lib = load(EXAMPLES / "module-library").workloads
    assert lib['module.serve["qwen"].workload.api'].placement.spread == "region"
    shard = lib['module.batch.module.shards["reviews"].workload.shard[0]']
    assert Address("workload", "prepare", "reviews", ("batch",)) in shard.depends_on

    train = load(EXAMPLES / "multinode-spot-training").workloads["workload.train"]
    assert train.num_nodes == 4 and "spot" in train.pricing and len(train.depends_on) == 1
    api = load(EXAMPLES / "inference-service").workloads["workload.api"]
    assert api.replicas == 3 and api.placement.spread == "region" and api.kind == "service"


def test_validate_does_not_import_cloud_sdks_or_ortools():
    import subprocess
    import sys

    code = ("import sys; from skyplan.cli import main\n"
            "try:\n    main(['validate', %r])\nexcept SystemExit: pass\n"
            "bad = [m for m in ('boto3', 'kubernetes', 'ortools', 'google.cloud', 'google.auth', 'azure')\n"
            "       if m in sys.modules]\n"
            "print(bad)" % str(EXAMPLES / "inference-service"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert out.strip().endswith("[]")


def test_console_hides_sensitive_values(write_config, capsys):
    d = write_config('variable "t" {\n  default = "s3cr3t"\n  sensitive = true\n}\nlocals { u = upper(var.t) }\n'
                     'workload "a" { run = "x" }')
    code, out, _ = run(capsys, "console", str(d), "-e", "local.u", "-e", "length(var.t)")
    assert code == 0 and "S3CR3T" not in out and out.count("(sensitive value)") == 2


def test_the_language_page_in_examples_readme_is_valid(tmp_path):
    from skyplan.config import load

    text = (EXAMPLES / "README.md").read_text()
    block = text.split("```hcl\n", 1)[1].split("```", 1)[0]
    (tmp_path / "main.sky.hcl").write_text(block)
    (tmp_path / "prices.csv").write_text("")
    g = load(tmp_path)
    assert len([a for a in g.workloads if a.startswith("workload.train[")]) == 4
    assert set(g.providers) == {"aws", "aws.eu", "kubernetes"}


def test_console_reads_standard_input_and_goes_on_after_errors(write_config, capsys, monkeypatch):
    import io

    d = write_config('locals { n = 2 }\nworkload "a" { run = "x" }')
    monkeypatch.setattr("sys.stdin", io.StringIO("local.n * 3\nlocal.nope\n\nupper(\"ok\")\n"))
    code, out, err = run(capsys, "console", str(d))
    assert code == 0 and out.split() == ["6", '"OK"'] and "local.nope" in err

"""Modules: expansion cases as data (a module tree -> the addresses and values it
expands to), count/for_each on module blocks, keyed module addresses, inputs checked
at the caller's line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skyplan.addrs import Address
from skyplan.config import load, validate

CASES = Path(__file__).parent / "module_cases"


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_module_tree_expands_to_the_expected_addresses_and_values(case):
    want = json.loads((CASES / case / "expected.json").read_text())
    g = load(CASES / case / "root")
    assert sorted(g.workloads) == sorted(want["workloads"])
    for addr, attrs in want["workloads"].items():
        w = g.workloads[addr]
        assert str(w.address) == addr and Address.parse(addr) == w.address
        for k, v in attrs.items():
            if k == "depends_on":
                got = [str(a) for a in w.depends_on]
            elif k == "placement.providers":
                got = list(w.placement.providers)
            else:
                got = getattr(w, k)
            assert got == v, (addr, k)
    for name, value in want["outputs"].items():
        assert g.outputs[name].value == value


def test_keyed_module_addresses_round_trip():
    for text in ('module.serve["eu"].workload.api[1]', "module.a[0].module.b.fleet.pool", "workload.x"):
        assert str(Address.parse(text)) == text
    assert Address.parse('module.serve["eu"].workload.api[1]').module == ('serve["eu"]',)


def test_target_a_module_instance_or_every_instance():
    from skyplan.planner.targets import select
    from skyplan.state.model import Snapshot

    declared = {a: None for a in ('module.serve["eu"].workload.api[0]', 'module.serve["us"].workload.api[0]', "workload.x")}
    snap = Snapshot(lineage="l", serial=0, resources={})
    assert select(['module.serve["eu"]'], declared, snap, {}) == {'module.serve["eu"].workload.api[0]'}
    assert select(["module.serve"], declared, snap, {}) == {'module.serve["eu"].workload.api[0]',
                                                            'module.serve["us"].workload.api[0]'}


def _errors(d):
    return [(x.summary, x.source.file.rsplit("/", 1)[-1] if x.source else None, x.source.line if x.source else None,
             x.hint) for x in validate(d) if x.severity == "error"]


MOD = '''variable "model" { type = string }
variable "gpus" {
  type    = number
  default = 1
  validation {
    condition     = var.gpus > 0
    error_message = "gpus must be positive"
  }
}
workload "w" { run = "x ${var.model} ${var.gpus}" }
'''


@pytest.mark.parametrize("call, summary, line", [
    ('module "m" {\n  source = "./mod"\n}', 'Missing required input "model" for module.m', 1),
    ('module "m" {\n  source = "./mod"\n  model = "a"\n  gpus = "many"\n}', 'Invalid value for input "gpus" of module.m', 4),
    ('module "m" {\n  source = "./mod"\n  model = "a"\n  gpu = 2\n}', 'Unsupported input "gpu" for module.m', 4),
    ('module "m" {\n  source = "./mod"\n  model = "a"\n  gpus = 0\n}', 'Invalid value for input "gpus": gpus must be positive', 4),
    ('module "m" {\n  for_each = toset(["a"])\n  source = "./mod"\n  gpus = 0\n}', 'Missing required input "model" for module.m["a"]', 1),
    ('module "m" {\n  source = "./nope"\n}', "Module folder not found: ./nope", 2),
    ('module "m" {\n  source = "./mod"\n  model = "a"\n  version = "1.0"\n}', "version applies only to registry", 4),
    ('module "m" {\n  source = "./mod"\n  model = "a"\n  providers = ["aws"]\n}', 'Invalid value for "providers" in module "m"', 4),
    ('module "m" {\n  source = "./mod"\n  model = "a"\n  providers = { local = local.nope }\n}',
     'undeclared provider "local.nope"', None),
    ('module "m" {\n  source = "git::file:///nowhere/repo.git?ref=v1"\n}', "is not installed", 2),
    ('module "m" {\n  source = "git::file:///r.git?depth=1"\n}', 'Unsupported query "depth=1"', 2),
])
def test_bad_module_calls_are_reported_at_the_callers_line(write_config, call, summary, line):
    d = write_config(call)
    (d / "mod").mkdir()
    (d / "mod" / "main.sky.hcl").write_text(MOD)
    found = _errors(d)
    assert any(summary in s and (line is None or (f == "main.sky.hcl" and ln == line)) for s, f, ln, _h in found), found


def test_a_failing_validation_names_the_modules_line(write_config):
    d = write_config('module "m" {\n  source = "./mod"\n  model = "a"\n  gpus = 0\n}')
    (d / "mod").mkdir()
    (d / "mod" / "main.sky.hcl").write_text(MOD)
    [(_s, _f, _ln, hint)] = _errors(d)
    assert "validation block" in hint and "main.sky.hcl:6:" in hint


def test_outputs_of_for_each_module_instances_are_read_back_after_apply(write_config):
    from skyplan.config import evaluate_outputs

    d = write_config('module "m" {\n  for_each = toset(["eu", "us"])\n  source = "./mod"\n}\n'
                     'output "ips" { value = { for k, m in module.m : k => m.ip } }\n')
    (d / "mod").mkdir()
    (d / "mod" / "main.sky.hcl").write_text('workload "w" { run = "x" }\noutput "ip" { value = workload.w.ip }\n')
    g = load(d)
    got = evaluate_outputs(g, {'module.m["eu"].workload.w': {"ip": "10.0.0.1"}, 'module.m["us"].workload.w': {"ip": "10.0.0.2"}})
    assert got["ips"] == {"eu": "10.0.0.1", "us": "10.0.0.2"}

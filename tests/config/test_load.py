"""load(): from a folder of *.sky.hcl files to the DesiredGraph."""

from __future__ import annotations

import os

import pytest

from skyplan.addrs import Address
from skyplan.config import evaluate_outputs, load, validate
from skyplan.config.model import UNKNOWN, AcceleratorReq, ProviderConfig, Quantity, Quota
from skyplan.errors import DiagnosticsError

MAIN = '''
skyplan {
  catalog = "prices.csv"
  state { path = "state/db.sqlite" }
}
variable "gpus" {
  type    = number
  default = 8
}
locals {
  acc    = "H100:${var.gpus}"
  shards = toset(["b", "a"])
}
provider "aws" {
  regions = ["us-east-1", "us-west-2"]
  quota {
    accelerator = "nvidia-h100-80gb"
    region      = "us-*"
    max         = 16
  }
  quota { vcpus = 512 }
}
provider "aws" {
  alias = "eu"
  regions = ["eu-west-1"]
}
fleet "pool" {
  provider = "aws"
  existing = true
  capacity {
    accelerator = "A100"
    per_node    = 8
    nodes       = 2
  }
}
workload "prep" {
  resources { cpus = "8+" }
  data_gb = 50
}
workload "train" {
  resources {
    accelerators = [local.acc, "a100-80gb:8"]
    memory       = 64
  }
  num_nodes = 2
  pricing   = ["spot", "on-demand"]
  placement {
    providers = ["aws", "aws.eu"]
    fleet     = fleet.pool
  }
  env = { PREP = workload.prep.ip, N = 3 }
}
workload "shard" {
  for_each   = local.shards
  run        = "shard ${each.key}"
  depends_on = [workload.train]
}
workload "rep" {
  count = 2
  run   = "rep ${count.index}"
  placement { colocate_with = workload.shard["a"] }
}
output "prep_ip" { value = workload.prep.ip }
output "runs" { value = [for r in workload.rep : r.run] }
'''


def test_a_full_configuration_becomes_the_desired_graph(write_config):
    d = write_config(MAIN, prices__csv="")
    g = load(d)
    assert g.root == str(d)
    assert set(g.workloads) == {"workload.prep", "workload.train", 'workload.shard["a"]', 'workload.shard["b"]',
                                "workload.rep[0]", "workload.rep[1]"}
    train = g.workloads["workload.train"]
    assert train.resources.accelerators == (AcceleratorReq("H100", 8), AcceleratorReq("A100-80GB", 8))
    assert train.resources.memory == Quantity(64, at_least=False)
    assert g.workloads["workload.prep"].resources.cpus == Quantity(8, at_least=True)
    assert train.pricing == ("spot", "on_demand")
    assert train.num_nodes == 2
    assert train.placement.fleet == "fleet.pool"
    assert train.env == {"PREP": UNKNOWN, "N": "3"}
    assert train.depends_on == (Address("fleet", "pool"), Address("workload", "prep"))
    assert g.workloads['workload.shard["a"]'].depends_on == (Address("workload", "train"),)
    assert g.workloads['workload.shard["a"]'].run == "shard a"
    rep = g.workloads["workload.rep[1]"]
    assert rep.run == "rep 1" and rep.placement.colocate_with == 'workload.shard["a"]'
    assert rep.depends_on == (Address("workload", "shard", "a"),)
    assert set(g.providers) == {"aws", "aws.eu"}
    assert g.providers["aws"].quotas == (Quota("H100", 16, "us-*"), Quota("vcpus", 512, None))
    assert g.fleets["fleet.pool"].existing and g.fleets["fleet.pool"].capacity[0].accelerator == "A100"
    assert g.settings.catalog == os.path.join(str(d), "prices.csv")
    assert g.settings.state_path == os.path.join(str(d), "state", "db.sqlite")
    assert g.outputs["prep_ip"].value is UNKNOWN
    assert g.outputs["runs"].value == ["rep 0", "rep 1"]
    assert g.topological_order().index("workload.prep") < g.topological_order().index("workload.train")
    assert len(g.config_hash) == 64


def test_outputs_are_re_evaluated_with_known_attributes(write_config):
    g = load(write_config(MAIN, prices__csv=""))
    out = evaluate_outputs(g, {"workload.prep": {"ip": "10.0.0.7"}})
    assert out["prep_ip"] == "10.0.0.7"
    assert out["runs"] == ["rep 0", "rep 1"]
    assert evaluate_outputs(g, {})["prep_ip"] is UNKNOWN


def test_no_provider_block_means_the_local_provider(write_config):
    g = load(write_config('workload "a" { run = "echo hi" }'))
    assert g.providers == {"local": ProviderConfig(kind="local")}


def test_config_hash_follows_files_and_variables(write_config):
    d = write_config('variable "x" { default = "a" }\nworkload "a" { run = var.x }')
    h1 = load(d).config_hash
    assert load(d).config_hash == h1
    assert load(d, vars={"x": "b"}).config_hash != h1


def test_every_file_of_the_folder_is_read(write_config):
    d = write_config('workload "a" { run = local.cmd }', other__sky__hcl='locals { cmd = "x" }',
                     ignored__hcl='this is not loaded {')
    assert load(d).workloads["workload.a"].run == "x"


VARS = '''
variable "region" {
  type    = string
  default = "default"
}
variable "sizes" {
  type    = list(number)
  default = [1]
}
variable "cfg" {
  type = object({ name = string, gpus = optional(number, 1) })
  default = { name = "d" }
}
variable "secret" {
  type      = string
  default   = "s3cr3t"
  sensitive = true
}
workload "a" {
  run = "${var.region} ${jsonencode(var.sizes)} ${var.cfg.name}:${var.cfg.gpus}"
  env = { TOKEN = var.secret }
}
'''


def test_variable_precedence_defaults_env_files_flags(write_config, tmp_path):
    d = write_config(VARS)
    run = lambda **kw: load(d, **kw).workloads["workload.a"].run  # noqa: E731
    assert run(env={}) == "default [1] d:1"
    assert run(env={"SKYPLAN_VAR_region": "env", "SKYPLAN_VAR_sizes": "[2, 3]"}) == "env [2,3] d:1"
    f1 = tmp_path / "a.skyvars.hcl"
    f1.write_text('region = "file1"\ncfg = { name = "f", gpus = 4 }\n')
    f2 = tmp_path / "b.json"
    f2.write_text('{"region": "file2"}')
    assert run(env={"SKYPLAN_VAR_region": "env"}, var_files=[str(f1)]) == "file1 [1] f:4"
    assert run(env={}, var_files=[str(f1), str(f2)]) == "file2 [1] f:4"
    assert run(env={}, var_files=[str(f2)], vars={"region": "flag", "sizes": "[5]"}) == "flag [5] d:1"


def test_sensitive_variables_are_marked(write_config):
    g = load(write_config(VARS), env={})
    assert g.variables["secret"].sensitive
    assert g.workloads["workload.a"].sensitive_paths == ("env.TOKEN",)


def _summaries(d, **kw):
    return [(x.summary, x.source.line if x.source else None) for x in validate(d, **kw) if x.severity == "error"]


@pytest.mark.parametrize("text, summary, line", [
    ('workload "a" {\n  nmu_nodes = 2\n}', 'Unsupported attribute "nmu_nodes"', 2),
    ('workload "a" {\n  resources { cpu = 2 }\n}', 'Unsupported attribute "cpu" in resources block', 2),
    ('workloads "a" {}', 'Unsupported block type "workloads"', 1),
    ('workload "a" {\n  num_nodes = "two"\n}', 'Invalid value for "num_nodes"', 2),
    ('workload "a" {\n  run = "x\n}', "Syntax error", 2),
    ('workload "a" {\n  run = var.nope\n}', 'undeclared variable "var.nope"', 2),
    ('variable "n" {\n  type = number\n  default = 1\n  validation {\n    condition = var.n > 5\n    error_message = "too small"\n  }\n}',
     'Invalid value for variable "n": too small', 5),
    ('workload "a" {}\nworkload "a" {}', 'Duplicate workload "a"', 2),
    ('locals {\n  a = local.b\n  b = local.a\n}', "Cycle in the configuration: local.a -> local.b -> local.a", 2),
    ('workload "a" {\n  run = uppr("x")\n}', 'unknown function "uppr"', 2),
    ('workload "b" {}\nworkload "a" {\n  for_each = toset([workload.b.id])\n}', "for_each depends on a value known only after apply", 3),
    ('workload "a" {\n  resources { accelerators = "H1000:8" }\n}', 'Unknown accelerator "H1000"', 2),
    ('workload "b" {}\nworkload "a" {\n  num_nodes = workload.b.ip\n}', '"num_nodes" must be known when planning', 3),
    ('provider "awz" {}', 'Unknown provider "awz"', 1),
    ('workload "a" {\n  placement { providers = ["gcp"] }\n}', 'undeclared provider "gcp"', 1),
    ('workload "a" {\n  for_each = ["x"]\n}', "for_each needs a map or a set of strings", 2),
    ('workload "a" {\n  count = -1\n}', 'Invalid value for "count"', 2),
    ('workload "a" {\n  pricing = "spotty"\n}', 'Invalid value for "pricing"', 2),
    ('workload "a" {\n  placement { fleet = "fleet.none" }\n}', 'undeclared fleet "fleet.none"', 1),
    ('output "o" {\n  value = var.s\n}\nvariable "s" {\n  default = "x"\n  sensitive = true\n}', 'refers to sensitive values', 2),
    ('skyplan {\n  required_version = ">= 99"\n}', "requires skyplan >= 99", 2),
    ('skyplan {\n  catalog = "nope.csv"\n}', "Catalog file not found: nope.csv", 2),
    ('module "m" {\n  source = "git::https://example.com/m"\n}', 'Module source "git::https://example.com/m" is not installed', 2),
    ('module "m" {\n  source = "modules/m"\n}', 'Unsupported module source "modules/m"', 2),
    ('module "m" {\n  source = "./main.sky.hcl"\n}', 'Module source "./main.sky.hcl" is not a folder', 2),
    ('workload "a" {\n  depends_on = ["workload.b"]\n}', "depends_on entries must be references", 2),
    ('x = 1', 'Unexpected attribute "x" at the top level', 1),
    ('workload "a" "b" {}', "takes 1 label(s)", 1),
    ('provider "aws" {}\nprovider "aws" {}', 'Duplicate provider "aws"', 2),
    ('workload "a" {\n  count = 1\n  for_each = {}\n}', "count and for_each cannot both be set", 3),
    ('workload "a" {\n  resources {}\n  resources {}\n}', "Duplicate resources block", 3),
    ('variable "x" {\n  type = lst(string)\n}', 'Invalid type constraint for variable "x"', 2),
    ('module "m" {\n  source = "./"\n  count = -2\n}', 'Invalid value for "count" in module "m"', 3),
    ('workload "a" {\n  run = "${1}" + 1\n  env = { A = null }\n}', "Invalid value", 3),
    ('locals {\n  a = 1\n}\nlocals {\n  a = 2\n}', 'Duplicate local value "a"', 5),
    ('workload "s" {}\nworkload "a" {\n  run = workload.s[0].run\n}', "Unexpected index [0]: workload.s has no count or for_each", 3),
    ('workload "s" {\n  count = 2\n}\nworkload "a" {\n  placement { colocate_with = workload.s }\n}',
     '"placement.colocate_with" in workload "a": a list of 2 instances (workload.s[0], workload.s[1])', 5),
])
def test_mistakes_are_diagnostics_with_positions(write_config, text, summary, line):
    found = _summaries(write_config(text))
    assert any(summary in s and ln == line for s, ln in found), found


def test_a_value_below_its_minimum_has_a_readable_hint(write_config):
    found = [x for x in validate(write_config('workload "a" {\n  count = -1\n}')) if x.severity == "error"]
    assert [x.hint for x in found] == ["expected a whole number >= 0"], found


def test_for_each_over_a_set_of_numbers_says_to_convert_them(write_config):
    [d] = [x for x in validate(write_config('workload "a" {\n  for_each = toset([1, 2])\n}')) if x.severity == "error"]
    assert d.summary == "for_each needs a map or a set of strings, got set holding number values"
    assert "tostring" in d.hint and "wrap the list" not in d.hint


def test_a_malformed_required_version_gets_a_syntax_hint(write_config):
    [d] = [x for x in validate(write_config('skyplan {\n  required_version = "banana"\n}')) if x.severity == "error"]
    assert d.summary == "Invalid required_version constraint 'banana'" and '"~> 0.1"' in d.hint
    assert "upgrade" not in d.hint


def test_template_mistakes_carry_a_hint(write_config):
    [d] = [x for x in validate(write_config('workload "a" {\n  run = "%{ if true }a"\n}')) if x.severity == "error"]
    assert d.summary == "Template: %{if} without a matching %{endif}" and "%{endif}" in d.hint


def test_a_file_that_is_not_utf8_names_the_bad_byte(write_config):
    d = write_config()
    (d / "main.sky.hcl").write_bytes(b'workload "a" {\n  run = "\xff"\n}\n')
    [x] = [x for x in validate(d) if x.severity == "error"]
    assert (x.summary, x.source.line, x.source.column) == ("Cannot read file: byte 0xff is not UTF-8", 2, 10)
    assert x.hint == "save the file as UTF-8"


def test_all_problems_are_reported_together(write_config):
    d = write_config('workload "a" {\n  nmu_nodes = 1\n}\nworkload "b" {\n  run = var.x\n}\n',
                     other__sky__hcl='workload "c" {\n  kind = "batch"\n}\n')
    with pytest.raises(DiagnosticsError) as info:
        load(d)
    files = sorted({x.source.file.rsplit("/", 1)[-1] for x in info.value.diagnostics})
    assert len(info.value.diagnostics) == 3 and files == ["main.sky.hcl", "other.sky.hcl"]


def test_a_failed_value_is_reported_once(write_config):
    d = write_config('locals {\n  a = 1 + "x"\n  b = local.a * 2\n}\nworkload "w" { run = local.b }')
    assert len(_summaries(d)) == 1


def test_undeclared_cli_variable_and_missing_required(write_config):
    d = write_config('variable "need" { type = string }\nworkload "a" { run = var.need }')
    found = [s for s, _ in _summaries(d, vars={"nede": "x"}, env={})]
    assert any('undeclared variable "nede"' in s for s in found)
    assert any('No value for required variable "need"' in s for s in found)
    assert load(d, vars={"need": "ok"}, env={}).workloads["workload.a"].run == "ok"


def test_a_variable_with_a_wrong_or_missing_value_is_reported_once(write_config):
    d = write_config('variable "n" { type = number }\nvariable "need" {}\n'
                     'workload "a" {\n  num_nodes = var.n\n  run = var.need\n}\noutput "o" { value = var.n }')
    found = [s for s, _ in _summaries(d, vars={"n": "three"}, env={})]
    assert len(found) == 2, found
    assert not any("undeclared" in s for s in found)


def test_variables_file_mistakes_name_the_file_as_config_files_are_named(write_config, tmp_path, monkeypatch):
    d = write_config('variable "n" { type = number }\nworkload "a" { num_nodes = var.n }\n')
    (d / "bad.skyvars.hcl").write_text('n = "x"\n')
    monkeypatch.chdir(tmp_path)
    [diag] = [x for x in validate(d, var_files=[str(d / "bad.skyvars.hcl")], env={}) if x.severity == "error"]
    assert (diag.source.file, diag.source.line) == (os.path.join("cfg", "bad.skyvars.hcl"), 1)


def test_a_bad_text_value_names_where_it_came_from(write_config):
    d = write_config('variable "n" { type = number }\nworkload "a" { num_nodes = var.n }\n')
    [flag] = [x.hint for x in validate(d, vars={"n": "x"}, env={}) if x.severity == "error"]
    [env] = [x.hint for x in validate(d, env={"SKYPLAN_VAR_n": "x"}) if x.severity == "error"]
    assert flag.endswith("(from -var)") and env.endswith("(from SKYPLAN_VAR_n)")


def test_json_variables_file_mistakes_point_at_the_key(write_config):
    d = write_config('variable "n" { type = number }\nvariable "m" { default = 1 }\nworkload "a" { num_nodes = var.n }\n')
    (d / "v.skyvars.json").write_text('{\n  "m": 2,\n    "n": "x"\n}\n')
    [x] = [x for x in validate(d, var_files=[str(d / "v.skyvars.json")], env={}) if x.severity == "error"]
    assert (x.source.line, x.source.column) == (3, 5)


def test_a_variables_file_that_is_not_utf8_says_so(write_config):
    d = write_config('variable "n" { default = 1 }\n')
    (d / "v.skyvars.hcl").write_bytes(b'n = "\xff"\n')
    [x] = [x for x in validate(d, var_files=[str(d / "v.skyvars.hcl")], env={}) if x.severity == "error"]
    assert x.summary == "Cannot read variables file: byte 0xff is not UTF-8" and x.hint == "save the file as UTF-8"


def test_variable_types_convert_and_reject(write_config):
    d = write_config('variable "n" { type = number }\nvariable "m" { type = map(string) }\n'
                     'workload "a" {\n  num_nodes = var.n\n  env = var.m\n}')
    g = load(d, vars={"n": "3", "m": '{ A = 1 }'}, env={})
    assert g.workloads["workload.a"].num_nodes == 3 and g.workloads["workload.a"].env == {"A": "1"}
    found = _summaries(d, vars={"n": "three", "m": "{}"}, env={})
    assert any('Invalid value for variable "n"' in s for s, _ in found)


def test_modules_expand_with_prefixed_addresses(write_config, tmp_path):
    mod = tmp_path / "modules" / "ft"
    mod.mkdir(parents=True)
    (mod / "main.sky.hcl").write_text('variable "model" { type = string }\n'
                                      'workload "job" { run = "train ${var.model}" }\n'
                                      'output "id" { value = workload.job.id }\n'
                                      'output "model" { value = var.model }\n')
    d = write_config('module "a" {\n  source = "../modules/ft"\n  model = "m1"\n}\n'
                     'module "b" {\n  source = "../modules/ft"\n  model = module.a.model\n  depends_on = [module.a]\n}\n'
                     'output "ids" { value = [module.a.id, module.b.model] }\n')
    g = load(d)
    assert set(g.workloads) == {"module.a.workload.job", "module.b.workload.job"}
    b = g.workloads["module.b.workload.job"]
    assert b.address == Address("workload", "job", None, ("b",)) and b.run == "train m1"
    assert b.depends_on == (Address("workload", "job", None, ("a",)),)
    assert g.outputs["ids"].value == [UNKNOWN, "m1"]
    assert evaluate_outputs(g, {"module.a.workload.job": {"id": "i-1"}})["ids"] == ["i-1", "m1"]
    bad = write_config('module "a" {\n  source = "../modules/ft"\n  modle = "x"\n}\n', folder="bad")
    found = [s for s, _ in _summaries(bad)]
    assert any('Unsupported input "modle"' in s for s in found)
    assert any('Missing required input "model"' in s for s in found)


def test_module_input_mistakes_point_at_the_module_block(write_config, tmp_path):
    mod = tmp_path / "modules" / "n"
    mod.mkdir(parents=True)
    (mod / "main.sky.hcl").write_text('variable "n" { type = number }\nworkload "w" { count = var.n }\n')
    d = write_config('module "a" {\n  source = "../modules/n"\n  n = "two"\n}\n'
                     'module "b" {\n  source = "../modules/n"\n  n = 1\n  nn = 2\n}\n')
    found = [(x.summary, x.source.file.rsplit("/", 1)[-1], x.source.line, x.hint)
             for x in validate(d) if x.severity == "error"]
    assert ('Invalid value for input "n" of module.a: cannot convert "two" to a number', "main.sky.hcl", 3,
            'the module\'s variable "n" has type number') in found, found
    assert ('Unsupported input "nn" for module.b', "main.sky.hcl", 8, 'did you mean "n"?') in found, found
    assert len(found) == 2, found


def test_outputs_read_after_apply_attributes_from_state_shapes(write_config):
    g = load(write_config('workload "a" { run = "x" }\noutput "where" { value = "${workload.a.provider}/${workload.a.region}/${workload.a.ip}/${workload.a.id}" }\noutput "run" { value = workload.a.run }'))
    known = {"workload.a": {"placement": {"provider": "aws", "region": "us-east-1", "zone": "us-east-1a"},
                            "instances": [{"id": "i-1", "attributes": {"ip": "10.0.0.1"}}], "run": "changed"}}
    assert evaluate_outputs(g, known) == {"where": "aws/us-east-1/10.0.0.1/i-1", "run": "x"}


def test_ignore_changes_are_attribute_paths(write_config):
    d = write_config('workload "a" {\n  env = { T = "x" }\n  lifecycle {\n    ignore_changes = [env["T"], resources.cpus, image]\n  }\n}')
    assert load(d).workloads["workload.a"].lifecycle.ignore_changes == ('env["T"]', "resources.cpus", "image")
    bad = write_config('workload "a" {\n  lifecycle {\n    ignore_changes = [imgae]\n  }\n}', folder="bad")
    found = _summaries(bad)
    assert found == [("ignore_changes names an unknown attribute 'imgae'", 3)]


def test_auto_loaded_variable_files_sit_between_env_and_var_files(write_config, tmp_path):
    d = write_config('variable "r" { default = "d" }\nworkload "a" { run = var.r }',
                     skyplan__skyvars__hcl='r = "auto"\n', z__auto__skyvars__json='{"r": "auto-z"}')
    run = lambda **kw: load(d, **kw).workloads["workload.a"].run  # noqa: E731
    assert run(env={"SKYPLAN_VAR_r": "env"}) == "auto-z"
    f = tmp_path / "x.skyvars.hcl"
    f.write_text('r = "file"\n')
    assert run(env={}, var_files=[str(f)]) == "file"


def test_resolve_after_apply_fills_references_to_created_resources(write_config):
    from skyplan.config import resolve_after_apply

    d = write_config('workload "head" { run = "x" }\n'
                     'workload "w" {\n  count = 2\n  env = { HEAD = workload.head.ip, RANK = count.index }\n  run = "join ${workload.head.ip}"\n}')
    g = load(d)
    assert g.workloads["workload.w[1]"].env == {"HEAD": UNKNOWN, "RANK": "1"}
    w = resolve_after_apply(g, "workload.w[1]", {"workload.head": {"ip": "10.1.2.3"}})
    assert w.env == {"HEAD": "10.1.2.3", "RANK": "1"} and w.run == "join 10.1.2.3"
    assert w.address == Address("workload", "w", 1) and w.depends_on == (Address("workload", "head"),)
    assert resolve_after_apply(g, "workload.w[0]", {}).env["HEAD"] is UNKNOWN


def test_resolve_after_apply_refuses_a_value_that_fails_once_known(write_config):
    from skyplan.config import resolve_after_apply
    from skyplan.config.resolve import ResolveError

    d = write_config('workload "head" { run = "x" }\n'
                     'workload "w" {\n  env = { PORT = tonumber(workload.head.ip) }\n}')
    g = load(d)
    assert g.workloads["workload.w"].env == {"PORT": UNKNOWN}
    with pytest.raises(ResolveError) as e:
        resolve_after_apply(g, "workload.w", {"workload.head": {"ip": "10.1.2.3"}})
    assert str(e.value).startswith("workload.w: with the values known after apply, ")
    assert ":3:18: Invalid argument to tonumber()" in str(e.value)
    assert resolve_after_apply(g, "workload.w", {}).env == {"PORT": UNKNOWN}


def test_graph_copies_and_pickles(write_config):
    import copy
    import pickle

    g = load(write_config(MAIN, prices__csv=""))
    assert copy.deepcopy(g).workloads == g.workloads
    back = pickle.loads(pickle.dumps(g))
    assert back.workloads == g.workloads
    assert evaluate_outputs(back, {"workload.prep": {"ip": "1"}})["prep_ip"] is UNKNOWN


def test_module_inputs_may_be_unknown(write_config, tmp_path):
    mod = tmp_path / "m"
    mod.mkdir()
    (mod / "main.sky.hcl").write_text('variable "head" {\n  type = string\n  validation {\n    condition = length(var.head) > 0\n'
                                      '    error_message = "empty"\n  }\n}\nworkload "w" { env = { HEAD = var.head } }\n')
    d = write_config('workload "head" { run = "x" }\nmodule "m" {\n  source = "../m"\n  head = workload.head.ip\n}\n')
    g = load(d)
    w = g.workloads["module.m.workload.w"]
    assert w.env == {"HEAD": UNKNOWN} and w.depends_on == (Address("workload", "head"),)


def test_a_problem_shared_by_many_instances_is_reported_once_with_a_count(write_config):
    d = write_config('workload "w" {\n  for_each = toset(["x", "y"])\n  resources { accelerators = "${each.key}900:1" }\n}\n')
    diags = [(x.summary, x.detail) for x in validate(d)]
    assert diags == [('Unknown accelerator "x900"', 'in workload.w["x"]'), ('Unknown accelerator "y900"', 'in workload.w["y"]')]
    d2 = write_config('workload "w" {\n  count = 500\n  run = 1 + "x"\n}\n', folder="two")
    (one,) = validate(d2)
    assert one.detail == "in workload.w[0] and 499 more" and one.source.line == 3


def test_quota_as_an_object_or_list_of_objects(write_config):
    d = write_config('provider "aws" {\n  quota = { accelerator = "H100", region = "us-*", max = 16 }\n}\n'
                     'provider "gcp" {\n  quota = [{ vcpus = 100 }, { accelerator = "T4", max = 4 }]\n}\n')
    g = load(d)
    assert g.providers["aws"].quotas == (Quota("H100", 16, "us-*"),)
    assert g.providers["gcp"].quotas == (Quota("vcpus", 100, None), Quota("T4", 4, None))
    bad = write_config('provider "aws" {\n  quota { accelerator = "H100", max = 3 }\n}\n', folder="bad")
    (d1,) = validate(bad)
    assert "Syntax error" in d1.summary and "quota = {" in d1.hint


def test_outputs_see_configured_values_that_waited_for_other_resources(write_config):
    d = write_config('workload "head" { run = "x" }\n'
                     'workload "w" {\n  count = 2\n  env = { HEAD = "${workload.head.ip}:29500" }\n}\n'
                     'locals { heads = [for w in workload.w : w.env.HEAD] }\n'
                     'output "heads" { value = local.heads }\n')
    g = load(d)
    assert g.outputs["heads"].value == [UNKNOWN, UNKNOWN]
    assert evaluate_outputs(g, {"workload.head": {"ip": "10.0.0.9"}}) == {"heads": ["10.0.0.9:29500"] * 2}


def test_dynamic_blocks_generate_nested_blocks(write_config):
    d = write_config('variable "quotas" {\n  default = { H100 = 16, A100 = 8 }\n}\n'
                     'provider "aws" {\n  dynamic "quota" {\n    for_each = var.quotas\n    iterator = q\n'
                     '    content {\n      accelerator = q.key\n      max = q.value\n    }\n  }\n  quota { vcpus = 64 }\n}\n')
    assert load(d).providers["aws"].quotas == (Quota("A100", 8, None), Quota("H100", 16, None), Quota("vcpus", 64, None))
    bad = write_config('provider "aws" {\n  dynamic "quota" {\n    for_each = [1]\n    content {\n      maxx = 1\n    }\n  }\n}\n', folder="bad")
    found = _summaries(bad)
    assert any('Unsupported attribute "maxx"' in s for s, _ in found), found


def test_suggestions_cover_names_not_evaluated_yet(write_config):
    d = write_config('locals {\n  regions = ["us"]\n}\nworkload "a" {\n  run = jsonencode(local.regoins)\n}\nworkload "trainer" { run = workload.trainr.ip }\n')
    found = {x.summary: x.hint for x in validate(d)}
    assert found['Reference to undeclared local value "local.regoins"'] == 'did you mean "regions"?'
    assert found['Reference to undeclared workload "workload.trainr"'] == 'did you mean "trainer"?'


def test_placement_on_a_fleet_by_name_is_a_dependency(write_config):
    d = write_config('fleet "pool" {\n  nodes = 2\n  resources { accelerators = "L4:1" }\n}\n'
                     'workload "a" {\n  placement { fleet = "pool" }\n}\n')
    assert load(d).workloads["workload.a"].depends_on == (Address("fleet", "pool"),)
    cyc = write_config('fleet "pool" {\n  nodes = 2\n  depends_on = [workload.a]\n}\n'
                       'workload "a" {\n  placement { fleet = "fleet.pool" }\n}\n', folder="cyc")
    assert any("Cycle in the configuration" in s for s, _ in _summaries(cyc))


def test_null_attributes_count_as_unset(write_config):
    d = write_config('variable "n" {\n  type = number\n  default = null\n}\n'
                     'workload "a" {\n  num_nodes = var.n\n  image = null\n  resources { cpus = null }\n}\n')
    w = load(d).workloads["workload.a"]
    assert w.num_nodes == 1 and w.image is None and w.resources.cpus is None


def test_an_output_may_be_null(write_config):
    g = load(write_config('output "nothing" { value = null }\nworkload "a" {}'))
    assert g.outputs["nothing"].value is None


def test_a_module_may_not_declare_providers(write_config, tmp_path):
    mod = tmp_path / "m"
    mod.mkdir()
    (mod / "main.sky.hcl").write_text('provider "aws" {}\nworkload "w" {}\n')
    d = write_config('module "m" {\n  source = "../m"\n}\n')
    found = _summaries(d)
    assert any("A module may not declare provider blocks" in s for s, _ in found), found


def test_plan_time_attributes_may_not_wait_for_apply(write_config):
    d = write_config('workload "b" {}\nworkload "a" {\n  resources {\n    disk_gb = workload.b.hourly_cost\n'
                     '    instance_type = workload.b.instance_type\n  }\n  placement { regions = [workload.b.region] }\n}\n')
    found = [s for s, _ in _summaries(d)]
    assert any('"resources.disk_gb" must be known when planning' in s for s in found), found
    assert any('"resources.instance_type" must be known' in s for s in found), found


def test_values_are_located_when_first_asked_for(write_config):
    """Positions are worked out per block on first read; what they say is where each value was written."""
    d = write_config('''
provider "local" {}

workload "train" {
  kind = "job"
  resources {
    accelerators = ["H100:8", "A100:8"]
  }
  placement {
    regions = ["us-east-1"]
  }
  run = "true"
}
''')
    graph = load(str(d))
    src = graph.source_of("workload.train", "resources.accelerators[1]")
    assert (src.line, src.column) == (7, 31) and src.file.endswith("main.sky.hcl")
    assert graph.source_of("workload.train", "placement.regions[0]").line == 10
    assert graph.source_of("workload.train", "placement.zones").line == 9  # unwritten: its enclosing block
    assert graph.source_of("workload.train").line == 4
    assert set(graph.positions["workload.train"]) >= {"", "kind", "resources", "resources.accelerators[0]", "run"}

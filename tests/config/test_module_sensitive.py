"""A sensitive value passed into a module stays sensitive inside it."""

from __future__ import annotations

from skyplan import config


def test_module_input_from_a_sensitive_variable_is_sensitive(tmp_path):
    (tmp_path / "mod").mkdir()
    (tmp_path / "mod" / "main.sky.hcl").write_text(
        'variable "tok" {}\nvariable "plain" {}\n'
        'workload "w" {\n  env = { T = var.tok, P = var.plain }\n  run = "true"\n}\n')
    (tmp_path / "main.sky.hcl").write_text(
        'variable "secret" {\n  default = "s3cr3t-value"\n  sensitive = true\n}\n'
        'module "m" {\n  source = "./mod"\n  tok = var.secret\n  plain = "visible"\n}\n')
    graph = config.load(str(tmp_path))
    w = graph.workloads["module.m.workload.w"]
    assert w.env["T"] == "s3cr3t-value"
    assert w.sensitive_paths == ("env.T",)


def test_sensitive_env_keys_that_are_not_plain_names_are_quoted(tmp_path):
    (tmp_path / "main.sky.hcl").write_text(
        'variable "secret" {\n  default = "s3cr3t-value"\n  sensitive = true\n}\n'
        'workload "w" {\n  env = { "MY.TOKEN" = var.secret, "9LIVES" = var.secret, PLAIN = var.secret, OK = "1" }\n'
        '  run = "true"\n}\n')
    w = config.load(str(tmp_path)).workloads["workload.w"]
    assert sorted(w.sensitive_paths) == ['env.PLAIN', 'env["9LIVES"]', 'env["MY.TOKEN"]']

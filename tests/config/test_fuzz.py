"""Property: whatever a user writes, load() either succeeds or raises DiagnosticsError
(never another exception), and every diagnostic names a file."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skyplan.config import load
from skyplan.errors import DiagnosticsError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEEDS = [p.read_text() for p in sorted(EXAMPLES.glob("*/main.sky.hcl"))] + ['''
variable "n" {
  type    = list(object({ name = string, size = optional(number, 1) }))
  default = [{ name = "a" }]
}
locals {
  m    = { for x in var.n : x.name => x.size... }
  tpl  = "%{ for k, v in local.m }${k}=${v[0]}%{ endfor }"
  math = (1 + 2) * 3 / 4 % 5 - -6
}
fleet "pool" {
  existing = true
  capacity {
    accelerator = "A100"
    per_node    = 8
    nodes       = 2
  }
}
workload "w" {
  count = length(var.n)
  run   = "${local.tpl} ${count.index} ${try(local.m["a"][0], 0)}"
  placement { fleet = fleet.pool }
  env   = { X = jsonencode(local.m), Y = workload.v[*].ip[0] }
}
workload "v" {
  for_each = toset(["x"])
  run      = each.value
}
output "o" { value = [for w in workload.w : w.ip] }
''']

TOKENS = ['"', "{", "}", "[", "]", "(", ")", "=", ",", ".", "*", "${", "%{", "}", "...", "=>", "?", ":", "\n", "#",
          "var.", "local.", "workload.", "fleet.", "module.", "each.key", "count.index", "null", "true", "-1", "1e309",
          "0", "\"x\"", "<<EOT\nx\nEOT\n", "for x in", "if", "upper(", "toset(", "[*]", "\\", "\t", "é", "\x00",
          "depends_on = [workload.w]", "count = 2", "for_each = {}", "resources {", "workload \"z\" {", "lifecycle {",
          'module "m" { source = "./nowhere" }', 'provider "aws" { alias = "x" }', "type = list(", "~", "$${",
          'dynamic "quota" {', "content {", "iterator = q", "for_each = [1]", 'templatefile("x", {})', "\ufeff"]


@st.composite
def mutated(draw):
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["insert", "delete", "replace", "duplicate"]))
        i = draw(st.integers(0, len(text)))
        if op == "insert":
            text = text[:i] + draw(st.sampled_from(TOKENS)) + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 40)):]
        elif op == "replace":
            text = text[:i] + draw(st.sampled_from(TOKENS)) + text[i + draw(st.integers(1, 8)):]
        else:
            lines = text.split("\n")
            j = draw(st.integers(0, len(lines) - 1))
            lines.insert(j, lines[j])
            text = "\n".join(lines)
    return text


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=mutated())
def test_mutated_configs_only_raise_diagnostics(text):
    with tempfile.TemporaryDirectory() as d:
        Path(d, "main.sky.hcl").write_text(text)
        try:
            load(d, env={})
        except DiagnosticsError as e:
            assert e.diagnostics
            assert all(x.summary for x in e.diagnostics)
            assert all(x.source is None or x.source.file for x in e.diagnostics)


ATOMS = ["1", "0", "-2.5", '"a"', '""', "true", "null", "[1, 2]", "[]", '{a = 1}', "{}", 'toset(["x"])', "u", "xs",
         "m", '"%d"', '"/a+/"', "1e400"]
FUNCS = ["length", "lower", "upper", "format", "join", "split", "replace", "concat", "merge", "lookup", "contains",
         "keys", "values", "coalesce", "min", "max", "abs", "ceil", "floor", "tostring", "tonumber", "tobool", "toset",
         "tolist", "tomap", "range", "flatten", "distinct", "element", "try", "can", "jsonencode", "jsondecode",
         "substr", "zipmap", "slice", "index", "chunklist", "regex", "formatlist", "sum", "pow", "parseint", "file",
         "one", "setunion", "base64decode", "trimprefix", "sort", "reverse", "compact", "nope"]
OPS = ["+", "-", "*", "/", "%", "==", "!=", "<", ">=", "&&", "||"]


@st.composite
def expressions(draw, depth=0):
    if depth > 3 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(ATOMS))
    kind = draw(st.sampled_from(["call", "op", "index", "attr", "cond", "for", "tpl", "splat"]))
    sub = lambda: draw(expressions(depth + 1))  # noqa: E731
    if kind == "call":
        args = ", ".join(sub() for _ in range(draw(st.integers(0, 3))))
        return f"{draw(st.sampled_from(FUNCS))}({args}{'...' if draw(st.booleans()) and args else ''})"
    if kind == "op":
        return f"({sub()} {draw(st.sampled_from(OPS))} {sub()})"
    if kind == "index":
        return f"{sub()}[{sub()}]"
    if kind == "attr":
        return f"{sub()}.{draw(st.sampled_from(['a', 'b', 'ip', '0']))}"
    if kind == "cond":
        return f"({sub()} ? {sub()} : {sub()})"
    if kind == "for":
        return f"[for k, v in {sub()} : {sub()} if {sub()}]" if draw(st.booleans()) else f"{{for v in {sub()} : tostring(v) => {sub()}...}}"
    if kind == "splat":
        return f"{sub()}[*].a"
    return f'"x${{{sub()}}}%{{ if {sub()} }}y%{{ endif }}"'


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(text=expressions())
def test_random_expressions_only_raise_user_errors(text):
    from skyplan.config.evaluator import EvalError, Poisoned, Scope, evaluate
    from skyplan.config.model import UNKNOWN
    from skyplan.config.syntax import SyntaxProblem, parse_expression
    from skyplan.config.templates import TemplateProblem

    try:
        expr = parse_expression(text)
    except (SyntaxProblem, TemplateProblem):
        return
    try:
        evaluate(expr, Scope(names={"u": UNKNOWN, "xs": ["a", "b"], "m": {"a": {"b": 1}}}, base_dir="/nonexistent"))
    except (EvalError, Poisoned):
        pass

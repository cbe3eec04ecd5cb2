"""The expression language, evaluated through the real parser and evaluator."""

from __future__ import annotations

import pytest

from skyplan.config.evaluator import EvalError, Scope, evaluate
from skyplan.config.model import UNKNOWN
from skyplan.config.syntax import parse_expression
from skyplan.config.values import SetValue


def ev(text: str, **names):
    return evaluate(parse_expression(text), Scope(names=names))


@pytest.mark.parametrize("text, want", [
    ("1 + 2 * 3", 7),
    ("(1 + 2) * 3", 9),
    ("7 / 2", 3.5),
    ("8 / 2", 4),
    ("7 % 3", 1),
    ("-3 + 1", -2),
    ("1 < 2 && 2 <= 2", True),
    ("!true || false", False),
    ("1 == 1.0", True),
    ('1 == "1"', False),
    ('"a" != "b"', True),
    ("true ? 1 : 2", 1),
    ('"x-${1 + 1}-y"', "x-2-y"),
    ('"${true}"', True),
    ('"%{ if 1 > 0 }yes%{ else }no%{ endif }"', "yes"),
    ('"%{ for x in [1, 2, 3] }${x},%{ endfor }"', "1,2,3,"),
    ('"a\\nb\\t\\"q\\""', 'a\nb\t"q"'),
    ('"$${literal}"', "${literal}"),
    ("[for x in [1, 2, 3] : x * 2]", [2, 4, 6]),
    ("[for x in [1, 2, 3] : x if x > 1]", [2, 3]),
    ("[for i, x in [\"a\", \"b\"] : \"${i}${x}\"]", ["0a", "1b"]),
    ('{for k, v in {b = 2, a = 1} : k => v * 10}', {"a": 10, "b": 20}),
    ('{for s in ["x", "y", "x"] : s => s...}', {"x": ["x", "x"], "y": ["y"]}),
    ("[{a = 1}, {a = 2}][*].a", [1, 2]),
    ("[{a = {b = 1}}].*.a.b", [1]),
    ("{a = [10, 20]}.a[1]", 20),
    ('{a = 1}["a"]', 1),
    ("[1, 2, 3].1", 2),
    ("null", None),
])
def test_operators_and_literals(text, want):
    assert ev(text) == want


def test_heredoc_templates_and_trim():
    from skyplan.config.syntax import parse_text

    f = parse_text('x = <<-EOT\n    hello ${upper("w")}\n      indented\n    EOT\ny = <<EOT\nraw ${1}\nEOT\n')
    xs = {a.name: evaluate(a.expr, Scope()) for a in f.body.attributes}
    assert xs == {"x": "hello W\n  indented\n", "y": "raw 1\n"}


@pytest.mark.parametrize("text, want", [
    ("length([1, 2, 3])", 3), ('length({a = 1})', 1), ('length("abc")', 3),
    ('lower("AbC")', "abc"), ('upper("abc")', "ABC"),
    ('format("%s-%03d-%.2f-%q-%t", "a", 7, 1.5, "x", true)', 'a-007-1.50-"x"-true'),
    ('join(",", ["a", "b"])', "a,b"), ('split(",", "a,b")', ["a", "b"]),
    ('replace("a-b-c", "-", "_")', "a_b_c"), ('replace("a1b22", "/[0-9]+/", "#")', "a#b#"),
    ("concat([1], [2, 3])", [1, 2, 3]), ("merge({a = 1}, {b = 2}, {a = 3})", {"a": 3, "b": 2}),
    ('lookup({a = 1}, "a", 0)', 1), ('lookup({a = 1}, "b", 0)', 0),
    ('contains(["a", "b"], "b")', True), ("keys({b = 1, a = 2})", ["a", "b"]),
    ("values({b = 1, a = 2})", [2, 1]), ('coalesce(null, "", "x")', "x"),
    ("min(3, 1, 2)", 1), ("max([3, 1, 2]...)", 3), ("abs(-2)", 2), ("ceil(1.2)", 2), ("floor(1.8)", 1),
    ("tostring(5)", "5"), ('tonumber("5")', 5), ('tobool("true")', True),
    ('toset(["b", "a", "b"])', ["a", "b"]), ("tolist(toset([2, 1]))", [1, 2]), ("tomap({a = 1})", {"a": 1}),
    ("range(3)", [0, 1, 2]), ("range(1, 7, 2)", [1, 3, 5]), ("flatten([[1, [2]], 3])", [1, 2, 3]),
    ("distinct([1, 2, 1])", [1, 2]), ("element([1, 2, 3], 4)", 2),
    ("try(tonumber(\"x\"), 7)", 7), ("can(tonumber(\"x\"))", False), ("can(1)", True),
    ('jsonencode({a = [1, true]})', '{"a":[1,true]}'), ('jsondecode("{\\"a\\": 1.0}")', {"a": 1}),
    ('zipmap(["a"], [1])', {"a": 1}), ('trimspace("  x ")', "x"), ('substr("hello", 1, 3)', "ell"),
    ("sum([1, 2.5])", 3.5), ('regex("([a-z]+)-([0-9]+)", "ab-12")', ["ab", "12"]),
])
def test_functions(text, want):
    assert ev(text) == want


def test_toset_is_a_set():
    assert isinstance(ev('toset(["a"])'), SetValue)


def test_file_reads_relative_to_the_config_folder(tmp_path):
    (tmp_path / "msg.txt").write_text("hi")
    assert evaluate(parse_expression('file("msg.txt")'), Scope(base_dir=str(tmp_path))) == "hi"
    with pytest.raises(EvalError, match="Cannot read file"):
        evaluate(parse_expression('file("nope.txt")'), Scope(base_dir=str(tmp_path)))


@pytest.mark.parametrize("text", [
    "u + 1", "u.ip", "u[0]", '"x-${u}"', "u ? 1 : 2", "[for x in u : x]", "upper(u)", "u == 1",
    "join(\",\", [u])", "u[*].id",
])
def test_unknown_propagates(text):
    assert ev(text, u=UNKNOWN) is UNKNOWN


@pytest.mark.parametrize("text, expected", [
    ("false && u", False), ("u && false", False), ("true || u", True), ("u || true", True),
    ("true && u", UNKNOWN), ("false || u", UNKNOWN), ("u && u", UNKNOWN),
])
def test_a_known_operand_decides_and_or_over_an_unknown(text, expected):
    assert ev(text, u=UNKNOWN) is expected


def test_unknown_inside_collections_stays_local():
    assert ev("length([u, 1])", u=UNKNOWN) == 2
    assert ev("[u, 1][1]", u=UNKNOWN) == 1
    assert ev("{a = u, b = 2}.b", u=UNKNOWN) == 2


@pytest.mark.parametrize("text, message", [
    ('1 + "x"', "cannot convert"),
    ("[1][3]", "out of range"),
    ("{a = 1}.b", 'Unsupported attribute "b"'),
    ("nope(1)", "unknown function"),
    ("uper(1)", 'did you mean "upper"'),
    ("1 / 0", "Division by zero"),
    ('"a${[1]}"', "Cannot include a tuple"),
    ("true ? 1", None),
    ('{for x in ["a", "a"] : x => 1}', "Duplicate key"),
    ("count.index", "without count"),
    ("length(1, 2)", "Wrong number of arguments"),
    ('format("%5000d", 1)', "too large"),
    ("1e400", "out of range"),
    ("1e308 * 10", "out of range"),
    ("range(1e9)", "more than 1,000,000"),
    ("element([1, 2], -1)", "whole number >= 0"),
    ("element([1, 2], 0.5)", "whole number >= 0"),
])
def test_errors_name_the_problem(text, message):
    from skyplan.config.syntax import SyntaxProblem

    with pytest.raises((EvalError, SyntaxProblem)) as info:
        ev(text)
    if message:
        assert message.lower() in (info.value.summary + " " + getattr(info.value, "hint", "")).lower()


def test_error_positions_point_at_the_operand():
    with pytest.raises(EvalError) as info:
        ev("[1, 2,\n  foo.bar]")
    assert info.value.pos == (2, 3)


def test_templatefile_renders_with_only_its_variables(tmp_path):
    (tmp_path / "run.sh.tpl").write_text('#!/bin/sh\n%{ for h in hosts ~}\nping ${h}\n%{ endfor ~}\necho ${upper(name)}\n')
    s = Scope(base_dir=str(tmp_path))
    out = evaluate(parse_expression('templatefile("run.sh.tpl", { hosts = ["a", "b"], name = "x" })'), s)
    assert out == "#!/bin/sh\nping a\nping b\necho X\n"
    with pytest.raises(EvalError, match="run.sh.tpl at 5:14"):
        evaluate(parse_expression('templatefile("run.sh.tpl", { hosts = [] })'), s)
    assert evaluate(parse_expression('templatefile("run.sh.tpl", u)'), Scope(names={"u": UNKNOWN}, base_dir=str(tmp_path))) is UNKNOWN


def test_every_function_the_language_promises_exists_and_is_documented():
    from pathlib import Path

    from skyplan.config.functions import ALL_NAMES

    promised = ("length lower upper format join split replace concat merge lookup contains keys values coalesce min "
                "max abs ceil floor tostring tonumber tobool toset tolist tomap range flatten distinct element try "
                "can file jsonencode jsondecode").split()
    assert not [f for f in promised if f not in ALL_NAMES]
    readme = (Path(__file__).resolve().parents[2] / "examples" / "README.md").read_text()
    listed = set(readme.split("and the functions", 1)[1].split("`.", 1)[0].replace("`", "").split())
    assert listed == set(ALL_NAMES), set(ALL_NAMES) ^ listed

"""Parsing: positions from lark's tree, the grammar cache, syntax errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from skyplan.config import ast
from skyplan.config.syntax import SyntaxProblem, parse_text


def test_blocks_attributes_and_positions():
    f = parse_text('# comment\nworkload "train" {\n  num_nodes = 2\n  resources {\n    cpus = "8+"\n  }\n}\n', "m.sky.hcl")
    (b,) = f.body.blocks
    assert (b.type, b.labels, b.pos, b.file) == ("workload", ("train",), (2, 1), "m.sky.hcl")
    assert b.body.attr("num_nodes").pos == (3, 3) and b.body.attr("num_nodes").expr == ast.Literal((3, 15), 2)
    (r,) = b.body.blocks_of("resources")
    assert r.body.attr("cpus").pos == (5, 5)


def test_expressions_are_a_real_tree_not_strings():
    f = parse_text('x = "a-${var.b[0].c}"\n')
    t = f.body.attr("x").expr
    assert isinstance(t, ast.Template) and t.parts[0] == "a-"
    ref = t.parts[1]
    assert isinstance(ref, ast.GetAttr) and ref.attr == "c" and isinstance(ref.obj, ast.Index)


@pytest.mark.parametrize("text, line, col", [
    ('workload "a" {\n  run = \n}\n', 2, 9),
    ('workload "a" {\n  run = "x"\n', 3, 1),
    ('locals {\n  a = [1, 2\n}\n', 3, 1),
    ("locals {\n  a = 1 +\n}\n", 3, 1),
])
def test_syntax_errors_have_positions(text, line, col):
    with pytest.raises(SyntaxProblem) as info:
        parse_text(text)
    assert info.value.line == line and info.value.col >= 1 and info.value.summary.startswith("Syntax error")


@pytest.mark.slow
def test_grammar_cache_is_written_once_and_reused(tmp_path):
    env = {**os.environ, "SKYPLAN_CACHE_DIR": str(tmp_path)}
    code = "from skyplan.config.syntax import parse_text; parse_text('a = 1')"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
    files = list(tmp_path.glob("hcl2-*.lark-cache"))
    assert len(files) == 1 and files[0].stat().st_size > 10_000
    mtime = files[0].stat().st_mtime_ns
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
    assert files[0].stat().st_mtime_ns == mtime


def test_trees_of_large_files_are_cached_by_content(tmp_path, monkeypatch):
    from skyplan.config.parsecache import CACHE_MIN_CHARS, parse_file

    monkeypatch.setenv("SKYPLAN_CACHE_DIR", str(tmp_path))
    text = "".join(f'workload "w{i}" {{\n  run = "echo ${{{i} + 1}}"\n}}\n' for i in range(CACHE_MIN_CHARS // 20))
    first = parse_file(text, "big.sky.hcl")
    (entry,) = (tmp_path / "blocks").glob("*.pickle")  # many blocks: kept block by block, one entry per path
    assert parse_file(text, "big.sky.hcl") == first
    entry.write_bytes(b"not a pickle")
    assert parse_file(text, "big.sky.hcl") == first  # a broken entry is parsed again and replaced
    changed = text.replace('"w0"', '"w_zero"')
    assert parse_file(changed, "big.sky.hcl").body.blocks[0].labels == ("w_zero",)
    assert len(list((tmp_path / "blocks").glob("*.pickle"))) == 1
    # one large block cannot be cut: its tree is kept whole, by content
    one = "locals {\n" + "".join(f"  v{i} = {i}\n" for i in range(CACHE_MIN_CHARS // 8)) + "}\n"
    tree = parse_file(one, "one.sky.hcl")
    assert parse_file(one, "one.sky.hcl") == tree and len(list((tmp_path / "trees").glob("*.pickle"))) == 1

"""A large file read block by block gives the tree the whole parse gives, on
every configuration of the project and on the constructs that could fool the
cut (braces in strings, interpolations holding strings, heredocs, comments);
an edit re-parses only the block it touched; a file that is not only blocks,
or a block that does not parse, is parsed whole, so errors read as before."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from skyplan.config import chunks
from skyplan.config.parsecache import parse_blocks, parse_file
from skyplan.config.syntax import SyntaxProblem, parse_text

ROOT = Path(__file__).resolve().parents[2]
# every configuration file of the project that is several top-level blocks (the others are parsed whole)
PROJECT_FILES = sorted(p for d in ("examples", "modules", "tests/cases") for p in (ROOT / d).rglob("*.sky.hcl")
                       if len(chunks.split(p.read_text()) or ()) > 1)

TRICKY = '''# a comment with a brace {
workload "a" {
  run = "echo '{' ${var.x} }"  // braces in a string
  env = { MSG = "${join("}", ["a", "b"])}" }
  /* a block comment
     with a } in it */
  setup = <<-EOT
    echo "}" {
    ${upper("x")}
  EOT
}

# between blocks

workload "b" { run = "x" }
resource_like "c" "d" {
  list = [
    1,
    2,
  ]
  nested {
    deep = { k = [{ x = 1 }] }
  }
}
# trailing comment
'''


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SKYPLAN_CACHE_DIR", str(tmp_path))


def test_most_of_the_projects_files_are_read_block_by_block():
    assert len(PROJECT_FILES) >= 40


def test_the_cut_keeps_every_block_whole_on_tricky_text():
    parts = chunks.split(TRICKY)
    assert [first for first, _ in parts] == [1, 12, 16]
    assert "".join(part for _, part in parts) == TRICKY
    assert parse_blocks(TRICKY, "t.sky.hcl") == parse_text(TRICKY, "t.sky.hcl")


@pytest.mark.parametrize("path", PROJECT_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_block_by_block_equals_the_whole_parse_on_the_projects_files(path):
    text = path.read_text()
    whole = parse_text(text, "main.sky.hcl")
    assert parse_blocks(text, "main.sky.hcl") == whole
    assert parse_blocks(text, "main.sky.hcl") == whole  # from the cache


def test_edits_reparse_only_what_changed_and_moved_blocks_are_shifted():
    rng = random.Random(3)
    blocks = [f'workload "w{i}" {{\n  kind = "job"\n  duration_hours = {i}\n  run = "echo {i}"\n}}\n' for i in range(60)]
    text = "\n".join(blocks)
    assert parse_file(text, "big.sky.hcl") == parse_text(text, "big.sky.hcl")
    for _ in range(5):
        i = rng.randrange(len(blocks))
        blocks[i] = blocks[i].replace("kind", "# an added line\n  kind") if rng.random() < 0.5 else \
            blocks[i].replace("echo", "echo again")
        text = "\n".join(blocks)
        assert parse_file(text, "big.sky.hcl") == parse_text(text, "big.sky.hcl")


def test_text_outside_blocks_is_parsed_whole():
    mixed = 'a = 1\nworkload "w" {\n}\nworkload "v" {\n}\n'
    assert len(chunks.split(mixed)) == 2 and parse_blocks(mixed, "m.sky.hcl") is None  # an attribute among them
    assert chunks.split('a = [\n1]\nworkload "w" {\n}\n') is None
    assert chunks.split('workload "w" {\n  run = "unclosed\n}\n') is None
    assert chunks.split('workload "w" {\n') is None


def test_a_syntax_error_reads_as_the_whole_parse_says_it():
    good = "".join(f'workload "w{i}" {{\n  run = "x"\n}}\n' for i in range(400))
    parse_file(good, "big.sky.hcl")
    bad = good.replace('workload "w7" {\n  run = "x"', 'workload "w7" {\n  run = = "x"')
    with pytest.raises(SyntaxProblem) as whole:
        parse_text(bad, "big.sky.hcl")
    with pytest.raises(SyntaxProblem) as cached:
        parse_file(bad, "big.sky.hcl")
    assert (cached.value.line, cached.value.col, cached.value.summary) == \
        (whole.value.line, whole.value.col, whole.value.summary)


def test_a_config_read_from_the_cache_imports_no_parser(tmp_path):
    """The grammar, lark and python-hcl2 are imported only when something is parsed:
    a second load of an unchanged large config reads every tree from the cache."""
    import os
    import subprocess
    import sys

    folder = tmp_path / "cfg"
    folder.mkdir()
    (folder / "main.sky.hcl").write_text('provider "local" {}\n' + "".join(
        f'workload "w{i}" {{\n  kind = "job"\n  run = "true"\n}}\n' for i in range(400)))
    probe = ("import sys; from skyplan.config import load; g = load(sys.argv[1]); "
             "print(len(g.workloads), sorted(m for m in ('lark', 'hcl2') if m in sys.modules))")
    env = {**os.environ, "SKYPLAN_CACHE_DIR": str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-c", probe, str(folder)], env=env, capture_output=True, text=True,
                           check=True).stdout.split(None, 1) for _ in range(2)]
    assert runs[0] == ["400", "['hcl2', 'lark']\n"]  # the first load parses
    assert runs[1] == ["400", "[]\n"]


def test_many_new_blocks_are_parsed_over_two_processes_as_the_whole_parse_gives_them():
    """A first read of a large file parses its blocks half in a forked child; the
    tree is the one the whole parse gives (lines, positions and all), and the
    serial parse gives the same."""
    from skyplan import forked
    from skyplan.config import parsecache

    if not forked.enabled():
        pytest.skip("one core, or not Linux: the parse is serial")
    blocks = [f'workload "w{i}" {{\n  kind = "job"\n  duration_hours = {i}\n  run = "echo {i}"\n'
              f'  resources {{\n    accelerators = ["A100:{1 + i % 8}"]\n  }}\n}}\n' for i in range(3 * parsecache.SPLIT_LEAST_BLOCKS)]
    blocks[5] = blocks[9]  # the same text twice: parsed once, shifted to its second place
    text = "\n".join(blocks)
    whole = parse_text(text, "big.sky.hcl")
    assert parse_blocks(text, "big.sky.hcl") == whole
    assert parse_blocks(text, "other.sky.hcl") == parse_text(text, "other.sky.hcl")


def test_a_syntax_error_among_many_new_blocks_reads_as_the_whole_parse_says_it():
    from skyplan.config import parsecache

    blocks = [f'workload "w{i}" {{\n  run = "x"\n}}\n' for i in range(3 * parsecache.SPLIT_LEAST_BLOCKS)]
    blocks[-3] = 'workload "bad" {\n  run = = "x"\n}\n'  # in the child's half
    text = "".join(blocks)
    with pytest.raises(SyntaxProblem) as whole:
        parse_text(text, "big.sky.hcl")
    with pytest.raises(SyntaxProblem) as read:
        parse_file(text, "big.sky.hcl")
    assert (read.value.line, read.value.col, read.value.summary) == (whole.value.line, whole.value.col, whole.value.summary)


def test_after_a_syntax_error_is_fixed_only_the_fixed_block_is_parsed(monkeypatch):
    """The blocks around a mistake stay cached while it is there: fixing it costs
    one block's parse, not the file's."""
    from skyplan.config import syntax

    monkeypatch.setenv("SKYPLAN_PARALLEL", "0")  # so every parse is counted in this process
    blocks = [f'workload "w{i}" {{\n  run = "echo {i}"\n}}\n' for i in range(300)]
    good = "".join(blocks)
    bad = good.replace('workload "w7" {\n  run = "echo 7"', 'workload "w7" {\n  run = = "echo 7"')
    with pytest.raises(SyntaxProblem):
        parse_file(bad, "big.sky.hcl")
    parsed = []
    real = syntax.parse_text
    monkeypatch.setattr(syntax, "parse_text", lambda text, *a, **k: parsed.append(text) or real(text, *a, **k))
    assert parse_file(good, "big.sky.hcl") == real(good, "big.sky.hcl")
    assert parsed == [blocks[7]]

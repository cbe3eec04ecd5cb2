"""The fast path for plain blocks gives exactly the tree (nodes and positions)
the lark parser gives, hands everything else to it, and never accepts a file
the lark parser rejects."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from skyplan.config import fastparse
from skyplan.config.syntax import SyntaxProblem, parse_text

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(p for d in ("examples", "tests/cases", "modules") for p in (ROOT / d).rglob("*.hcl"))

MIXED = '''# a team file
provider "aws" {
  regions = ["us-east-1", "eu-west-1"]
  quota {
    accelerator = "H100"
    max = 16
  }
}

variable "region" {
  default = "us-east-1"
}

workload "plain" {
  kind = "job"
  duration_hours = 2.5
  pricing = ["spot",
    "on_demand",]
  resources { accelerators = ["H100:8"] }
  placement {
    regions = []
  }
  run = "python main.py"
}

workload "ref" {
  placement { regions = [var.region] }
  env = { A = "x" }
  run = <<EOT
echo ${var.region}
EOT
}
workload "after" {
  interruptible = true
  note = null
  count = 2
}
'''


def _fast(text: str, path: str = "main.sky.hcl"):
    return fastparse.parse(text, path, lambda piece, p, offset: parse_text(piece, p, line_offset=offset))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_same_tree_as_lark_on_every_shipped_file(path):
    text = path.read_text()
    got = _fast(text, str(path))
    if got is not None:
        assert got == parse_text(text, str(path))


def test_plain_and_other_blocks_mixed():
    pieces = []

    def fragment(piece, p, offset):
        pieces.append(offset)
        return parse_text(piece, p, line_offset=offset)

    got = fastparse.parse(MIXED, "main.sky.hcl", fragment)
    assert got == parse_text(MIXED, "main.sky.hcl")
    assert set(pieces) == {25}  # only the block with a reference, an object and a heredoc went to lark
    # (cut first at its heredoc's closing marker, which is not a whole item, then further on)


def test_a_file_lark_rejects_is_left_to_lark():
    broken = MIXED.replace('  run = "python main.py"\n}', '  run = "python main.py"\n')
    assert _fast(broken) is None
    with pytest.raises(SyntaxProblem):
        parse_text(broken, "main.sky.hcl")


def test_random_edits_never_disagree():
    rng = random.Random(15)
    texts = [MIXED] + [p.read_text() for p in FILES[:20]]
    inserts = ['"', "{", "}", "[", "]", "\n", " ", "=", ",", "#", "1", ".", "a", "-", "$", "%", "\\", "/", "*",
               "true", "x = 1", '"a"', ":"]
    for _ in range(400):
        t = rng.choice(texts)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(t))
            t = t[:i] + (rng.choice(inserts) if rng.random() < 0.6 else "") + t[i + 1:]
        got = _fast(t)
        if got is None:
            continue
        assert got == parse_text(t, "main.sky.hcl"), t

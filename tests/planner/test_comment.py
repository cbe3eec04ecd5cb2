"""The pull-request comment, parsed with a Markdown parser: tables well formed
(every row as many cells as the header), every <details> closed, the cost table
and the monthly change; a 3,000-workload plan on the local provider stays within
the comment limit and says what it cut; several folders make one comment."""

from __future__ import annotations

import shlex
from pathlib import Path

import yaml
from markdown_it import MarkdownIt

from skyplan.planner.render_markdown import MARKER, MAX_CHARS, render_markdown
from tests.planner.cli_runner import run_cli
from tests.planner.test_render import mixed_plan

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
COLUMNS = ["address", "action", "placement before → after", "$/h before → after", "monthly delta"]


def well_formed(md: str) -> list[list[list[str]]]:
    """The tables of ``md`` (rows of cell texts, header first), after checking that
    every row has the header's cell count and every <details> is closed."""
    tokens = MarkdownIt("commonmark").enable("table").parse(md)
    tables, rows, row = [], None, None
    for i, t in enumerate(tokens):
        if t.type == "table_open":
            rows = []
        elif t.type == "tr_open":
            row = []
        elif t.type in ("th_open", "td_open"):
            row.append(tokens[i + 1].content.replace("`", ""))
        elif t.type == "tr_close":
            rows.append(row)
        elif t.type == "table_close":
            assert all(len(r) == len(rows[0]) for r in rows), rows
            tables.append(rows)
    assert md.count("<details>") == md.count("</details>")
    html = MarkdownIt("commonmark").enable("table").render(md)
    assert html.count("<details>") == html.count("</details>")
    assert html.count("<pre>") == html.count("</pre>")
    return tables


def _cost_table(tables):
    return next(t for t in tables if t[0] == COLUMNS)


def test_a_normal_plan():
    md = render_markdown(mixed_plan(), project="infra/prod")
    assert md.startswith(MARKER + "\n### skyplan plan in `infra/prod`: 2 to add, 1 to change, 2 to destroy")
    tables = well_formed(md)
    rows = {r[0]: r for r in _cost_table(tables)[1:]}
    assert rows["workload.move"][1:] == [
        "-/+ replace (replace because placement changed)",
        "aws/us-east-1/us-east-1a p5.48xlarge spot → aws/us-west-2/us-west-2b p5.48xlarge spot",
        "$41.20 → $37.85", "-$2,445.50"]  # (37.85 - 41.20) x 730 h
    assert rows["workload.train"][3:] == ["$37.85", "+$27,630.50"]
    assert rows["workload.gone"][3:] == ["$41.20 → —", "-$30,076.00"]
    assert "**Monthly change: -$4,891.00 (-4.1%)**" in md  # (158.10 - 164.80) x 730, of 120,304
    assert "<details><summary>Show the full plan</summary>" in md
    drift = md.split("<details><summary>Drift found during refresh (1)</summary>", 1)[1]
    assert "workload.keep has changed on aws (i-1)" in drift.split("</details>")[0]
    assert "cut to fit" not in md


def _big_config(folder: Path, n: int) -> None:
    folder.mkdir()
    (folder / "main.sky.hcl").write_text("".join(
        f'workload "w{i}" {{\n  kind = "job"\n  resources {{\n    cpus = "1+"\n  }}\n'
        f'  env = {{ SHARD = "{i}" }}\n  run = "echo shard {i}"\n}}\n' for i in range(n)))


def test_a_3000_workload_plan_on_the_local_provider_fits_and_says_it_was_cut(tmp_path):
    _big_config(tmp_path / "big", 3000)
    r = run_cli("plan", "-refresh=false", "--format", "markdown", str(tmp_path / "big"))
    assert r.returncode == 0, r.stderr
    md = r.stdout
    assert len(md) <= MAX_CHARS
    assert "3000 to add, 0 to change, 0 to destroy" in md
    assert "cut to fit the comment limit" in md  # the folded plan, head and tail kept
    assert "more rows not shown" in md
    tables = well_formed(md)
    table = _cost_table(tables)
    assert len(table) > 100 and table[1][1] == "+ create"
    assert "Plan: 3000 to add, 0 to change, 0 to destroy." in md.split("<details>", 1)[1]  # the tail


def test_several_folders_make_one_comment(tmp_path):
    for name in ("api", "batch"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "main.sky.hcl").write_text(f'workload "{name}" {{\n  run = "true"\n}}\n')
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "main.sky.hcl").write_text('workload "x" {\n  run = \n}\n')
    r = run_cli("plan", "-refresh=false", "--format", "markdown", "api", "batch", "bad", cwd=tmp_path)
    assert r.returncode == 1  # a folder failed
    md = r.stdout
    assert md.startswith(MARKER + "\n## skyplan plan: 3 projects, 2 with changes, 1 failed\n")
    assert md.count(MARKER) == 1
    tables = well_formed(md)
    summary = next(t for t in tables if t[0] == ["project", "result", "monthly change"])
    assert [row[:2] for row in summary[1:]] == [["api", "1 to add, 0 to change, 0 to destroy"],
                                                ["batch", "1 to add, 0 to change, 0 to destroy"],
                                                ["bad", "❌ failed"]]
    assert "### skyplan plan in `api`" in md and "### skyplan plan in `batch`" in md
    failed = md.split("### skyplan plan in `bad`: failed", 1)[1]
    assert "bad/main.sky.hcl:2:9: error: Syntax error" in failed and "Traceback" not in md + r.stderr
    assert "1 of 3 projects failed: bad" in r.stderr
    ok = run_cli("plan", "-refresh=false", "--format", "markdown", "--detailed-exitcode", "api", "batch", cwd=tmp_path)
    assert ok.returncode == 2 and "2 projects, 2 with changes, 0 failed" in ok.stdout


def test_several_folders_need_the_markdown_format(tmp_path):
    r = run_cli("plan", "-refresh=false", str(tmp_path), str(tmp_path))
    assert r.returncode == 1 and "plan takes one folder with --format text (got 2)" in r.stderr
    assert "--format markdown" in r.stderr


def _parses(argv: list[str], command: str) -> None:
    import typer.main

    from skyplan.cli import app, terraform_args

    args = terraform_args(argv)
    assert args[0] == command
    typer.main.get_command(app).get_command(None, command).make_context(command, args[1:])


def test_the_github_actions_example():
    doc = yaml.safe_load((EXAMPLES / "ci" / "github-actions-plan.yml").read_text())
    assert set(doc[True]) == {"pull_request", "push"}  # "on:" is YAML 1.1's true
    plan_steps = doc["jobs"]["plan"]["steps"]
    run = next(s["run"] for s in plan_steps if "skyplan plan" in s.get("run", ""))
    line = next(ln for ln in run.splitlines() if ln.strip().startswith("skyplan plan"))
    argv = [w for w in shlex.split(line.split(">")[0]) if not w.startswith("$")][1:]
    assert "-refresh=false" in argv and argv[argv.index("--format") + 1] == "markdown"
    _parses(argv, "plan")
    script = next(s for s in plan_steps if s.get("uses", "").startswith("actions/github-script"))["with"]["script"]
    assert MARKER in script and "updateComment" in script and "createComment" in script
    assert "secrets." not in yaml.safe_dump(doc["jobs"]["plan"])  # the preview needs no credentials
    apply_run = "\n".join(s.get("run", "") for s in doc["jobs"]["apply"]["steps"])
    lines = [shlex.split(ln) for ln in apply_run.splitlines() if ln.strip().startswith("skyplan ")]
    (plan_line, apply_line) = lines
    assert "-out" in plan_line and plan_line[plan_line.index("-out") + 1] == apply_line[-1] == '$file'
    _parses([w.replace("$", "") for w in plan_line[1:]], "plan")  # the shell's variables as plain words
    _parses([w.replace("$", "") for w in apply_line[1:]], "apply")


def test_any_limit_is_kept_and_leaves_the_comment_well_formed():
    from tests.planner.test_render import _large_plan

    for p in (mixed_plan(), _large_plan(60)):
        for limit in (1_500, 2_500, 4_000, 6_000, 9_000, 15_000, 40_000):
            md = render_markdown(p, max_chars=limit)
            assert len(md) <= limit, limit
            well_formed(md)


def test_many_projects_share_the_limit():
    from skyplan.planner.render_comment import Project, render_comment
    from tests.planner.test_render import _large_plan

    projects = [Project(f"p{i}", plan=_large_plan(30)) for i in range(8)] + [Project("bad", error="Error: x\n" * 5000)]
    for limit in (3_000, 20_000, MAX_CHARS):
        md = render_comment(projects, max_chars=limit)
        assert len(md) <= limit and md.startswith(MARKER + "\n## skyplan plan: 9 projects, 8 with changes, 1 failed")
        well_formed(md)
    assert "### skyplan plan in `bad`: failed" in render_comment(projects)


def test_a_mandatory_policy_failing_in_one_project_is_exit_1_and_shown(tmp_path):
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "main.sky.hcl").write_text('workload "a" {\n  run = "true"\n}\n')
    (tmp_path / "strict").mkdir()
    (tmp_path / "strict" / "main.sky.hcl").write_text(
        'workload "b" {\n  run = "true"\n}\n'
        'policy "tiny" {\n  condition     = plan.add == 0\n  error_message = "nothing may be added"\n}\n')
    r = run_cli("plan", "-refresh=false", "--format", "markdown", "ok", "strict", cwd=tmp_path)
    assert r.returncode == 1
    assert "2 projects, 2 with changes, 0 failed" in r.stdout
    strict = r.stdout.split("### skyplan plan in `strict`", 1)[1]
    assert "❌ fail" in strict and "nothing may be added" in strict
    well_formed(r.stdout)
    assert "a mandatory policy fails in strict" in r.stderr

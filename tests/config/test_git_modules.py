"""Git module sources against a bare repository made in the test: `skyplan init`
fetches and locks (tag, branch, commit refs), plan reads the installed copy and
never fetches, `init -upgrade` moves the lock, an edited copy is refused."""

from __future__ import annotations

import json
import subprocess

import pytest

from skyplan.cli import main
from skyplan.config import load, validate
from skyplan.config.sources import LOCK_FILE, read_lock

MOD = 'variable "model" { type = string }\nworkload "job" { run = "train ${var.model} VERSION" }\noutput "v" { value = "VERSION" }\n'


def git(cwd, *args):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
                               "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(cwd), "PATH": "/usr/bin:/bin"}).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    """A bare repository with modules/job at v1 (tagged), then v2 on main and branch `next`."""
    work, bare = tmp_path / "work", tmp_path / "mods.git"
    (work / "modules" / "job").mkdir(parents=True)
    git(tmp_path, "init", "--quiet", "-b", "main", str(work))

    def commit(version):
        (work / "modules" / "job" / "main.sky.hcl").write_text(MOD.replace("VERSION", version))
        git(work, "add", "-A")
        git(work, "commit", "--quiet", "-m", version)
        return git(work, "rev-parse", "HEAD")

    first = commit("v1")
    git(work, "tag", "v1")
    git(tmp_path, "clone", "--quiet", "--bare", str(work), str(bare))

    def push(version, branch="main"):
        sha = commit(version)
        git(work, "push", "--quiet", str(bare), f"HEAD:refs/heads/{branch}")
        return sha

    return {"url": f"file://{bare}", "first": first, "push": push}


def run(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return info.value.code, out, err


def config(write_config, source):
    return write_config(f'module "train" {{\n  source = "{source}"\n  model  = "qwen"\n}}\noutput "v" {{ value = module.train.v }}\n')


def test_plan_refuses_until_init_then_reads_the_locked_commit(write_config, capsys, repo):
    src = f"git::{repo['url']}//modules/job?ref=main"
    d = config(write_config, src)
    [e] = [x for x in validate(d) if x.severity == "error"]
    assert "is not installed" in e.summary and "skyplan init" in e.hint and e.source.line == 2
    code, out, err = run(capsys, "init", str(d))
    assert code == 0, err
    assert "module.train" in out and repo["first"][:12] in out
    lock = read_lock(str(d))[src]
    assert lock.commit == repo["first"] and lock.ref == "main" and lock.hash.startswith("sha256:")
    g = load(d)
    assert g.workloads["module.train.workload.job"].run == "train qwen v1" and g.outputs["v"].value == "v1"
    # the branch moves on: plain init keeps the locked commit, -upgrade moves the lock
    second = repo["push"]("v2")
    assert run(capsys, "init", str(d))[0] == 0
    assert load(d).outputs["v"].value == "v1" and read_lock(str(d))[src].commit == repo["first"]
    code, out, err = run(capsys, "init", "-upgrade", str(d))
    assert code == 0, err
    assert read_lock(str(d))[src].commit == second and load(d).outputs["v"].value == "v2"
    code, out, _ = run(capsys, "modules", "--json", str(d))
    [m] = json.loads(out)["modules"]
    assert (m["address"], m["commit"], m["ref"]) == ("module.train", second, "main")


def test_tag_and_commit_refs(write_config, capsys, repo):
    second = repo["push"]("v2")
    for ref, want, sha in (("v1", "v1", repo["first"]), (second, "v2", second)):
        d = write_config(f'module "train" {{\n  source = "git::{repo["url"]}//modules/job?ref={ref}"\n  model = "q"\n}}\n'
                         f'output "v" {{ value = module.train.v }}\n', folder=f"cfg-{want}")
        assert run(capsys, "init", str(d))[0] == 0
        assert load(d).outputs["v"].value == want
        assert next(iter(read_lock(str(d)).values())).commit == sha


def test_an_edited_checkout_no_longer_matches_its_lock(write_config, capsys, repo):
    d = config(write_config, f"git::{repo['url']}//modules/job?ref=v1")
    assert run(capsys, "init", str(d))[0] == 0
    [folder] = (d / ".skyplan" / "modules").iterdir()
    (folder / "modules" / "job" / "main.sky.hcl").write_text(MOD.replace("VERSION", "hacked"))
    [e] = [x for x in validate(d) if x.severity == "error"]
    assert f"no longer matches its entry in {LOCK_FILE}" in e.summary and "skyplan init -upgrade" in e.hint
    assert run(capsys, "init", "-upgrade", str(d))[0] == 0
    assert load(d).outputs["v"].value == "v1"


@pytest.mark.parametrize("source, message", [
    ("git::file:///nonexistent/repo.git?ref=v1", "Cannot fetch module source"),
    ("git::{url}//modules/nope?ref=v1", 'the repository has no folder "modules/nope"'),
    ("git::{url}//modules/job?ref=v9", 'no tag, branch or commit "v9"'),
])
def test_init_failures_name_the_module_block_and_write_nothing(write_config, capsys, repo, source, message):
    d = config(write_config, source.format(url=repo["url"]))
    code, out, err = run(capsys, "init", str(d))
    assert code == 1 and message in err and "main.sky.hcl:2:3" in err and "Traceback" not in err
    assert not (d / LOCK_FILE).exists()


def test_a_folder_that_is_not_a_repository(write_config, capsys, tmp_path):
    (tmp_path / "plain").mkdir()
    d = config(write_config, f"git::file://{tmp_path / 'plain'}")
    code, _, err = run(capsys, "init", str(d))
    assert code == 1 and "Cannot fetch module source" in err and "main.sky.hcl:2:3" in err

"""``skyplan init``: fetch git module sources with the git client into
``.skyplan/modules/`` and pin them in ``.skyplan.lock.hcl``; ``skyplan modules``:
the tree of module calls with their sources and resolved commits.

The module tree is read from the files alone (a source is a literal string), so
neither needs variables. With a lock entry, init checks out the locked commit
again (every run and every machine gets the same code); ``-upgrade`` resolves
each ref anew and moves the lock.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from skyplan.config.sources import (
    LOCK_FILE, GitSource, LockEntry, SourceProblem, installed_folder, is_local, locate, parse_git, read_lock,
    tree_hash, write_lock,
)
from skyplan.errors import SkyplanError

_GIT_TIMEOUT = 300


class InstallError(SkyplanError):
    """A module source could not be found or fetched; names the module block's file:line."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


@dataclass
class ModuleCall:
    path: tuple[str, ...]  # module names from the root
    source: str
    folder: str
    entry: LockEntry | None = None
    where: str = ""  # file:line of the module block
    children: list["ModuleCall"] = field(default_factory=list)

    @property
    def address(self) -> str:
        return ".".join(f"module.{m}" for m in self.path)


def _module_blocks(folder: str):
    """(name, source, file:line) of each module block in a folder's *.sky.hcl files."""
    from skyplan.config import ast
    from skyplan.config.loader import display_path
    from skyplan.config.parsecache import parse_file

    for p in sorted(Path(folder).glob("*.sky.hcl")):
        rel = display_path(p)
        try:
            f = parse_file(p.read_text(encoding="utf-8-sig"), rel)
        except Exception:  # noqa: BLE001 - syntax errors are validate's to report
            raise InstallError(f"{rel}: cannot be read", "run skyplan validate to see the problem") from None
        for b in f.body.blocks:
            if b.type != "module" or len(b.labels) != 1:
                continue
            a = b.body.attr("source")
            where = f"{rel}:{(a or b).pos[0]}:{(a or b).pos[1]}"
            if a is None or not isinstance(a.expr, ast.Literal) or not isinstance(a.expr.value, str):
                raise InstallError(f"{where}: module \"{b.labels[0]}\" needs source = \"...\" as a literal string")
            yield b.labels[0], a.expr.value, where


def _git(args: list[str], cwd: str | None = None) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"}
    try:
        r = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=_GIT_TIMEOUT)
    except FileNotFoundError:
        raise SourceProblem("git is not installed", "install the git client to use git module sources") from None
    except subprocess.TimeoutExpired:
        raise SourceProblem(f"git {args[0]} took longer than {_GIT_TIMEOUT}s", "check that the repository is reachable") from None
    if r.returncode != 0:
        last = [ln for ln in (r.stderr or r.stdout).strip().splitlines() if ln.strip()]
        raise SourceProblem(last[-1].removeprefix("fatal: ") if last else f"git {args[0]} failed (exit {r.returncode})")
    return r.stdout.strip()


def _resolve(repo: str, ref: str | None) -> str:
    """The commit a ref (tag, branch or commit) names in a fresh clone."""
    if ref is None:
        return _git(["rev-parse", "HEAD^{commit}"], repo)
    for cand in (f"refs/tags/{ref}", f"refs/remotes/origin/{ref}", ref):
        try:
            return _git(["rev-parse", "--verify", "--quiet", f"{cand}^{{commit}}"], repo)
        except SourceProblem:
            continue
    raise SourceProblem(f"the repository has no tag, branch or commit \"{ref}\"", "check ?ref= in the source")


def fetch(src: GitSource, top_root: str, commit: str | None) -> LockEntry:
    """Clone ``src``, check out ``commit`` (or what its ref names now) into its folder
    under .skyplan/modules/ without the .git folder; the lock entry for it."""
    dest = installed_folder(top_root, src)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".fetch-", dir=dest.parent)
    try:
        try:
            _git(["clone", "--quiet", "--no-checkout", "--", src.url, tmp])
        except SourceProblem as e:
            raise SourceProblem(f"Cannot fetch module source \"{src.source}\": {e.summary}",
                                "check that the URL names a git repository you can reach") from None
        try:
            sha = commit or _resolve(tmp, src.ref)
            _git(["-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", sha], tmp)
        except SourceProblem as e:
            raise SourceProblem(f"Module source \"{src.source}\": {e.summary}", e.hint or "check ?ref= in the source") from None
        shutil.rmtree(os.path.join(tmp, ".git"))
        if src.subdir and not os.path.isdir(os.path.join(tmp, src.subdir)):
            raise SourceProblem(f"Module source \"{src.source}\": the repository has no folder \"{src.subdir}\"",
                                "check the path after // in the source")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp)
    return LockEntry(src.source, src.ref, sha, tree_hash(dest))


def init(dir: str | os.PathLike, upgrade: bool = False) -> tuple[list[ModuleCall], dict[str, str]]:
    """Fetch every git module source in the tree and write the lock file.
    Returns (the module tree, {source: "fetched" | "kept"}); raises InstallError."""
    top = os.path.abspath(dir)
    if not os.path.isdir(top):
        raise InstallError(f"Configuration folder not found: {dir}")
    try:
        old = read_lock(top)
    except SourceProblem as e:
        raise InstallError(e.summary, e.hint) from None
    new: dict[str, LockEntry] = {}
    actions: dict[str, str] = {}

    def install(source: str) -> LockEntry:
        if source in new:
            return new[source]
        src = parse_git(source)
        entry, folder = old.get(source), installed_folder(top, src)
        if entry is not None and not upgrade and folder.is_dir() and tree_hash(folder) == entry.hash:
            actions[source] = "kept"
            got = entry
        else:
            got = fetch(src, top, None if upgrade or entry is None else entry.commit)
            actions[source] = "fetched"
        new[source] = got
        return got

    def walk(folder: str, path: tuple, depth: int) -> list[ModuleCall]:
        from skyplan.config.loader import MAX_MODULE_DEPTH

        out = []
        for name, source, where in _module_blocks(folder):
            if depth >= MAX_MODULE_DEPTH:
                raise InstallError(f"{where}: modules are nested too deeply (a module calling itself?)")
            try:
                if not is_local(source):
                    install(source)
                found, entry = locate(source, folder, top, new)
            except SourceProblem as e:
                raise InstallError(f"{where}: {e.summary}", e.hint) from None
            call = ModuleCall(path + (name,), source, found, entry, where)
            call.children = walk(found, call.path, depth + 1)
            out.append(call)
        return out

    tree = walk(top, (), 0)
    if new or old:
        write_lock(top, new)
    return tree, actions


def tree(dir: str | os.PathLike) -> list[ModuleCall]:
    """The module tree as installed (nothing fetched); raises InstallError."""
    top = os.path.abspath(dir)

    def walk(folder: str, path: tuple, depth: int) -> list[ModuleCall]:
        out = []
        for name, source, where in _module_blocks(folder):
            try:
                found, entry = locate(source, folder, top)
            except SourceProblem as e:
                raise InstallError(f"{where}: {e.summary}", e.hint) from None
            call = ModuleCall(path + (name,), source, found, entry, where)
            call.children = walk(found, call.path, depth + 1) if depth < 8 else []
            out.append(call)
        return out

    try:
        return walk(top, (), 0)
    except SourceProblem as e:
        raise InstallError(e.summary, e.hint) from None


__all__ = ["LOCK_FILE", "InstallError", "ModuleCall", "init", "tree"]

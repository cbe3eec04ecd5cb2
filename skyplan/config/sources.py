"""Module sources: where a ``module`` block's code comes from.

A source is a local folder (``./modules/x``, ``../x``, an absolute path) or a git
repository (``git::https://host/org/repo.git//subdir?ref=v1.2.0``, ``git::ssh://...``,
``git::file:///...``). Git sources are fetched only by ``skyplan init``
(``config/install.py``) into ``.skyplan/modules/`` beside the root configuration
and pinned in ``.skyplan.lock.hcl`` with the commit they resolved to and a hash
of their files; loading a configuration reads them from there and never fetches.
A fetched copy that no longer matches its lock entry is an error.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

LOCK_FILE = ".skyplan.lock.hcl"
MODULES_DIR = os.path.join(".skyplan", "modules")


@dataclass(frozen=True)
class GitSource:
    """``git::URL//SUBDIR?ref=REF`` taken apart."""

    source: str  # as written
    url: str
    subdir: str = ""
    ref: str | None = None

    @property
    def slot(self) -> str:
        """The folder under .skyplan/modules/ that holds this source's checkout."""
        tail = self.url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git") or "repo"
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in tail)[:40]
        digest = hashlib.sha256(f"{self.url}?ref={self.ref or ''}".encode()).hexdigest()[:12]
        return f"{safe}-{digest}"


class SourceProblem(ValueError):
    def __init__(self, summary: str, hint: str = ""):
        super().__init__(summary)
        self.summary, self.hint = summary, hint


def is_local(source: str) -> bool:
    return source.startswith(("./", "../")) or source in (".", "..") or os.path.isabs(source)


def parse_git(source: str) -> GitSource:
    """Read a ``git::`` source; raises SourceProblem when it is malformed."""
    if not source.startswith("git::"):
        raise SourceProblem(f"Unsupported module source \"{source}\"",
                            "use a local folder (\"./modules/NAME\", \"../NAME\", an absolute path) or a git "
                            "repository: \"git::https://host/org/repo.git//subdir?ref=v1.0.0\"")
    rest = source[len("git::"):]
    ref = None
    if "?" in rest:
        rest, _, query = rest.partition("?")
        for part in query.split("&"):
            k, _, v = part.partition("=")
            if k == "ref" and v:
                ref = v
            else:
                raise SourceProblem(f"Unsupported query \"{part}\" in module source \"{source}\"",
                                    "the only query a git source takes is ?ref=TAG, BRANCH or COMMIT")
    scheme_end = rest.find("://")
    start = scheme_end + 3 if scheme_end >= 0 else 0
    if rest.startswith("file:///"):
        start = len("file://") + 1
    cut = rest.find("//", start)
    url, subdir = (rest[:cut], rest[cut + 2:].strip("/")) if cut >= 0 else (rest, "")
    if not url:
        raise SourceProblem(f"Module source \"{source}\" names no repository",
                            "write git::https://host/org/repo.git or git::file:///path/to/repo.git")
    if ".." in Path(subdir).parts:
        raise SourceProblem(f"The subfolder of module source \"{source}\" leaves the repository",
                            "write the path of a folder inside the repository after //")
    return GitSource(source=source, url=url, subdir=subdir, ref=ref)


def tree_hash(folder: str | os.PathLike) -> str:
    """``sha256:...`` of every file's relative path and bytes under ``folder``
    (``.git`` excluded), so a copy edited after ``skyplan init`` is noticed."""
    h = hashlib.sha256()
    root = Path(folder)
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if ".git" in rel.parts or not p.is_file():
            continue
        h.update(rel.as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return "sha256:" + h.hexdigest()


@dataclass(frozen=True)
class LockEntry:
    source: str
    ref: str | None
    commit: str
    hash: str


def read_lock(top_root: str) -> dict[str, LockEntry]:
    """The lock file's entries by source; {} when there is none. Raises SourceProblem
    when the file cannot be read."""
    from skyplan.config.evaluator import Scope, evaluate
    from skyplan.config.parsecache import parse_file

    path = Path(top_root) / LOCK_FILE
    if not path.is_file():
        return {}
    try:
        f = parse_file(path.read_text(encoding="utf-8"), str(path))
    except Exception as e:  # noqa: BLE001 - syntax problems in a generated file
        raise SourceProblem(f"Cannot read {LOCK_FILE}: {e}", "delete it and run skyplan init") from None
    out: dict[str, LockEntry] = {}
    for b in f.body.blocks:
        if b.type != "module" or len(b.labels) != 1:
            continue
        vals = {}
        for a in b.body.attributes:
            try:
                vals[a.name] = evaluate(a.expr, Scope(namespaces={}))
            except Exception:  # noqa: BLE001
                vals[a.name] = None
        if isinstance(vals.get("commit"), str) and isinstance(vals.get("hash"), str):
            out[b.labels[0]] = LockEntry(b.labels[0], vals.get("ref"), vals["commit"], vals["hash"])
    return out


def write_lock(top_root: str, entries: dict[str, LockEntry]) -> Path:
    import json

    lines = ["# Written by `skyplan init`: the exact code each git module source resolved to.",
             "# Commit this file; run `skyplan init -upgrade` to move a source to its ref's newest commit.", ""]
    for src in sorted(entries):
        e = entries[src]
        lines.append(f"module {json.dumps(src)} {{")
        if e.ref is not None:
            lines.append(f"  ref    = {json.dumps(e.ref)}")
        lines.append(f"  commit = {json.dumps(e.commit)}")
        lines.append(f"  hash   = {json.dumps(e.hash)}")
        lines.extend(["}", ""])
    path = Path(top_root) / LOCK_FILE
    path.write_text("\n".join(lines))
    return path


def installed_folder(top_root: str, src: GitSource) -> Path:
    return Path(top_root) / MODULES_DIR / src.slot


def locate(source: str, base: str, top_root: str, lock: dict[str, LockEntry] | None = None) -> tuple[str, LockEntry | None]:
    """The folder a module source's code is read from, without fetching anything, and
    its lock entry for git sources. Raises SourceProblem naming what to do."""
    if is_local(source):
        path = os.path.normpath(os.path.join(base, os.path.expanduser(source)))
        if not os.path.exists(path):
            raise SourceProblem(f"Module folder not found: {source}", f"looked in {_shown(path)}")
        if not os.path.isdir(path):
            raise SourceProblem(f"Module source \"{source}\" is not a folder",
                                "a module is a folder of *.sky.hcl files; name the folder, not a file")
        return path, None
    src = parse_git(source)
    entries = read_lock(top_root) if lock is None else lock
    entry = entries.get(source)
    folder = installed_folder(top_root, src)
    if entry is None or not folder.is_dir():
        raise SourceProblem(f"Module source \"{source}\" is not installed",
                            "run `skyplan init` to fetch module sources and write the lock file")
    if tree_hash(folder) != entry.hash:
        raise SourceProblem(f"Module source \"{source}\" no longer matches its entry in {LOCK_FILE}",
                            "its files changed since skyplan init; run `skyplan init -upgrade` to fetch it again")
    path = folder / src.subdir if src.subdir else folder
    if not path.is_dir():
        raise SourceProblem(f"Module source \"{source}\": the repository has no folder \"{src.subdir}\"",
                            "check the path after // in the source")
    return str(path), entry


def _shown(p: str) -> str:
    rel = os.path.relpath(p, os.getcwd())
    return p if rel.startswith("..") else rel

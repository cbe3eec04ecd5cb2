"""The parser and the caches that keep loading fast.

python-hcl2's grammar is compiled into a lark LALR parser whose tables are
cached in a user cache folder (``$SKYPLAN_CACHE_DIR``, else
``$XDG_CACHE_HOME/skyplan`` or ``~/.cache/skyplan``; the temp folder if none is
writable): the first parse on a machine builds them (about 3 s), later processes
load them in milliseconds. The syntax trees of large files are cached there too,
keyed by content, path and the code that builds them; a file of several
top-level blocks is kept block by block as well (``parse_blocks``), so editing
one workload of a large file re-parses that block alone, and a first read of
one parses its blocks over two processes.
"""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path

from skyplan.config import ast


def cache_dir() -> str:
    return os.environ.get("SKYPLAN_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "skyplan")


def _cache_file() -> str | bool:
    base = cache_dir()
    try:
        import hcl2

        version = getattr(hcl2, "__version__", "x")
        os.makedirs(base, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=base, delete=True)
        probe.close()
        return os.path.join(base, f"hcl2-{version}.lark-cache")
    except OSError:
        return True  # lark picks a file in the temp folder


@functools.lru_cache(maxsize=1)
def parser():
    from lark import Lark
    from hcl2.postlexer import PostLexer

    import hcl2

    grammar = Path(hcl2.__file__).parent / "hcl2.lark"
    return Lark.open(str(grammar), parser="lalr", cache=_cache_file(), propagate_positions=True,
                     postlex=PostLexer())


CACHE_MIN_CHARS = 8_000  # smaller files parse faster than a cache lookup is worth
CACHE_MAX_ENTRIES = 200


@functools.lru_cache(maxsize=1)
def _tree_version() -> str:
    """Changes whenever the code that builds syntax trees changes."""
    import hashlib

    from importlib.util import find_spec

    # python-hcl2's version file, read rather than imported: importing it imports lark
    spec = find_spec("hcl2")
    version = Path(spec.origin).with_name("version.py") if spec and spec.origin else None
    h = hashlib.sha256(version.read_bytes() if version is not None and version.is_file() else b"")
    for mod in ("ast.py", "syntax.py", "templates.py", "parsecache.py", "chunks.py"):
        h.update((Path(__file__).parent / mod).read_bytes())
    return h.hexdigest()[:16]


def parse_file(text: str, path: str) -> ast.File:
    """parse_text, with the trees of large files kept in the user cache folder
    (keyed by content, path and parser code), since parsing is the slow part of
    loading a large configuration; a file of many blocks is kept block by block
    (``parse_blocks``), so an edit re-parses only the blocks it touched. Set
    SKYPLAN_NO_CACHE=1 to turn it off."""
    if len(text) < CACHE_MIN_CHARS or os.environ.get("SKYPLAN_NO_CACHE"):
        return _parse(text, path)
    import hashlib
    import pickle

    tree = parse_blocks(text, path)
    if tree is not None:
        return tree

    folder = Path(cache_dir()) / "trees"
    key = hashlib.sha256(f"{_tree_version()}\0{path}\0".encode() + text.encode()).hexdigest()
    entry = folder / f"{key}.pickle"
    try:
        with open(entry, "rb") as f:
            tree = pickle.load(f)
        if isinstance(tree, ast.File) and tree.text == text and tree.path == path:
            return tree
    except Exception:  # noqa: BLE001 - a missing or unreadable cache entry: parse instead
        pass
    tree = _parse(text, path)
    _store(entry, tree)
    return tree


def _store(entry: Path, value) -> None:
    """Write ``value`` to the cache file ``entry`` (atomically), keeping the newest
    CACHE_MAX_ENTRIES of its folder; a cache that cannot be written is no error."""
    import pickle

    folder = entry.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{entry.name}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, entry)
        entries = sorted(folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime)
        for old in entries[:-CACHE_MAX_ENTRIES]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


def parse_blocks(text: str, path: str) -> ast.File | None:
    """The tree of ``text`` from its top-level blocks (``chunks.split``), each parsed
    on its own or taken from this path's entry in the block cache: the tree of
    the file as last read, and each of its blocks by its text (with the line it
    began on: a block that moved is shifted, not parsed). None when the file is
    not one of several blocks, or a part does not parse as exactly one block (the
    whole file is then parsed, and any error is said as the whole parse says it;
    the blocks that did parse are kept, so the run after the fix parses one)."""
    import hashlib
    import pickle

    from skyplan.config import chunks

    folder = Path(cache_dir()) / "blocks"
    entry = folder / (hashlib.sha256(f"{_tree_version()}\0{path}".encode()).hexdigest() + ".pickle")
    digest = hashlib.sha256(text.encode()).hexdigest()
    known: dict[str, tuple[int, ast.Block]] = {}  # block text -> (its first line, its tree there)
    try:
        with open(entry, "rb") as f:
            loaded = pickle.load(f)
        if isinstance(loaded, dict) and isinstance(loaded.get("blocks"), dict):
            last = loaded.get("file")
            if loaded.get("digest") == digest and isinstance(last, ast.File) and last.text == text:
                return last
            known = loaded["blocks"]
    except Exception:  # noqa: BLE001 - a missing or unreadable cache entry: parse instead
        pass
    parts = chunks.split(text)
    if parts is None or len(parts) < 2:
        return None
    new: dict[str, int] = {}  # the text of each block no entry holds -> the first line it is on
    for first, part in parts:
        if part not in known:
            new.setdefault(part, first)
    if new:
        todo = [(first, part) for part, first in new.items()]
        parsed = {part: (first, b) for (first, part), b in zip(todo, _parse_parts(todo, path)) if b is not None}
        if len(parsed) < len(todo):  # the whole parse says what is wrong; the run after the fix
            kept = {part: known[part] for _, part in parts if part in known}  # parses only the fixed block
            _store(entry, {"digest": None, "file": None, "blocks": {**kept, **parsed}})
            return None
        known = {**known, **parsed}
    fresh: dict[str, tuple[int, ast.Block]] = {}
    blocks = []
    for first, part in parts:
        at, block = fresh.get(part) or known[part]
        if at != first:  # lines were added or removed above it
            block = chunks.shift(block, first - at)
        fresh[part] = (first, block)
        blocks.append(block)
    # the file's body ends where the whole parse ends it: past the newline parse_text adds
    end = (text.count("\n") + 2, 1)
    tree = ast.File(path=path, body=ast.Body(attributes=(), blocks=tuple(blocks), end=end), text=text)
    _store(entry, {"digest": digest, "file": tree, "blocks": fresh})  # only this version's blocks are kept
    return tree


# Below this many new blocks a forked child costs more than half the parse saves
# (a block of a workload takes about a millisecond to parse).
SPLIT_LEAST_BLOCKS = 64


def _parse_parts(parts: list[tuple[int, str]], path: str) -> list[ast.Block | None]:
    """Each (first line, text) of ``parts`` parsed as one block (None for one that
    does not parse as exactly one), half of them in a forked child when there are
    many (``skyplan.forked``: lark is pure Python, and a first read of a large
    config is mostly this)."""
    from skyplan import forked
    from skyplan.config.syntax import parse_text  # lark and the grammar: only when a block is new

    parser()  # built, or read from its cache, before the fork: both processes use it

    def one(item: tuple[int, str]) -> ast.Block | None:
        first, part = item
        try:
            f = parse_text(part, path, line_offset=first - 1)
        except ast.SyntaxProblem:
            return None
        return f.body.blocks[0] if not f.body.attributes and len(f.body.blocks) == 1 else None

    def same(block):
        return block

    return forked.map_split(one, parts, encode=same, decode=same, least=SPLIT_LEAST_BLOCKS)


def _parse(text: str, path: str) -> ast.File:
    from skyplan.config.syntax import parse_text

    return parse_text(text, path)

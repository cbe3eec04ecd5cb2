"""Load a configuration folder: read and parse every ``*.sky.hcl`` file, check each
block against its schema, resolve variables, order everything by its references,
evaluate it (nodes.py) and assemble the DesiredGraph.

One Loader handles one folder; a ``module`` block runs a child Loader per instance
(count/for_each) on the module's folder (``sources.locate``: a local folder or a
git checkout installed by ``skyplan init``), with the module's inputs as
variables and ``module.NAME[KEY]`` in front of its addresses.
"""

from __future__ import annotations

import hashlib
import json
import os
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any, Mapping, Sequence

from skyplan.config import ast, module_nodes, nodes, schema
from skyplan.config.checks import redefined_attributes
from skyplan.config.evaluator import Namespace, POISON, Scope, did_you_mean
from skyplan.config.model import DesiredGraph, ProviderConfig, Settings, VariableValue
from skyplan.config.refs import as_ref, body_references, references
from skyplan.config.variables import Diags, declare, resolve
from skyplan.errors import DiagnosticsError

BLOCK_TYPES = ("skyplan", "variable", "locals", "output", "provider", "fleet", "workload", "module", "moved",
               "removed", "import", "policy")
LABELS = {"policy": 1, "skyplan": 0, "locals": 0, "variable": 1, "output": 1, "provider": 1, "fleet": 1, "workload": 1, "module": 1,
          "moved": 0, "removed": 0, "import": 0}
MAX_MODULE_DEPTH = 8
_TOO_DEEP = "split deeply nested expressions into local values"


class Loader:
    def __init__(self, root: str, diags: Diags, *, module_path: tuple = (), inputs: Mapping[str, Any] | None = None,
                 top_root: str | None = None, hasher=None, call_site=None):
        self.root = os.path.abspath(root)
        self.diags = diags
        self.module_path = module_path
        self.inputs = inputs
        self.top_root = top_root or self.root
        self.hasher = hasher or hashlib.sha256()
        self.call_site = call_site
        self.sensitive_inputs: set[str] = set()  # module inputs given a sensitive value by the caller
        self.files: list[ast.File] = []
        self.blocks: dict[str, dict[str, ast.Block]] = {t: {} for t in BLOCK_TYPES}
        self.locals: dict[str, tuple[ast.Attribute, str]] = {}
        self.settings_blocks: list[ast.Block] = []
        self.providers_blocks: list[ast.Block] = []
        self.schema_ok: set[int] = set()
        self.body_refs: dict[int, list] = {}  # id(block) -> the references of its body, walked once
        # evaluation results
        self.var_values: dict[str, Any] = {}
        self.sensitive_vars: set[str] = set()
        self.local_values: dict[str, Any] = {}
        self.objects = {"workload": {}, "fleet": {}, "module": {}}
        self.policies: tuple = ()  # skyplan.policy.Policy of this folder's policy blocks
        self.instances: dict[str, list] = {}  # node -> instance Addresses
        self.node_resources: dict[str, set] = {}  # node -> resource addresses it stands for
        self.node_sensitive: dict[str, bool] = {}
        self.workloads: dict = {}
        self.fleets: dict = {}
        self.outputs: dict = {}
        self.providers: dict[str, ProviderConfig] = {}
        self.positions: dict[str, dict] = {}  # owner -> attribute path -> SourceRange (DesiredGraph.positions)
        self.usage = None  # config.limits.Usage, shared with modules
        self.settings = Settings()
        self.local_order: list[str] = []
        self.eval_order: list[str] = []  # graph nodes in evaluation order
        self.shapes: dict[str, tuple] = {}  # node -> ("single", addr) | ("count", [addr]) | ("each", {k: addr})
        self.children: dict[str, "Loader"] = {}  # module path step (``serve``, ``serve["eu"]``) -> its Loader
        self.module_instances: dict[str, dict] = {}  # module node -> instance key -> resource addresses
        self.extra_deps: set = set()  # a module's depends_on, applied to everything inside it
        self.imports: list = []  # config.moves.Import of the root folder
        self.removed: list = []  # config.moves.Removed of this folder and the modules it calls
        self.moves: list = []  # config.moves.Move of this folder and the modules it calls
        self.provider_map: dict[str, str] = {}  # a module's providers = { aws = aws.west }: name inside -> caller's key
        self.extras: dict[str, dict] = {}  # node -> instance key -> count/each scope names
        from skyplan.config.outputs import Evaluation

        self.handle = Evaluation(self)

    # --- reading ----------------------------------------------------------------
    def read(self) -> None:
        from skyplan.config.parsecache import parse_file
        from skyplan.config.ast import SyntaxProblem
        from skyplan.config.templates import TemplateProblem

        folder = Path(self.root)
        if not folder.is_dir():
            self.diags.error(f"Configuration folder not found: {self.root}", None,
                             hint="pass the folder that holds your *.sky.hcl files")
            return
        paths = sorted(folder.glob("*.sky.hcl"))
        if not paths:
            self.diags.error(f"No *.sky.hcl files in {self.root}", None,
                             hint="configuration files must end in .sky.hcl")
            return
        for p in paths:
            rel = display_path(p)
            try:
                text = p.read_text(encoding="utf-8-sig")
            except UnicodeDecodeError as e:  # name the line and column of the first bad byte
                head = p.read_bytes()[:e.start]
                line = head.count(b"\n") + 1
                col = len(head[head.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
                self.diags.error(f"Cannot read file: byte 0x{e.object[e.start]:02x} is not UTF-8", rel, (line, col),
                                 hint="save the file as UTF-8")
                continue
            except OSError as e:
                self.diags.error(f"Cannot read file: {e.strerror or e}", rel, hint="check the file's permissions")
                continue
            self.hasher.update(f"{'/'.join(self.module_path)}/{p.name}\0".encode() + text.encode() + b"\0")
            try:
                self.files.append(parse_file(text, rel))
            except SyntaxProblem as e:
                self.diags.error(e.summary, rel, (e.line, e.col), detail=e.detail, hint=e.hint)
            except TemplateProblem as e:
                self.diags.error(e.summary, rel, e.pos, hint=e.hint)
            except RecursionError:
                self.diags.error("Expression nested too deeply to read", rel, hint=_TOO_DEEP)

    def collect(self) -> None:
        for f in self.files:
            for a in f.body.attributes:
                self.diags.error(f"Unexpected attribute \"{a.name}\" at the top level", f.path, a.pos,
                                 hint="attributes belong inside a block such as workload \"NAME\" { ... } or locals { ... }")
            for b in f.body.blocks:
                self._collect_block(b)

    def _collect_block(self, b: ast.Block) -> None:
        if b.type not in BLOCK_TYPES:
            self.diags.error(f"Unsupported block type \"{b.type}\"", b.file, b.pos,
                             hint=did_you_mean(b.type, BLOCK_TYPES) or f"block types are: {', '.join(BLOCK_TYPES)}")
            return
        want = LABELS[b.type]
        if len(b.labels) != want:
            example = f'{b.type} "NAME" {{ ... }}' if want else f"{b.type} {{ ... }}"
            self.diags.error(f"A {b.type} block takes {want} label(s), found {len(b.labels)}", b.file, b.pos,
                             hint=f"write {example}")
            return
        if b.labels and not _valid_name(b.labels[0]) and b.type != "provider":
            self.diags.error(f"Invalid {b.type} name \"{b.labels[0]}\"", b.file, b.label_pos[0] if b.label_pos else b.pos,
                             hint="names start with a letter or _ and contain letters, digits, _ and -")
            return
        repeated = redefined_attributes(b.body, b.file, self.diags)
        if schema.check_block(b, self.diags) and not repeated:
            self.schema_ok.add(id(b))
        if b.type == "locals":
            for a in b.body.attributes:
                if id(a) in repeated:
                    continue
                if a.name in self.locals:
                    prev = self.locals[a.name]
                    self.diags.error(f"Duplicate local value \"{a.name}\"", b.file, a.pos,
                                     hint=f"first defined at {prev[1]}:{prev[0].pos[0]}:{prev[0].pos[1]}")
                else:
                    self.locals[a.name] = (a, b.file)
            return
        if b.type == "skyplan":
            self.settings_blocks.append(b)
            return
        if b.type == "moved":
            if id(b) in self.schema_ok:
                self._moved(b)
            return
        if b.type == "import":
            if id(b) in self.schema_ok:
                self._import(b)
            return
        if b.type == "removed":
            if id(b) in self.schema_ok:
                self._removed(b)
            return
        if b.type == "provider":
            self.providers_blocks.append(b)
            return
        table = self.blocks[b.type]
        name = b.labels[0]
        if name in table:
            prev = table[name]
            self.diags.error(f"Duplicate {b.type} \"{name}\"", b.file, b.pos,
                             hint=f"first declared at {prev.file}:{prev.pos[0]}:{prev.pos[1]}; names must be unique")
            return
        table[name] = b

    def _moved(self, b: ast.Block) -> None:
        from skyplan.config.moves import Move, check
        from skyplan.errors import SourceRange

        prefix = "".join(f"module.{m}." for m in self.module_path)
        ends = []
        for name in ("from", "to"):
            a = b.body.attr(name)
            text = _address_text(a.expr)
            problem = check(text) if text else f"{name} must be an address written as a reference"
            if problem:
                self.diags.error(f"Invalid moved block: {problem}", b.file, a.pos,
                                 hint="write e.g. from = workload.a  to = module.train.workload.a (no quotes)")
                return
            ends.append(prefix + text)
        self.moves.append(Move(ends[0], ends[1], SourceRange(b.file, *b.pos)))

    def _import(self, b: ast.Block) -> None:
        from skyplan.addrs import Address
        from skyplan.config.moves import Import
        from skyplan.errors import SourceRange

        if self.module_path:
            self.diags.error("import blocks belong in the root configuration", b.file, b.pos,
                             hint="move it to the root folder and write the full address (module.NAME.workload.x)")
            return
        a, i = b.body.attr("to"), b.body.attr("id")
        text = _address_text(a.expr)
        try:
            addr = Address.parse(text or "")
        except ValueError:
            addr = None
        if addr is None or addr.kind not in ("workload", "fleet"):
            self.diags.error("Invalid import block: to must be a workload or fleet address written as a reference",
                             b.file, a.pos, hint="e.g. to = workload.x (no quotes)")
            return
        raw = i.expr.value if isinstance(i.expr, ast.Literal) else None
        if not isinstance(raw, str) or not raw:
            self.diags.error("Invalid import block: id must be a literal string", b.file, i.pos,
                             hint='e.g. id = "aws:i-0abc123" (provider key, a colon, the provider\'s id)')
            return
        self.imports.append(Import(str(addr), raw, SourceRange(b.file, *b.pos)))

    def _removed(self, b: ast.Block) -> None:
        from skyplan.config.moves import Removed, check
        from skyplan.errors import SourceRange

        a = b.body.attr("from")
        text = _address_text(a.expr)
        problem = check(text) if text else "from must be an address written as a reference"
        if problem:
            self.diags.error(f"Invalid removed block: {problem}", b.file, a.pos,
                             hint="write e.g. from = workload.old (no quotes)")
            return
        destroy = True
        for lc in b.body.blocks_of("lifecycle"):
            d = lc.body.attr("destroy")
            if d is not None:
                value = d.expr.value if isinstance(d.expr, ast.Literal) else None
                if not isinstance(value, bool):
                    self.diags.error("destroy in a removed block must be true or false", b.file, d.pos,
                                     hint="write destroy = false to forget without destroying")
                    return
                destroy = value
        prefix = "".join(f"module.{m}." for m in self.module_path)
        self.removed.append(Removed(prefix + text, destroy, SourceRange(b.file, *b.pos)))

    # --- variables --------------------------------------------------------------
    def variables(self, cli, var_files, env) -> None:
        decls = {n: declare(b, self.diags) for n, b in self.blocks["variable"].items()}
        call = f"module.{'.module.'.join(self.module_path)}" if self.module_path else ""
        if self.inputs is not None:
            f, pos, input_pos = self.call_site or (None, None, {})
            for name in self.inputs:
                if name not in decls:
                    self.diags.error(f"Unsupported input \"{name}\" for {call}", f, input_pos.get(name, pos),
                                     hint=did_you_mean(name, decls) or f"the module declares: {', '.join(sorted(decls)) or 'no variables'}")
            self.var_values = resolve(decls, self.diags, inputs=self.inputs, root=self.root, module_call=call, env={},
                                      input_site=(f, input_pos, pos))
        else:
            auto = auto_var_files(self.root)
            self.var_values = resolve(decls, self.diags, cli=cli, var_files=auto + list(var_files), env=env, root=self.root)
        self.sensitive_vars = {n for n, d in decls.items() if d.sensitive} | (self.sensitive_inputs & set(decls))
        self.decls = decls

    # --- the dependency graph -----------------------------------------------------
    def graph(self) -> dict[str, set]:
        deps: dict[str, set] = {}
        for name, (attr, _f) in self.locals.items():
            deps[f"local.{name}"] = self._ref_nodes(references(attr.expr))
        for kind in ("workload", "fleet", "module"):
            for name, b in self.blocks[kind].items():
                node = f"{kind}.{name}"
                d = self._ref_nodes(self.references_of(b))
                d |= self._depends_on_nodes(b)
                deps[node] = d
        for name, b in self.blocks["output"].items():
            deps[f"output.{name}"] = self._ref_nodes(body_references(b.body))
        return deps

    def references_of(self, block: ast.Block) -> list:
        """``body_references(block.body)``, walked once per block (the graph and each
        resource's dependencies both read it)."""
        hit = self.body_refs.get(id(block))
        if hit is None:
            hit = self.body_refs[id(block)] = body_references(block.body)
        return hit

    def _ref_nodes(self, refs) -> set:
        out = set()
        for r in refs:
            if r.kind == "var":
                continue
            if r.kind == "local" and r.name in self.locals:
                out.add(r.node)
            elif r.kind in ("workload", "fleet", "module") and r.name in self.blocks[r.kind]:
                out.add(r.node)
        return out

    def _depends_on_nodes(self, b: ast.Block) -> set:
        a = b.body.attr("depends_on")
        if a is None:
            return set()
        items = a.expr.items if isinstance(a.expr, ast.TupleExpr) else None
        if items is None:
            self.diags.error("depends_on must be a list of references", b.file, a.pos,
                             hint="e.g. depends_on = [workload.prepare, fleet.pool]")
            return set()
        out = set()
        for it in items:
            r = as_ref(it)
            if r is None or r.kind not in ("workload", "fleet", "module"):
                self.diags.error("depends_on entries must be references to workloads, fleets or modules", b.file, it.pos,
                                 hint="write workload.NAME without quotes")
                continue
            if r.name not in self.blocks[r.kind]:
                self.diags.error(f"depends_on refers to undeclared {r.kind} \"{r.node}\"", b.file, it.pos,
                                 hint=did_you_mean(r.name, self.blocks[r.kind]) or f"declare {r.kind} \"{r.name}\" or remove it")
                continue
            out.add(r.node)
        return out

    def order(self, deps: dict[str, set]) -> list[str] | None:
        try:
            return list(TopologicalSorter(deps).static_order())
        except CycleError as e:
            cycle = list(e.args[1])
            first = cycle[0]
            file, pos = self.node_pos(first)
            self.diags.error("Cycle in the configuration: " + " -> ".join(cycle), file, pos,
                             hint="break the cycle: remove a reference or a depends_on entry between these objects")
            return None

    def node_pos(self, node: str):
        kind, _, name = node.partition(".")
        if kind == "local" and name in self.locals:
            a, f = self.locals[name]
            return f, a.pos
        b = self.blocks.get(kind, {}).get(name)
        return (b.file, b.pos) if b else (None, None)

    # --- evaluation ---------------------------------------------------------------------
    def scope(self, **extra) -> Scope:
        ns = {
            "var": Namespace("var", self.var_values, "variable"),
            "local": Namespace("local", self.local_values, "local value", self.locals),
            "workload": Namespace("workload", self.objects["workload"], "workload", self.blocks["workload"]),
            "fleet": Namespace("fleet", self.objects["fleet"], "fleet", self.blocks["fleet"]),
            "module": Namespace("module", self.objects["module"], "module", self.blocks["module"]),
            "path": {"module": self.root, "root": self.top_root, "cwd": os.getcwd()},
        }
        ns.update(extra)
        return Scope(namespaces=ns, base_dir=self.root)

    def evaluate(self, order: list[str]) -> None:
        self.eval_order = order
        if self.usage is None:  # the root: limits are read before anything is expanded
            from skyplan.config.limits import Usage, read

            self.usage = Usage(read(self, self.settings_blocks[0] if self.settings_blocks else None))
        for node in order:
            kind, _, name = node.partition(".")
            if kind == "local":
                nodes.local(self, name)
            elif kind in ("workload", "fleet"):
                nodes.resource(self, kind, name)
            elif kind == "module":
                module_nodes.module(self, name)
            elif kind == "output":
                nodes.output(self, name)
        for b in self.providers_blocks:
            nodes.provider(self, b)
        for b in self.settings_blocks:
            nodes.settings(self, b)
        if self.blocks["policy"]:
            from skyplan.policy.load import read_blocks

            self.policies = read_blocks(self)

    def run(self, cli=None, var_files=(), env=None) -> None:
        self.read()
        self.collect()
        if self.module_path and self.blocks["policy"]:
            b = next(iter(self.blocks["policy"].values()))
            self.diags.error("A module may not declare policy blocks", b.file, b.pos,
                             hint="declare policies in the root configuration or in a folder named by policy_dirs")
            self.blocks["policy"] = {}
        if self.module_path and (self.settings_blocks or self.providers_blocks):
            b = (self.settings_blocks or self.providers_blocks)[0]
            self.diags.error(f"A module may not declare {b.type} blocks", b.file, b.pos,
                             hint="declare providers and settings in the root configuration; modules use them")
            self.settings_blocks, self.providers_blocks = [], []
        self.variables(cli, var_files, env)
        order = self.order(self.graph())
        if order is None:
            return
        self.evaluate(order)


def _address_text(e) -> str | None:
    """``module.m["eu"].workload.a[0]`` written as a reference -> its text."""
    import json as _json

    if isinstance(e, ast.Name):
        return e.name
    if isinstance(e, ast.GetAttr):
        head = _address_text(e.obj)
        return f"{head}.{e.attr}" if head else None
    if isinstance(e, ast.Index) and isinstance(e.key, ast.Literal) and isinstance(e.key.value, (int, str)):
        head = _address_text(e.obj)
        k = e.key.value
        key = str(k) if isinstance(k, int) and not isinstance(k, bool) else _json.dumps(k)
        return f"{head}[{key}]" if head else None
    return None


def auto_var_files(root: str) -> list[str]:
    """Variable files loaded without a flag, after environment variables and before
    -var-file files: skyplan.skyvars.hcl, skyplan.skyvars.json, then *.auto.skyvars.hcl
    and *.auto.skyvars.json in name order."""
    folder = Path(root)
    out = [str(folder / n) for n in ("skyplan.skyvars.hcl", "skyplan.skyvars.json") if (folder / n).is_file()]
    auto = sorted(list(folder.glob("*.auto.skyvars.hcl")) + list(folder.glob("*.auto.skyvars.json")), key=lambda p: p.name)
    return out + [str(p) for p in auto]


def display_path(p) -> str:
    """A file name as shown in diagnostics: relative to the current folder when inside it."""
    rel = os.path.relpath(p, os.getcwd())
    return str(p) if rel.startswith("..") else rel


def _valid_name(s: str) -> bool:
    return bool(s) and (s[0].isalpha() or s[0] == "_") and all(c.isalnum() or c in "_-" for c in s)


def load_graph(dir: str | os.PathLike, *, vars: Mapping[str, str] | None = None, var_files: Sequence[str] = (),
               env: Mapping[str, str] | None = None) -> tuple[DesiredGraph, list]:
    """Load a folder; returns (graph, diagnostics). The graph is partial when there are errors."""
    from skyplan.gcpause import paused

    diags = Diags()
    ld = Loader(str(dir), diags)
    with paused():
        try:
            ld.run(vars, var_files, env)
        except RecursionError:
            diags.error("Configuration nested too deeply to evaluate", None, hint=_TOO_DEEP)
        if not diags.has_errors:
            from skyplan.config.checks import check_references, check_region_names

            check_references(ld)
            if not diags.has_errors:
                check_region_names(ld)
    policies = tuple(ld.policies)
    if ld.settings.policy_dirs and not diags.has_errors:
        from skyplan.policy.load import load_dirs

        policies += load_dirs(ld.settings.policy_dirs, diags)
    providers = dict(ld.providers) or {"local": ProviderConfig(kind="local")}
    var_values = {n: v for n, v in ld.var_values.items() if v is not POISON}
    variables = {n: VariableValue(n, v, n in ld.sensitive_vars) for n, v in var_values.items()}
    ld.hasher.update(json.dumps(var_values, sort_keys=True, default=str).encode())
    graph = DesiredGraph(root=ld.root, settings=ld.settings, providers=providers, workloads=ld.workloads,
                         fleets=ld.fleets, outputs=ld.outputs, variables=variables, config_hash=ld.hasher.hexdigest(),
                         evaluation=ld.handle, positions=ld.positions, moves=tuple(ld.moves), removed=tuple(ld.removed),
                         imports=tuple(ld.imports), policies=policies)
    return graph, diags.items


def load(dir, *, vars=None, var_files=(), env=None) -> DesiredGraph:
    graph, diags = load_graph(dir, vars=vars, var_files=var_files, env=env)
    if any(d.severity == "error" for d in diags):
        raise DiagnosticsError(diags)
    return graph

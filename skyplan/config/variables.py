"""Input variables: declarations, values from every source, types and validation.

Precedence, lowest to highest (as in Terraform): the declared ``default``,
``SKYPLAN_VAR_<name>`` environment variables, files loaded automatically from
the config folder (``skyplan.skyvars.hcl``/``.json``, ``*.auto.skyvars.hcl``/``.json``),
``-var-file`` files in the order given, then ``-var name=value`` flags. Values given as text (environment and
flags) are taken literally for string/number/bool types and parsed as an HCL
expression for collection types.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from skyplan.config import ast
from skyplan.config.evaluator import POISON, EvalError, Namespace, Poisoned, Scope, constant, evaluate
from skyplan.config.typeexpr import ANY, Type, TypeSyntaxError, convert, parse_type
from skyplan.config.values import UNKNOWN, ConversionError, to_bool
from skyplan.errors import Diagnostic, SourceRange

ENV_PREFIX = "SKYPLAN_VAR_"
_UNSET = object()


@dataclass
class VarDecl:
    name: str
    block: ast.Block
    type: Type = ANY
    default: Any = _UNSET
    sensitive: bool = False
    nullable: bool = True
    description: str = ""
    validations: list = field(default_factory=list)  # [(condition Attribute, error_message Attribute)]
    failed: bool = False  # the declaration itself is wrong (already reported)


class Diags:
    """A diagnostics collector shared by the loader's parts. The same problem at the
    same place is kept once; ``context`` (e.g. the instance being evaluated) goes
    into the detail, with a count when many instances share the problem."""

    def __init__(self) -> None:
        self._items: dict[tuple, list] = {}  # (summary, source, severity) -> [Diagnostic, contexts]
        self.context: str | None = None
        self.errors = 0

    def error(self, summary: str, file: str | None, pos=None, *, hint: str = "", detail: str = "",
              severity: str = "error") -> None:
        src = SourceRange(file, pos[0], pos[1]) if file and pos else (SourceRange(file) if file else None)
        key = (summary, src, severity)
        entry = self._items.get(key)
        if entry is None:
            self._items[key] = [Diagnostic(summary=summary, detail=detail, source=src, severity=severity, hint=hint), []]
            self.errors += severity == "error"
            entry = self._items[key]
        if self.context and self.context not in entry[1]:
            entry[1].append(self.context)

    def warn(self, summary: str, file: str | None, pos=None, *, hint: str = "") -> None:
        self.error(summary, file, pos, hint=hint, severity="warning")

    @property
    def items(self) -> list[Diagnostic]:
        out = []
        for d, contexts in self._items.values():
            if contexts:
                where = f"in {contexts[0]}" + (f" and {len(contexts) - 1:,} more" if len(contexts) > 1 else "")
                d = Diagnostic(d.summary, f"{d.detail} ({where})" if d.detail else where, d.source, d.severity, d.hint)
            out.append(d)
        return out

    @property
    def has_errors(self) -> bool:
        return self.errors > 0


def declare(block: ast.Block, diags: Diags) -> VarDecl:
    d = VarDecl(name=block.labels[0], block=block)
    body = block.body
    for a in body.attributes:
        try:
            if a.name == "type":
                d.type = parse_type(a.expr)
            elif a.name == "default":
                d.default = constant(a.expr)
            elif a.name == "sensitive":
                d.sensitive = to_bool(constant(a.expr))
            elif a.name == "nullable":
                d.nullable = to_bool(constant(a.expr))
            elif a.name == "description":
                d.description = str(constant(a.expr))
        except TypeSyntaxError as e:
            diags.error(f"Invalid type constraint for variable \"{d.name}\"", block.file, e.pos,
                        hint="use string, number, bool, list(T), set(T), map(T), object({...}), tuple([...]) or any")
            d.failed = True
        except EvalError as e:
            diags.error(f"Invalid {a.name} for variable \"{d.name}\": {e.summary}", block.file, e.pos,
                        hint=e.hint or f"the {a.name} of a variable must be a constant (no references)")
            d.failed = True
        except ConversionError as e:
            diags.error(f"Invalid {a.name} for variable \"{d.name}\": {e}", block.file, a.pos)
    for v in body.blocks_of("validation"):
        cond, msg = v.body.attr("condition"), v.body.attr("error_message")
        if cond is None:
            diags.error(f"validation block of variable \"{d.name}\" needs a condition", block.file, v.pos)
            continue
        d.validations.append((cond, msg))
    if d.default is not _UNSET and d.default is not None:
        try:
            d.default = convert(d.default, d.type)
        except ConversionError as e:
            attr = body.attr("default")
            diags.error(f"Invalid default for variable \"{d.name}\": {e}", block.file, attr.pos if attr else block.pos,
                        hint=f"the variable's type is {d.type}")
            d.failed = True
    return d


def _from_text(decl: VarDecl, text: str):
    if decl.type.kind in ("string", "number", "bool"):
        return text
    if decl.type.kind == "any" and not text.lstrip().startswith(("[", "{", '"')):
        return text
    from skyplan.config.syntax import SyntaxProblem, parse_expression

    try:
        return constant(parse_expression(text))
    except (SyntaxProblem, EvalError) as e:
        raise ConversionError(f"cannot parse {text!r} as a {decl.type} value ({e})") from None


def _json_key_pos(text: str, key: str) -> tuple[int, int]:
    """(line, col) of ``"key":`` in a JSON variables file (its first occurrence), else (1, 1)."""
    import re

    m = re.search(re.escape(json.dumps(key)) + r"\s*:", text)
    if m is None:
        return (1, 1)
    return (text.count("\n", 0, m.start()) + 1, m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1)


def read_var_file(path: str, diags: Diags) -> list[tuple[str, Any, tuple]]:
    """(name, value, pos) for each assignment in a .skyvars.hcl or .json file."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            text = f.read()
    except UnicodeDecodeError as e:
        diags.error(f"Cannot read variables file: byte 0x{e.object[e.start]:02x} is not UTF-8", path,
                    hint="save the file as UTF-8")
        return []
    except OSError as e:
        diags.error(f"Cannot read variables file: {e.strerror or e}", path, hint="check the -var-file path")
        return []
    if path.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            diags.error(f"Invalid JSON in variables file: {e.msg}", path, (e.lineno, e.colno))
            return []
        if not isinstance(data, dict):
            diags.error("A JSON variables file must hold an object of name: value", path, (1, 1))
            return []
        from skyplan.config.functions import _norm_json

        return [(k, _norm_json(v), _json_key_pos(text, k)) for k, v in data.items()]
    from skyplan.config.syntax import SyntaxProblem, parse_text
    from skyplan.config.templates import TemplateProblem

    try:
        f = parse_text(text, path)
    except SyntaxProblem as e:
        diags.error(e.summary, path, (e.line, e.col), detail=e.detail, hint=e.hint)
        return []
    except TemplateProblem as e:
        diags.error(e.summary, path, e.pos, hint=e.hint)
        return []
    out = []
    for b in f.body.blocks:
        diags.error(f"Unexpected block \"{b.type}\" in a variables file", path, b.pos,
                    hint="a variables file holds only NAME = VALUE assignments")
    for a in f.body.attributes:
        try:
            out.append((a.name, constant(a.expr), a.pos))
        except EvalError as e:
            diags.error(f"Invalid value for \"{a.name}\": {e.summary}", path, e.pos,
                        hint="values in a variables file must be constants (no references)")
    return out


def resolve(decls: Mapping[str, VarDecl], diags: Diags, *, cli: Mapping[str, str] | None = None,
            var_files: Sequence[str] = (), env: Mapping[str, str] | None = None,
            inputs: Mapping[str, Any] | None = None, root: str = ".", module_call: str = "",
            input_site: tuple = (None, {})) -> dict[str, Any]:
    """The final value of every declared variable (converted and validated); a variable
    whose value is wrong or missing (already reported) holds ``POISON``."""
    # name -> (value, file, pos, text_from): text_from is where a value given as text came from ("" otherwise)
    raw: dict[str, tuple[Any, str | None, tuple | None, str]] = {}
    for name, d in decls.items():
        if d.default is not _UNSET:
            raw[name] = (d.default, d.block.file, d.block.pos, "")
    env = os.environ if env is None else env
    for k, v in (env or {}).items():
        if k.startswith(ENV_PREFIX) and k[len(ENV_PREFIX):] in decls:
            raw[k[len(ENV_PREFIX):]] = (v, None, None, k)
    from skyplan.config.loader import display_path

    for vf in var_files:
        path = display_path(os.path.abspath(vf))  # as the config's files are shown: relative when inside the current folder
        for name, value, pos in read_var_file(path, diags):
            if name not in decls:
                diags.warn(f"Value for undeclared variable \"{name}\"", path, pos,
                           hint=f"declare it with variable \"{name}\" {{}} or remove it from the file")
                continue
            raw[name] = (value, path, pos, "")
    for name, text in (cli or {}).items():
        if name not in decls:
            from skyplan.config.evaluator import did_you_mean

            diags.error(f"Value for undeclared variable \"{name}\" (from -var)", None,
                        hint=did_you_mean(name, decls) or f"declare it with variable \"{name}\" {{}}")
            continue
        raw[name] = (text, None, None, "-var")
    for name, value in (inputs or {}).items():
        if name in decls:  # positioned at the module block's attribute
            raw[name] = (value, input_site[0], input_site[1].get(name), "")
    values: dict[str, Any] = {}
    for name, d in decls.items():
        values[name] = POISON  # until it holds a good value: references to it are not reported again
        if d.failed:
            continue
        if name not in raw:
            if module_call:
                call_file, call_pos = (input_site[0], input_site[2]) if len(input_site) > 2 and input_site[0] else \
                    (d.block.file, d.block.pos)
                diags.error(f"Missing required input \"{name}\" for {module_call}", call_file, call_pos,
                            hint=f"set {name} = ... in the module block (declared at {d.block.file}:{d.block.pos[0]})")
            else:
                diags.error(f"No value for required variable \"{name}\"", d.block.file, d.block.pos,
                            hint=f"set it with -var {name}=..., a -var-file, {ENV_PREFIX}{name}, or give it a default")
            continue
        value, file, pos, text_from = raw[name]
        try:
            if text_from:
                value = _from_text(d, value)
            value = convert(value, d.type) if value is not None else None
        except ConversionError as e:
            if module_call and name in (inputs or {}):
                diags.error(f"Invalid value for input \"{name}\" of {module_call}: {e}", file or d.block.file,
                            pos or d.block.pos, hint=f"the module's variable \"{name}\" has type {d.type}")
                continue
            diags.error(f"Invalid value for variable \"{name}\": {e}", file or d.block.file, pos or d.block.pos,
                        hint=f"the variable's type is {d.type}" + (f" (from {text_from})" if text_from else ""))
            continue
        if value is None and not d.nullable:
            diags.error(f"Variable \"{name}\" must not be null", file or d.block.file, pos or d.block.pos,
                        hint="nullable = false is set on this variable")
            continue
        values[name] = value
    sites = {n: (input_site[0], input_site[1][n]) for n in (inputs or {})
             if module_call and input_site[0] and n in input_site[1]}
    _validate(decls, values, diags, root, sites)
    return values


def _validate(decls: Mapping[str, VarDecl], values: dict, diags: Diags, root: str, sites: Mapping | None = None) -> None:
    """Run validation blocks; a failing module input is reported at the caller's line,
    naming the module's validation block."""
    scope = Scope(namespaces={"var": Namespace("var", values, "variable")}, base_dir=root)
    for name, d in decls.items():
        if values.get(name, POISON) is POISON:
            continue
        for cond, msg in d.validations:
            try:
                ok = evaluate(cond.expr, scope)
                if ok is UNKNOWN:
                    continue  # not known before apply: nothing to check yet
                if ok is not True and ok is not False:
                    ok = to_bool(ok)
            except (EvalError, ConversionError) as e:
                diags.error(f"Invalid validation condition for variable \"{name}\": {getattr(e, 'summary', e)}",
                            d.block.file, getattr(e, "pos", None) or cond.pos)
                continue
            except Poisoned:
                continue
            if ok is False:
                text = "the validation condition is false"
                if msg is not None:
                    try:
                        text = str(evaluate(msg.expr, scope))
                    except (EvalError, Poisoned):
                        pass
                if sites and name in sites:
                    diags.error(f"Invalid value for input \"{name}\": {text}", sites[name][0], sites[name][1],
                                hint=f"checked by the validation block of variable \"{name}\" at "
                                     f"{d.block.file}:{cond.pos[0]}:{cond.pos[1]}")
                    continue
                diags.error(f"Invalid value for variable \"{name}\": {text}", d.block.file, cond.pos,
                            hint=f"this is checked by the validation block of variable \"{name}\"")

"""String templates: escapes, interpolations, ``%{if}``/``%{for}`` directives, heredocs.

Quoted strings arrive from the parser already split into literal text,
interpolations and directive markers; ``assemble`` nests the directives.
A heredoc arrives as one token, so ``heredoc_template`` scans its body for
``${`` / ``%{`` sequences, hands each embedded expression to the real parser,
and assembles the same structure.
"""

from __future__ import annotations

from skyplan.config import ast

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def unescape(s: str) -> str:
    if "\\" not in s:
        return s
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n in _ESCAPES:
                out.append(_ESCAPES[n])
                i += 2
                continue
            if n == "u" and i + 6 <= len(s):
                try:
                    out.append(chr(int(s[i + 2:i + 6], 16)))
                    i += 6
                    continue
                except ValueError:
                    pass
            if n == "U" and i + 10 <= len(s):
                try:
                    out.append(chr(int(s[i + 2:i + 10], 16)))
                    i += 10
                    continue
                except ValueError:
                    pass
        out.append(c)
        i += 1
    return "".join(out)


_TEMPLATE_HINT = ("close each ${ and %{ with }; directives pair as %{if COND}...%{else}...%{endif} and "
                  "%{for NAME in EXPR}...%{endfor}; write $${ or %%{ for a literal ${ or %{")


class TemplateProblem(Exception):
    def __init__(self, summary: str, pos, hint: str = ""):
        super().__init__(summary)
        self.summary, self.pos, self.hint = summary, pos, hint or _TEMPLATE_HINT


def assemble(parts: list, pos) -> "ast.Expr":
    """Nest flat template pieces into a Template (or a Literal when there is no
    interpolation). Pieces are str, ("interp", expr, l, r) or directive tuples
    (kind, arg, strip_left, strip_right, pos)."""
    _apply_strip(parts)
    items, rest = _nest(list(parts), pos, stop=())
    if rest:
        kind = rest[0][0]
        raise TemplateProblem(f"Template: unexpected %{{{kind}}}", rest[0][4])
    if all(isinstance(p, str) for p in items):
        return ast.Literal(pos, "".join(items))
    if len(items) == 1 and not isinstance(items[0], str) and not isinstance(items[0], (ast.TemplateIf, ast.TemplateFor)):
        # "${expr}" alone keeps the expression's own type, as in HCL
        return items[0]
    return ast.Template(pos, tuple(items))


def _apply_strip(parts: list) -> None:
    for i, p in enumerate(parts):
        if isinstance(p, tuple):
            if p[2] and i > 0 and isinstance(parts[i - 1], str):
                parts[i - 1] = parts[i - 1].rstrip()
            if p[3] and i + 1 < len(parts) and isinstance(parts[i + 1], str):
                parts[i + 1] = parts[i + 1].lstrip()


def _nest(parts: list, pos, stop: tuple):
    out: list = []
    while parts:
        p = parts[0]
        if isinstance(p, str):
            if p:
                if out and isinstance(out[-1], str):
                    out[-1] += p
                else:
                    out.append(p)
            parts.pop(0)
            continue
        kind = p[0]
        if kind in stop:
            return out, parts
        parts.pop(0)
        if kind == "interp":
            out.append(p[1])
        elif kind == "if":
            then, parts = _nest(parts, p[4], ("else", "endif"))
            other: list = []
            if parts and parts[0][0] == "else":
                parts.pop(0)
                other, parts = _nest(parts, p[4], ("endif",))
            if not parts or parts[0][0] != "endif":
                raise TemplateProblem("Template: %{if} without a matching %{endif}", p[4])
            parts.pop(0)
            out.append(ast.TemplateIf(p[4], p[1], tuple(then), tuple(other)))
        elif kind == "for":
            names, coll = p[1]
            body, parts = _nest(parts, p[4], ("endfor",))
            if not parts:
                raise TemplateProblem("Template: %{for} without a matching %{endfor}", p[4])
            parts.pop(0)
            kv, vv = (names[0], names[1]) if len(names) == 2 else (None, names[0])
            out.append(ast.TemplateFor(p[4], kv, vv, coll, tuple(body)))
        else:
            raise TemplateProblem(f"Template: unexpected %{{{kind}}}", p[4])
    if stop:
        return out, parts
    return out, []


def heredoc_template(token: str, pos, *, trim: bool) -> "ast.Expr":
    """``<<EOT\\n...\\nEOT\\n`` -> a Template/Literal of the body."""
    first_nl = token.index("\n")
    body = token[first_nl + 1:]
    # drop the closing marker line
    body = body.rstrip("\n")
    last_nl = body.rfind("\n")
    body = body[:last_nl + 1] if last_nl >= 0 else ""
    body = body.replace("\r\n", "\n")
    cut = 0
    if trim:
        lines = body.split("\n")
        indents = [len(ln) - len(ln.lstrip(" \t")) for ln in lines if ln.strip()]
        cut = min(indents) if indents else 0
        body = "\n".join(ln[cut:] for ln in lines)
    return assemble(scan(body, (pos[0] + 1, 1 + cut)), pos)


def scan(text: str, pos) -> list:
    """Split template text into literal strings and interpolation/directive pieces."""
    from skyplan.config.syntax import parse_expression

    parts: list = []
    buf: list = []
    i, n = 0, len(text)
    while i < n:
        if text.startswith("$${", i) or text.startswith("%%{", i):
            buf.append(text[i + 1:i + 3])
            i += 3
            continue
        if text.startswith("${", i) or text.startswith("%{", i):
            end = _closing_brace(text, i + 2)
            if end < 0:
                raise TemplateProblem("Template: unclosed " + text[i:i + 2], _at(text, i, pos))
            inner = text[i + 2:end]
            where = _at(text, i + 2, pos)
            if buf:
                parts.append("".join(buf))
                buf = []
            if text[i] == "$":
                parts.append(("interp", parse_expression(inner.strip("~").strip() or "null", *where), False, False))
            else:
                parts.append(_directive(inner, where, parse_expression))
            i = end + 1
            continue
        buf.append(text[i])
        i += 1
    if buf:
        parts.append("".join(buf))
    return parts


def _directive(inner: str, where, parse_expression):
    left = inner.startswith("~")
    right = inner.endswith("~")
    s = inner.strip("~").strip()
    word, _, rest = s.partition(" ")
    if word == "if":
        return ("if", parse_expression(rest, *where), left, right, where)
    if word in ("else", "endif", "endfor") and not rest.strip():
        return (word, None, left, right, where)
    if word == "for":
        head, sep, coll = rest.partition(" in ")
        names = [x.strip() for x in head.split(",")]
        if not sep or not all(x.isidentifier() for x in names) or len(names) > 2:
            raise TemplateProblem("Template: expected %{for NAME in EXPR}", where)
        return ("for", (names, parse_expression(coll, *where)), left, right, where)
    raise TemplateProblem(f"Template: unknown directive %{{{s}}}", where,
                          hint="directives are if, else, endif, for and endfor")


def _closing_brace(text: str, i: int) -> int:
    depth, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return -1


def _at(text: str, i: int, pos) -> tuple:
    line = pos[0] + text.count("\n", 0, i)
    col = i - (text.rfind("\n", 0, i) + 1) + pos[1]
    return (line, col)

"""Parse HCL text into the syntax tree of ``ast.py``.

python-hcl2 (8.1.4, pinned) supplies the grammar and its lark LALR parser
(built and cached by ``parsecache.py``); we walk lark's own tree, which carries
line/column positions, into ``ast`` nodes.
"""

from __future__ import annotations

from lark import Token, Tree

from skyplan.config import ast
from skyplan.config.ast import SyntaxProblem  # noqa: F401 - raised here, defined without lark
from skyplan.config.parsecache import parser
from skyplan.config.templates import heredoc_template, unescape

BINARY_OPS = {"||", "&&", "==", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "%"}


def parse_text(text: str, path: str = "<input>", *, line_offset: int = 0) -> ast.File:
    """Parse a whole file. Raises SyntaxProblem (positions are 1-based)."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

    try:
        tree = parser().parse(text + "\n")
    except UnexpectedToken as e:
        tok = e.token
        found = _found(tok)
        expected = sorted(_pretty_expected(e.expected))
        hint = "check for a missing quote, bracket, brace or '=' just before this point"
        if str(tok).startswith("'"):
            hint = "strings use double quotes: \"text\""
        elif tok.type == "COMMA":
            hint = ("put each attribute of a block on its own line; commas separate the elements of an "
                    "object value: quota = { accelerator = \"H100\", max = 8 }")
        raise SyntaxProblem(f"Syntax error: unexpected {found}", e.line or _last_line(text), e.column or 1,
                            detail=("expected " + ("one of: " if len(expected) > 1 else "") + ", ".join(expected[:8])) if expected else "",
                            hint=hint) from None
    except UnexpectedCharacters as e:
        raise SyntaxProblem(f"Syntax error: unexpected character {text[e.pos_in_stream]!r}"
                            if 0 <= e.pos_in_stream < len(text) else "Syntax error: unexpected character",
                            e.line, e.column,
                            hint="strings use double quotes; comments start with #, // or /*") from None
    except UnexpectedEOF:
        raise SyntaxProblem("Syntax error: unexpected end of file", _last_line(text), 1,
                            hint="a block or bracket is not closed") from None
    except UnexpectedInput as e:  # pragma: no cover - other lark input errors
        raise SyntaxProblem(f"Syntax error: {e}", getattr(e, "line", 1) or 1, getattr(e, "column", 1) or 1) from None
    conv = _Converter(text, path, line_offset)
    body = conv.body(tree.children[0])
    return ast.File(path=path, body=body, text=text)


def parse_expression(text: str, line: int = 1, col: int = 1) -> ast.Expr:
    """Parse one expression (used for heredoc interpolations, -var values, console)."""
    try:
        f = parse_text(f"__expr = {text}\n", "<expr>")
    except SyntaxProblem as e:
        e_line, e_col = e.line, e.col
        if e_line > text.count("\n") + 1:  # past the expression, on the line the wrapper added:
            e_line = text.count("\n") + 1  # an unexpected end is where the expression ends
            e_col = len(text) - (text.rfind("\n") + 1) + (10 if e_line == 1 else 1)
        raise SyntaxProblem(e.summary, line + e_line - 1, (col + e_col - 10) if e_line == 1 else e_col,
                            e.detail, e.hint) from None
    if len(f.body.attributes) != 1 or f.body.blocks:
        raise SyntaxProblem("Syntax error: expected a single expression", line, col)
    expr = f.body.attributes[0].expr
    return _shift(expr, line - 1, col - 10)


def _shift(expr, dline: int, dcol: int):
    """Move the positions of an expression parsed out of context to where it really is."""
    if not dline and not dcol:
        return expr
    import dataclasses

    def fix(n):
        if isinstance(n, tuple):
            return tuple(fix(x) for x in n)
        if not isinstance(n, ast.Node):
            return n
        changes = {}
        for f in dataclasses.fields(n):
            v = getattr(n, f.name)
            if f.name == "pos":
                line, c = v
                changes["pos"] = (line + dline, c + dcol if line == 1 else c)
            elif isinstance(v, (ast.Node, tuple)):
                changes[f.name] = fix(v)
        return dataclasses.replace(n, **changes)

    return fix(expr)


def _last_line(text: str) -> int:
    return text.count("\n") + 1


_TOKEN_NAMES = {"RBRACE": "'}'", "LBRACE": "'{'", "RSQB": "']'", "LSQB": "'['", "RPAR": "')'", "LPAR": "'('",
                "EQ": "'='", "COMMA": "','", "NAME": "a name", "DBLQUOTE": "'\"'", "NL_OR_COMMENT": "a new line",
                "COLON": "':'", "QMARK": "'?'", "DOT": "'.'", "$END": "end of file", "INT_LITERAL": "a number",
                "FLOAT_LITERAL": "a number", "HEREDOC_TEMPLATE": "a heredoc", "HEREDOC_TEMPLATE_TRIM": "a heredoc",
                "INTERP_START": "'${'", "DIRECTIVE_START": "'%{'", "STRING_CHARS": "text", "MINUS": "'-'", "NOT": "'!'",
                "ELLIPSIS": "'...'", "FOR_OBJECT_ARROW": "'=>'"}
_HIDDEN = {"ESCAPED_INTERPOLATION", "ESCAPED_DIRECTIVE", "TEMPLATE_STRING", "STRIP_MARKER", "COLONS", "IF", "IN", "FOR",
           "FOR_EACH", "ELSE", "ENDIF", "ENDFOR", "TRUE", "FALSE", "NULL"}


def _pretty_expected(expected) -> set:
    return {_TOKEN_NAMES.get(t, t.lower()) for t in expected if t not in _HIDDEN}


def _found(tok) -> str:
    if tok.type == "$END":
        return "end of file"
    text = str(tok).strip().split("\n")[0]
    if not text:
        return "a new line" if tok.type == "NL_OR_COMMENT" else tok.type
    return repr(text[:30])


class _Converter:
    def __init__(self, text: str, path: str, line_offset: int):
        self.text, self.path, self.off = text, path, line_offset

    def pos(self, t) -> tuple:
        if isinstance(t, Token):
            return (t.line + self.off, t.column)
        m = t.meta
        return (getattr(m, "line", 1) + self.off, getattr(m, "column", 1))

    @staticmethod
    def kids(t) -> list:
        return [c for c in t.children if type(c) is Tree and c.data != "new_line_or_comment"]

    def source(self, t) -> str:
        m = t.meta
        if getattr(m, "empty", False) or not hasattr(m, "start_pos"):
            return ""
        return self.text[m.start_pos:m.end_pos]

    # structure
    def body(self, t) -> ast.Body:
        attrs, blocks = [], []
        for c in self.kids(t):
            if c.data == "attribute":
                k = self.kids(c)
                name = self.name_of(k[0])
                expr = self.expr(k[1])
                attrs.append(ast.Attribute(pos=self.pos(c), name=name, expr=expr, text=self.source(k[1]).strip()))
            elif c.data == "block":
                blocks.append(self.block(c))
        end = (getattr(t.meta, "end_line", 0) + self.off, getattr(t.meta, "end_column", 0)) if not getattr(t.meta, "empty", False) else (0, 0)
        return ast.Body(attributes=tuple(attrs), blocks=tuple(blocks), end=end)

    def block(self, t) -> ast.Block:
        k = self.kids(t)
        type_ = self.name_of(k[0])
        labels, label_pos = [], []
        for lab in k[1:-1]:
            if lab.data == "string":
                labels.append("".join(unescape(str(p.children[0])) for p in lab.children
                                      if getattr(p, "data", None) == "string_part" and not hasattr(p.children[0], "data")))
            else:
                labels.append(self.name_of(lab))
            label_pos.append(self.pos(lab))
        return ast.Block(pos=self.pos(t), type=type_, labels=tuple(labels), body=self.body(k[-1]),
                         file=self.path, label_pos=tuple(label_pos))

    def name_of(self, t) -> str:
        return str(t.children[0])

    # expressions
    def expr(self, t):
        d = t.data
        fn = getattr(self, "x_" + d, None)
        if fn is None:
            raise SyntaxProblem(f"Unsupported syntax: {d}", *self.pos(t))
        return fn(t)

    def x_expr_term(self, t):
        first = t.children[0]
        if isinstance(first, Token) and first.type == "LPAR":
            return ast.Paren(self.pos(t), self.expr(self.kids(t)[0]))
        return self.expr(self.kids(t)[0])

    def x_int_lit(self, t):
        return ast.Literal(self.pos(t), int(str(t.children[0])))

    def x_float_lit(self, t):
        return ast.Literal(self.pos(t), float(str(t.children[0])))

    def x_literal_value(self, t):
        v = str(t.children[0])
        return ast.Literal(self.pos(t), {"true": True, "false": False, "null": None}[v])

    def x_identifier(self, t):
        return ast.Name(self.pos(t), str(t.children[0]))

    def x_keyword(self, t):
        return ast.Name(self.pos(t), str(t.children[0]))

    def x_string(self, t):
        from skyplan.config.templates import assemble

        parts: list = []
        for p in t.children:
            if getattr(p, "data", None) != "string_part":
                continue
            c = p.children[0]
            if hasattr(c, "data"):
                parts.append(self.template_piece(c))
            else:
                s = str(c)
                if c.type == "ESCAPED_INTERPOLATION":
                    parts.append(s[1:])
                elif c.type == "ESCAPED_DIRECTIVE":
                    parts.append(s[1:])
                else:
                    parts.append(unescape(s))
        return assemble(parts, self.pos(t))

    def template_piece(self, t):
        k = self.kids(t)
        strip = [c for c in t.children if isinstance(c, Token) and c.type == "STRIP_MARKER"]
        toks = [c for c in t.children if isinstance(c, Token)]
        # strip markers: one right after "%{" strips left, one right before "}" strips right
        left = len(toks) > 1 and toks[1].type == "STRIP_MARKER"
        right = len(toks) > 1 and toks[-2].type == "STRIP_MARKER"
        del strip
        if t.data == "interpolation":
            return ("interp", self.expr(k[0]), False, False)
        if t.data == "template_if_start":
            return ("if", self.expr(k[0]), left, right, self.pos(t))
        if t.data == "template_else":
            return ("else", None, left, right, self.pos(t))
        if t.data == "template_endif":
            return ("endif", None, left, right, self.pos(t))
        if t.data == "template_for_start":
            names = [self.name_of(x) for x in k if x.data == "identifier"]
            coll = self.expr(k[-1])
            return ("for", (names, coll), left, right, self.pos(t))
        if t.data == "template_endfor":
            return ("endfor", None, left, right, self.pos(t))
        raise SyntaxProblem(f"Unsupported template syntax: {t.data}", *self.pos(t))

    def x_template_string(self, t):
        s = str(t.children[0])
        return ast.Literal(self.pos(t), unescape(s[2:-2]))

    def x_heredoc_template(self, t):
        return heredoc_template(str(t.children[0]), self.pos(t), trim=False)

    def x_heredoc_template_trim(self, t):
        return heredoc_template(str(t.children[0]), self.pos(t), trim=True)

    def x_tuple(self, t):
        return ast.TupleExpr(self.pos(t), tuple(self.expr(c) for c in self.kids(t)))

    def x_object(self, t):
        items = []
        for el in self.kids(t):
            k = self.kids(el)
            keyt = self.kids(k[0])[0]
            key = self.expr(keyt)
            if isinstance(key, ast.Name):
                key = ast.Literal(key.pos, key.name)
            items.append((key, self.expr(k[1])))
        return ast.ObjectExpr(self.pos(t), tuple(items))

    def x_function_call(self, t):
        k = self.kids(t)
        names = [self.name_of(x) for x in k if x.data == "identifier"]
        args_t = [x for x in k if x.data == "arguments"]
        args, expand = (), False
        if args_t:
            args = tuple(self.expr(c) for c in self.kids(args_t[0]))
            expand = any(isinstance(c, Token) and c.type == "ELLIPSIS" for c in args_t[0].children)
        return ast.Call(self.pos(t), "::".join(names), args, expand)

    def x_index_expr_term(self, t):
        k = self.kids(t)
        return ast.Index(self.pos(t), self.expr(k[0]), self.index_key(k[1]))

    def index_key(self, t):
        if t.data == "braces_index":
            return self.expr(self.kids(t)[0])
        tok = t.children[-1]
        return ast.Literal(self.pos(tok), int(str(tok)))

    def x_get_attr_expr_term(self, t):
        k = self.kids(t)
        return ast.GetAttr(self.pos(t), self.expr(k[0]), self.name_of(self.kids(k[1])[0]))

    def _splat(self, t, full: bool):
        k = self.kids(t)
        steps = []
        for s in self.kids(k[1]):
            if s.data == "get_attr":
                steps.append(("attr", self.name_of(self.kids(s)[0])))
            else:
                steps.append(("index", self.index_key(s)))
        return ast.Splat(self.pos(t), self.expr(k[0]), tuple(steps), full)

    def x_attr_splat_expr_term(self, t):
        return self._splat(t, False)

    def x_full_splat_expr_term(self, t):
        return self._splat(t, True)

    def x_unary_op(self, t):
        op = str(t.children[0]).strip()
        return ast.Unary(self.pos(t), op, self.expr(self.kids(t)[0]))

    def x_binary_op(self, t):
        k = self.kids(t)
        term = self.kids(k[1])
        op = str(term[0].children[0]).split()[-1] if str(term[0].children[0]).split() else str(term[0].children[0])
        op = op.strip()
        return ast.Binary(self.pos(term[0]), op, self.expr(k[0]), self.expr(term[1]))

    def x_conditional(self, t):
        k = self.kids(t)
        return ast.Conditional(self.pos(t), self.expr(k[0]), self.expr(k[1]), self.expr(k[2]))

    def _for_intro(self, t):
        k = self.kids(t)
        names = [self.name_of(x) for x in k if x.data == "identifier"]
        coll = self.expr(k[-1])
        if len(names) == 2:
            return names[0], names[1], coll
        return None, names[0], coll

    def x_for_tuple_expr(self, t):
        k = self.kids(t)
        kv, vv, coll = self._for_intro(k[0])
        cond = [x for x in k if x.data == "for_cond"]
        return ast.ForExpr(self.pos(t), kv, vv, coll, self.expr(k[1]), None,
                           self.expr(self.kids(cond[0])[0]) if cond else None)

    def x_for_object_expr(self, t):
        k = self.kids(t)
        kv, vv, coll = self._for_intro(k[0])
        cond = [x for x in k if x.data == "for_cond"]
        group = any(isinstance(c, Token) and c.type == "ELLIPSIS" for c in t.children)
        return ast.ForExpr(self.pos(t), kv, vv, coll, self.expr(k[2]), self.expr(k[1]),
                           self.expr(self.kids(cond[0])[0]) if cond else None, group)

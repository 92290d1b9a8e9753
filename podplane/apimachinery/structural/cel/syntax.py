"""CEL's syntax (github.com/google/cel-spec langdef.md): tokens and a recursive-descent parser
into the small AST of ast.py. Errors carry the offset where they are, for cel-go's display
(`ERROR: <input>:1:5: ...` with the line and a caret)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from podplane.apimachinery.structural.cel import ast

_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\n\r\f]+|//[^\n]*)
  | (?P<number>0x[0-9a-fA-F]+u?|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?u?)
  | (?P<string>(?:[rR][bB]?|[bB][rR]?)?
        (?:'''[\s\S]*?'''|\"\"\"[\s\S]*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\.\?|\[\?|&&|\|\||==|!=|<=|>=|[-+*/%!<>?:.,()\[\]{}])
    """,
    re.VERBOSE,
)
_RESERVED = {
    "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let",
    "loop", "package", "namespace", "return", "var", "void", "while",
}  # fmt: skip
_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_ESCAPES |= {"\\": "\\", "'": "'", '"': '"', "`": "`", "?": "?"}


class CELSyntaxError(ValueError):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, ident, op, eof
    text: str
    offset: int


def tokenize(source: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(source):
        m = _TOKEN.match(source, pos)
        if m is None:
            raise CELSyntaxError(f"Syntax error: token recognition error at: '{source[pos]}'", pos)
        kind = m.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, m.group(0), pos))
        pos = m.end()
    tokens.append(Token("eof", "<EOF>", len(source)))
    return tokens


def _unquote(text: str, offset: int) -> str | bytes:
    prefix = re.match(r"[rRbB]*", text)
    flags = prefix.group(0).lower() if prefix else ""
    body = text[len(flags) :]
    quote = 3 if body[:3] in ("'''", '"""') else 1
    body = body[quote:-quote]
    if "r" not in flags:
        body = _unescape(body, offset)
    if "b" in flags:
        return body.encode("utf-8", "surrogateescape")
    return body


def _unescape(body: str, offset: int) -> str:
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        nxt = body[i + 1 : i + 2]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt in ("x", "u", "U"):
            width = {"x": 2, "u": 4, "U": 8}[nxt]
            digits = body[i + 2 : i + 2 + width]
            if not re.fullmatch(f"[0-9a-fA-F]{{{width}}}", digits):
                raise CELSyntaxError("Syntax error: invalid escape sequence", offset)
            out.append(chr(int(digits, 16)))
            i += 2 + width
        elif re.fullmatch(r"[0-3][0-7]{2}", body[i + 1 : i + 4]):
            out.append(chr(int(body[i + 1 : i + 4], 8)))
            i += 4
        else:
            raise CELSyntaxError("Syntax error: invalid escape sequence", offset)
    return "".join(out)


class Parser:
    def __init__(self, source: str) -> None:
        self.tokens = tokenize(source)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def accept(self, text: str) -> Token | None:
        if self.tok.kind == "op" and self.tok.text == text:
            return self.take()
        return None

    def expect(self, text: str) -> Token:
        token = self.accept(text)
        if token is None:
            got = self.tok.text
            raise CELSyntaxError(
                f"Syntax error: mismatched input '{got}' expecting '{text}'", self.tok.offset
            )
        return token

    def parse(self) -> ast.Expr:
        expr = self.expr()
        if self.tok.kind != "eof":
            raise CELSyntaxError(
                f"Syntax error: extraneous input '{self.tok.text}' expecting <EOF>", self.tok.offset
            )
        return expr

    # -------------------------------------------------------------- precedence levels
    def expr(self) -> ast.Expr:
        cond = self.or_()
        question = self.accept("?")
        if question is None:
            return cond
        then = self.or_()
        self.expect(":")
        return ast.Call(question.offset, "_?_:_", [cond, then, self.expr()])

    def or_(self) -> ast.Expr:
        left = self.and_()
        while op := self.accept("||"):
            left = ast.Call(op.offset, "_||_", [left, self.and_()])
        return left

    def and_(self) -> ast.Expr:
        left = self.relation()
        while op := self.accept("&&"):
            left = ast.Call(op.offset, "_&&_", [left, self.relation()])
        return left

    def relation(self) -> ast.Expr:
        left = self.addition()
        while True:
            token = self.tok
            is_in = token.kind == "ident" and token.text == "in"
            if not is_in and not (
                token.kind == "op" and token.text in ("<", "<=", ">", ">=", "==", "!=")
            ):
                return left
            self.take()
            name = "@in" if is_in else f"_{token.text}_"
            left = ast.Call(token.offset, name, [left, self.addition()])

    def addition(self) -> ast.Expr:
        left = self.multiplication()
        while self.tok.kind == "op" and self.tok.text in ("+", "-"):
            op = self.take()
            left = ast.Call(op.offset, f"_{op.text}_", [left, self.multiplication()])
        return left

    def multiplication(self) -> ast.Expr:
        left = self.unary()
        while self.tok.kind == "op" and self.tok.text in ("*", "/", "%"):
            op = self.take()
            left = ast.Call(op.offset, f"_{op.text}_", [left, self.unary()])
        return left

    def unary(self) -> ast.Expr:
        if op := self.accept("!"):
            return ast.Call(op.offset, "!_", [self.unary()])
        if op := self.accept("-"):
            if self.tok.kind == "number" and not self.tok.text.endswith("u"):
                literal = self.literal(self.take(), negative=True)
                return self.member_suffixes(literal)
            return ast.Call(op.offset, "-_", [self.unary()])
        return self.member()

    # -------------------------------------------------------------- members and primaries
    def member(self) -> ast.Expr:
        return self.member_suffixes(self.primary())

    def member_suffixes(self, expr: ast.Expr) -> ast.Expr:
        while True:
            if op := self.accept(".") or self.accept(".?"):
                name = self.ident(field=True)
                if op.text == "." and self.accept("("):
                    expr = ast.Call(op.offset, name.text, self.args(")"), target=expr)
                else:
                    expr = ast.Select(op.offset, expr, name.text, optional=op.text == ".?")
            elif op := self.accept("[") or self.accept("[?"):
                index = self.expr()
                self.expect("]")
                function = "_[?_]" if op.text == "[?" else "_[_]"
                expr = ast.Call(op.offset, function, [expr, index])
            else:
                return expr

    def ident(self, field: bool = False) -> Token:
        """An identifier; after a dot (a field), reserved words are names too."""
        if self.tok.kind != "ident":
            raise CELSyntaxError(
                f"Syntax error: mismatched input '{self.tok.text}' expecting IDENTIFIER",
                self.tok.offset,
            )
        if self.tok.text in _RESERVED and not field:
            raise CELSyntaxError(
                f"Syntax error: reserved identifier: {self.tok.text}", self.tok.offset
            )
        return self.take()

    def args(self, closer: str) -> list[ast.Expr]:
        out: list[ast.Expr] = []
        while not self.accept(closer):
            if out:
                self.expect(",")
                if self.accept(closer):
                    break
            out.append(self.expr())
        return out

    def primary(self) -> ast.Expr:
        token = self.tok
        if token.kind in ("number", "string"):
            return self.literal(self.take())
        if token.kind == "ident":
            if token.text in ("true", "false", "null"):
                self.take()
                value = {"true": True, "false": False, "null": None}[token.text]
                return ast.Literal(token.offset, value)
            name = self.ident()
            if self.accept("("):
                return ast.Call(name.offset, name.text, self.args(")"))
            return ast.Ident(name.offset, name.text)
        if self.accept("("):
            expr = self.expr()
            self.expect(")")
            return expr
        if op := self.accept("["):
            return ast.ListExpr(op.offset, self.args("]"))
        if op := self.accept("{"):
            entries: list[tuple[ast.Expr, ast.Expr]] = []
            while not self.accept("}"):
                if entries:
                    self.expect(",")
                    if self.accept("}"):
                        break
                key = self.expr()
                self.expect(":")
                entries.append((key, self.expr()))
            return ast.MapExpr(op.offset, entries)
        if self.accept("."):
            return self.primary()
        raise CELSyntaxError(
            f"Syntax error: mismatched input '{token.text}' expecting {{'[', '{{', '(', '.', '-', "
            "'!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, "
            "IDENTIFIER}",
            token.offset,
        )

    def literal(self, token: Token, negative: bool = False) -> ast.Literal:
        text = token.text
        if token.kind == "string":
            return ast.Literal(token.offset, _unquote(text, token.offset))
        sign = -1 if negative else 1
        if text.endswith("u"):
            return ast.Literal(token.offset, ast.Uint(int(text[:-1], 0)))
        if text.lower().startswith("0x"):
            return ast.Literal(token.offset, sign * int(text, 16))
        if any(c in text for c in ".eE"):
            return ast.Literal(token.offset, sign * float(text))
        value = sign * int(text)
        if not -(2**63) <= value < 2**63:
            raise CELSyntaxError("Syntax error: invalid int literal", token.offset)
        return ast.Literal(token.offset, value)


def parse(source: str) -> ast.Expr:
    return Parser(source).parse()

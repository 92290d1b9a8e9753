"""Go's encoding/json syntax errors, for messages that repeat what a Go server says of a body
that is not JSON (`invalid character 'x' looking for beginning of value`, `unexpected end of
JSON input`): the scanner of Go's src/encoding/json/scanner.go, byte by byte, run only once
Python's parser has refused the input, to find Go's wording of the first error."""

from __future__ import annotations

from collections.abc import Callable

from podplane.apimachinery.structural.field import go_quote

_OBJECT_KEY, _OBJECT_VALUE, _ARRAY_VALUE = range(3)
_HEX = frozenset(b"0123456789abcdefABCDEF")
_DIGITS = frozenset(b"0123456789")
_SPACE = frozenset(b" \t\r\n")
MAX_NESTING_DEPTH = 10000


class _Error(Exception):
    pass


def _quote_char(c: int) -> str:
    if c == ord("'"):
        return "'\\''"
    if c == ord('"'):
        return "'\"'"
    return "'" + go_quote(chr(c))[1:-1] + "'"


def _fail(c: int, context: str) -> _Error:
    return _Error(f"invalid character {_quote_char(c)} {context}")


State = Callable[[int], None]


class _Scanner:
    def __init__(self) -> None:
        self.step: State = self.begin_value
        self.stack: list[int] = []
        self.end_top = False

    def push(self, c: int, state: int) -> None:
        self.stack.append(state)
        if len(self.stack) > MAX_NESTING_DEPTH:
            raise _fail(c, "exceeded max depth")

    def pop(self) -> None:
        self.stack.pop()
        if not self.stack:
            self.step, self.end_top = self.end_of_top, True
        else:
            self.step = self.end_value

    def begin_value_or_empty(self, c: int) -> None:
        if c in _SPACE:
            return
        if c == ord("]"):
            self.end_value(c)
            return
        self.begin_value(c)

    def begin_value(self, c: int) -> None:
        if c in _SPACE:
            return
        char = chr(c)
        if char == "{":
            self.step = self.begin_string_or_empty
            self.push(c, _OBJECT_KEY)
        elif char == "[":
            self.step = self.begin_value_or_empty
            self.push(c, _ARRAY_VALUE)
        elif char == '"':
            self.step = self.in_string
        elif char == "-":
            self.step = self.negative
        elif char == "0":
            self.step = self.zero
        elif char in "tfn":
            self.step = self.literal({"t": "true", "f": "false", "n": "null"}[char], 1)
        elif "1" <= char <= "9":
            self.step = self.digits
        else:
            raise _fail(c, "looking for beginning of value")

    def begin_string_or_empty(self, c: int) -> None:
        if c in _SPACE:
            return
        if c == ord("}"):
            self.stack[-1] = _OBJECT_VALUE
            self.end_value(c)
            return
        self.begin_string(c)

    def begin_string(self, c: int) -> None:
        if c in _SPACE:
            return
        if c != ord('"'):
            raise _fail(c, "looking for beginning of object key string")
        self.step = self.in_string

    def end_value(self, c: int) -> None:
        if not self.stack:
            self.step, self.end_top = self.end_of_top, True
            self.end_of_top(c)
            return
        if c in _SPACE:
            self.step = self.end_value
            return
        char, state = chr(c), self.stack[-1]
        if state == _OBJECT_KEY:
            if char != ":":
                raise _fail(c, "after object key")
            self.stack[-1], self.step = _OBJECT_VALUE, self.begin_value
        elif state == _OBJECT_VALUE:
            if char == ",":
                self.stack[-1], self.step = _OBJECT_KEY, self.begin_string
            elif char == "}":
                self.pop()
            else:
                raise _fail(c, "after object key:value pair")
        elif char == ",":
            self.step = self.begin_value
        elif char == "]":
            self.pop()
        else:
            raise _fail(c, "after array element")

    def end_of_top(self, c: int) -> None:
        if c not in _SPACE:
            raise _fail(c, "after top-level value")

    def in_string(self, c: int) -> None:
        if c == ord('"'):
            self.step = self.end_value
        elif c == ord("\\"):
            self.step = self.in_string_escape
        elif c < 0x20:
            raise _fail(c, "in string literal")

    def in_string_escape(self, c: int) -> None:
        if chr(c) in 'bfnrt\\/"':
            self.step = self.in_string
        elif c == ord("u"):
            self.step = self.hex_digit(4)
        else:
            raise _fail(c, "in string escape code")

    def hex_digit(self, left: int) -> State:
        def step(c: int) -> None:
            if c not in _HEX:
                raise _fail(c, "in \\u hexadecimal character escape")
            self.step = self.hex_digit(left - 1) if left > 1 else self.in_string

        return step

    def negative(self, c: int) -> None:
        if c == ord("0"):
            self.step = self.zero
        elif ord("1") <= c <= ord("9"):
            self.step = self.digits
        else:
            raise _fail(c, "in numeric literal")

    def digits(self, c: int) -> None:
        if c in _DIGITS:
            return
        self.zero(c)

    def zero(self, c: int) -> None:
        if c == ord("."):
            self.step = self.dot
        elif chr(c) in "eE":
            self.step = self.exponent
        else:
            self.end_value(c)

    def dot(self, c: int) -> None:
        if c not in _DIGITS:
            raise _fail(c, "after decimal point in numeric literal")
        self.step = self.fraction

    def fraction(self, c: int) -> None:
        if c in _DIGITS:
            return
        if chr(c) in "eE":
            self.step = self.exponent
        else:
            self.end_value(c)

    def exponent(self, c: int) -> None:
        if chr(c) in "+-":
            self.step = self.exponent_sign
            return
        self.exponent_sign(c)

    def exponent_sign(self, c: int) -> None:
        if c not in _DIGITS:
            raise _fail(c, "in exponent of numeric literal")
        self.step = self.exponent_digits

    def exponent_digits(self, c: int) -> None:
        if c not in _DIGITS:
            self.end_value(c)

    def literal(self, word: str, at: int) -> State:
        def step(c: int) -> None:
            if c != ord(word[at]):
                raise _fail(c, f"in literal {word} (expecting {_quote_char(ord(word[at]))})")
            self.step = self.literal(word, at + 1) if at + 1 < len(word) else self.end_value

        return step


def syntax_error(data: bytes) -> str | None:
    """Go's json.Unmarshal syntax error for `data`, None when it is valid JSON."""
    scanner = _Scanner()
    try:
        for c in data:
            scanner.step(c)
        if not scanner.end_top:
            scanner.step(ord(" "))
    except _Error as e:
        return str(e)
    return None if scanner.end_top else "unexpected end of JSON input"

"""Go's encoding/json syntax errors, worded as Go's scanner words them, for bodies that are not
JSON."""

from __future__ import annotations

import pytest

from podplane.apimachinery.go_json import syntax_error


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"a":1}', None),
        (b' [1, 2.5e-3, true, null, "\\u00e9"] ', None),
        (b"", "unexpected end of JSON input"),
        (b'{"a":1', "unexpected end of JSON input"),
        (b'{"a":"b', "unexpected end of JSON input"),
        (b"<html>", "invalid character '<' looking for beginning of value"),
        (b"{a}", "invalid character 'a' looking for beginning of object key string"),
        (b'{"a" 1}', "invalid character '1' after object key"),
        (b'{"a":1 "b":2}', "invalid character '\"' after object key:value pair"),
        (b"[1 2]", "invalid character '2' after array element"),
        (b'{"a":1}x', "invalid character 'x' after top-level value"),
        (b"nope", "invalid character 'o' in literal null (expecting 'u')"),
        (b'{"a":tru}', "invalid character '}' in literal true (expecting 'e')"),
        (b"tr", "invalid character ' ' in literal true (expecting 'u')"),
        (b'"\x01"', "invalid character '\\x01' in string literal"),
        (b'"\\q"', "invalid character 'q' in string escape code"),
        (b'"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape"),
        (b"1.e5", "invalid character 'e' after decimal point in numeric literal"),
        (b"1e+", "invalid character ' ' in exponent of numeric literal"),
        (b"-x", "invalid character 'x' in numeric literal"),
        (b"{'a':1}", "invalid character '\\'' looking for beginning of object key string"),
    ],
)
def test_a_syntax_error_is_worded_as_gos(data: bytes, message: str | None) -> None:
    assert syntax_error(data) == message

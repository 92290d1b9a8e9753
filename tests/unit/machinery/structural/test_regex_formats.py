"""Go regular expressions on Python's re (schemas' `pattern`), the string formats kube-apiserver
checks, and Go's formatting of values in messages."""

from __future__ import annotations

import pytest

from podplane.apimachinery.structural import formats
from podplane.apimachinery.structural.field import go_float, go_value
from podplane.apimachinery.structural.regex import (
    RegexError,
    UnsupportedRegexError,
    compile_go_regexp,
)


@pytest.mark.parametrize(
    "pattern, error",
    [
        ("(abc", "error parsing regexp: missing closing ): `(abc`"),
        ("abc)", "error parsing regexp: unexpected ): `abc)`"),
        ("a**", "error parsing regexp: invalid nested repetition operator: `**`"),
        ("a{2}{3}", "error parsing regexp: invalid nested repetition operator: `{2}{3}`"),
        ("*a", "error parsing regexp: missing argument to repetition operator: `*`"),
        ("a|+", "error parsing regexp: missing argument to repetition operator: `+`"),
        ("[a-z", "error parsing regexp: missing closing ]: `[a-z`"),
        ("[z-a]", "error parsing regexp: invalid character class range: `z-a`"),
        ("\\q", "error parsing regexp: invalid escape sequence: `\\q`"),
        ("\\Z", "error parsing regexp: invalid escape sequence: `\\Z`"),
        ("a\\", "error parsing regexp: trailing backslash at end of expression: ``"),
        ("(?=x)", "error parsing regexp: invalid or unsupported Perl syntax: `(?=`"),
        ("(?!x)", "error parsing regexp: invalid or unsupported Perl syntax: `(?!`"),
        ("(a)\\1", "error parsing regexp: invalid escape sequence: `\\1`"),
        ("x{1001}", "error parsing regexp: invalid repeat count: `{1001}`"),
        ("a*+", "error parsing regexp: invalid nested repetition operator: `*+`"),
    ],
)
def test_what_go_refuses_is_refused_with_go_s_message(pattern: str, error: str) -> None:
    with pytest.raises(RegexError) as raised:
        compile_go_regexp(pattern)
    assert str(raised.value) == error
    assert not isinstance(raised.value, UnsupportedRegexError)


@pytest.mark.parametrize("pattern", ["\\pL", "\\p{Greek}", "(?U)a*"])
def test_what_podplane_cannot_evaluate_is_refused_as_unsupported(pattern: str) -> None:
    with pytest.raises(UnsupportedRegexError):
        compile_go_regexp(pattern)


@pytest.mark.parametrize(
    "pattern, matching, not_matching",
    [
        ("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", ["abc", "a-1"], ["abc\n", "-a", ""]),
        ("^abc$", ["abc"], ["abc\n"]),  # Go's $ is the end of the text
        ("(?m)^b$", ["a\nb\nc"], ["abc"]),
        ("^\\d+$", ["123"], ["١٢٣"]),  # \d is ASCII in Go
        ("^\\w+$", ["a_1"], ["é"]),
        ("^\\s$", [" ", "\t"], ["\v", "\u00a0"]),
        ("^[[:alpha:]]+$", ["abc"], ["ab1"]),
        ("^\\Qa.b\\E$", ["a.b"], ["axb"]),
        ("^\\x{41}\\101$", ["AA"], ["A"]),
        ("a(?i)b|c", ["aB", "C"], ["AB"]),
        ("^(?P<x>a)(?<y>b)$", ["ab"], ["ba"]),
        ("x{,3}", ["x{,3}"], ["xxx"]),  # not a repetition in Go: literal braces
        ("^[]a]+$", ["]a"], ["b"]),
        ("\\bfoo\\b", ["a foo b", "éfooé"], ["xfoox"]),  # \\b is ASCII: é is no word char
    ],
)
def test_matches_as_go_matches(pattern: str, matching: list[str], not_matching: list[str]) -> None:
    regexp = compile_go_regexp(pattern)
    assert all(regexp.search(s) for s in matching)
    assert not any(regexp.search(s) for s in not_matching)


@pytest.mark.parametrize(
    "name, valid, invalid",
    [
        ("date", ["2024-02-29"], ["2023-02-29", "2024-2-1", "2024-13-01"]),
        (
            "date-time",
            ["2024-01-02T03:04:05Z", "2024-01-02t03:04:05.5+01:00"],
            ["2024-01-02", "2024-01-02T25:00:00Z"],
        ),
        ("duration", ["1h30m", "0", "3 days", "5 minutes"], ["abc", "1x"]),
        (
            "uuid",
            ["123e4567-e89b-12d3-a456-426614174000", "123E4567E89B12D3A456426614174000"],
            ["123"],
        ),
        (
            "uuid4",
            ["123e4567-e89b-42d3-a456-426614174000"],
            ["123e4567-e89b-12d3-a456-426614174000"],
        ),
        ("email", ["a@b.com", "Name <a.b@c.org>"], ["a@", "@b", "a..b@c"]),
        ("hostname", ["example.com", "a", "bücher.de"], ["-a", "a_b.com"]),
        ("ipv4", ["10.0.0.1", "010.0.0.1", "::ffff:1.2.3.4"], ["1.2.3", "256.0.0.1", "::1"]),
        ("ipv6", ["::1", "fe80::1"], ["1.2.3.4", "fe80::1%eth0"]),
        ("cidr", ["10.0.0.0/8", "::/0"], ["10.0.0.0", "10.0.0.0/33"]),
        (
            "mac",
            ["00:00:5e:00:53:01", "00-00-5E-00-53-01", "0000.5e00.5301"],
            ["00:00:5e", "zz:00:5e:00:53:01"],
        ),
        ("uri", ["https://example.com/a?b=c", "/path"], ["example.com", "http://a:port/", ""]),
        ("byte", ["aGVsbG8="], ["hello!", ""]),
        ("bsonobjectid", ["507f1f77bcf86cd799439011"], ["507f1f77"]),
        ("isbn", ["0321751043", "978-0321751041"], ["0321751044"]),
        ("creditcard", ["4111 1111 1111 1111"], ["4111 1111 1111 1112"]),
        ("ssn", ["123-45-6789"], ["123456789"]),
        ("hexcolor", ["#fff", "ABCDEF"], ["#ffff"]),
        ("rgbcolor", ["rgb(255, 0, 12)"], ["rgb(256,0,0)"]),
        ("password", ["anything"], []),
    ],
)
def test_formats(name: str, valid: list[str], invalid: list[str]) -> None:
    assert formats.supported(name)
    assert all(formats.validates(name, v) for v in valid)
    assert not any(formats.validates(name, v) for v in invalid)


@pytest.mark.parametrize("name", ["int32", "int64", "float", "double", "quantity", ""])
def test_formats_kubernetes_does_not_check(name: str) -> None:
    assert not formats.supported(name)


@pytest.mark.parametrize(
    "value, shown",
    [
        (1.0, "1"),
        (1.5, "1.5"),
        (123456.0, "123456"),
        (1234567.0, "1.234567e+06"),
        (1e-5, "1e-05"),
        (0.0001, "0.0001"),
        (1e21, "1e+21"),
    ],
)
def test_floats_print_as_go_prints_them(value: float, shown: str) -> None:
    assert go_float(value) == shown


def test_values_print_as_field_errors_print_them() -> None:
    assert go_value('a"b') == '"a\\"b"'
    assert go_value(None) == '"null"'
    assert go_value(True) == "true"
    assert go_value({"b": [1, "x", None], "a": 1.5}) == (
        'map[string]interface {}{"a":1.5, "b":[]interface {}{1, "x", interface {}(nil)}}'
    )

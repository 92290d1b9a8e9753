"""Warning headers as Kubernetes' warning recorder writes them, and integer query parameters as
Go's strconv.ParseInt reads them."""

from __future__ import annotations

import pytest

from apiserver.endpoints.rest.request import int64
from apiserver.endpoints.rest.responses import warning_headers
from apiserver.errors import APIError
from apiserver.validation.fields import go_quote


def test_a_warning_is_one_header_line_whatever_it_quotes() -> None:
    (header,) = warning_headers(['unknown field "a\nb\r\x00c\x7f"'])
    assert header == '299 - "unknown field \\"a b  c \\""'


def test_warnings_are_written_once_each() -> None:
    assert len(warning_headers(["same", "same", "other", ""])) == 2


def test_warnings_past_4_ki_characters_are_cut_to_256_each() -> None:
    long = ["a" * 3000, "b" * 3000, "c" * 10]
    headers = warning_headers(long)
    assert [len(h) for h in headers] == [len('299 - ""') + 256] * 2 + [len('299 - ""') + 10]
    many = warning_headers([f"{i}" * 300 for i in range(1, 10)] * 10)
    assert sum(len(h) - len('299 - ""') for h in many) <= 4096 + 256


@pytest.mark.parametrize(
    ("value", "number"), [("0", 0), ("-5", -5), ("+7", 7), (str(2**63 - 1), 2**63 - 1), (3, 3)]
)
def test_an_int64_parameter(value: object, number: int) -> None:
    assert int64(value, "limit") == number


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", 'limit: Invalid value: "abc": must be an integer'),
        (" 5", 'limit: Invalid value: " 5": must be an integer'),
        ("1_000", 'limit: Invalid value: "1_000": must be an integer'),
        ("١٢", 'limit: Invalid value: "١٢": must be an integer'),
        (str(2**63), f'limit: Invalid value: "{2**63}": out of range for a 64-bit integer'),
        (True, "limit: Invalid value: True: must be an integer"),
    ],
)
def test_a_bad_int64_parameter_is_a_400_naming_it(value: object, message: str) -> None:
    with pytest.raises(APIError) as raised:
        int64(value, "limit")
    assert raised.value.message == message
    assert raised.value.reason == "BadRequest"


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("abc", '"abc"'),
        ("é💥\ufffd", '"é💥\ufffd"'),
        ('a"b\\c', '"a\\"b\\\\c"'),
        ("\n\t\x00\x7f", '"\\n\\t\\x00\\x7f"'),
        ("\u202e\xa0", '"\\u202e\\u00a0"'),
    ],
)
def test_a_field_errors_value_is_quoted_as_go_quotes_it(value: str, quoted: str) -> None:
    assert go_quote(value) == quoted

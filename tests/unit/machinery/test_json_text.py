"""JSON and YAML text read as Go reads it: lone surrogates and invalid UTF-8 become U+FFFD, deep
nesting is refused, and what is written always encodes."""

from __future__ import annotations

import json

import pytest

from podplane.apimachinery import json_text


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        (b'"\\ud83d"', "\ufffd"),  # a lone high surrogate
        (b'"\\udca5"', "\ufffd"),  # a lone low one
        (b'"\\ud83d\\udca5"', "\U0001f4a5"),  # a pair is the character it encodes
        (b'"\\udca5\\ud83d"', "\ufffd\ufffd"),  # the pair the wrong way round
        (b'"\\ud83d\\ud83d\\udca5"', "\ufffd\U0001f4a5"),
        (b'"a\xffb"', "a\ufffdb"),  # invalid UTF-8
        (b'"\xed\xa0\xbd"', "\ufffd\ufffd\ufffd"),  # a surrogate encoded in UTF-8 (CESU)
    ],
)
def test_strings_decode_as_gos_decoder_decodes_them(raw: bytes, decoded: str) -> None:
    assert json_text.loads(raw) == decoded


def test_keys_and_nested_strings_are_replaced_too() -> None:
    value = json_text.loads(b'{"\\ud83d": ["x\\udca5", {"k": "\\ud800"}]}')
    assert value == {"\ufffd": ["x\ufffd", {"k": "\ufffd"}]}


def test_nesting_past_the_limit_is_too_deep() -> None:
    at_limit = b"[" * json_text.MAX_DEPTH + b"]" * json_text.MAX_DEPTH
    assert json_text.depth(json_text.loads(at_limit)) == json_text.MAX_DEPTH
    for depth in (json_text.MAX_DEPTH + 1, 5000, 100_000):
        with pytest.raises(json_text.TooDeep, match="exceeded max depth of 500"):
            json_text.loads(b'{"a":' * depth + b"1" + b"}" * depth)


def test_dumps_writes_a_surrogate_that_reached_a_string_as_the_replacement() -> None:
    assert json_text.dumps({"message": 'no kind "\ud83d"'}) == (
        '{"message":"no kind \\"\ufffd\\""}'.encode()
    )
    assert json.loads(json_text.dumps({"a": "é💥"})) == {"a": "é💥"}

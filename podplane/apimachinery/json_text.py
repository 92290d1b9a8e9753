"""JSON and YAML text read as Kubernetes reads them (Go's encoding/json, sigs.k8s.io/yaml), and
written so that it always encodes.

Go's decoder replaces what is not a character with U+FFFD: invalid UTF-8 bytes, and an escaped
UTF-16 surrogate that is not half of a pair (`"\\ud83d"`); the value is then validated like any
other. Python's keeps a lone surrogate as a str that no UTF-8 encoder takes, so every later
encode (the object into etcd, an error message quoting it) would fail. Go's YAML refuses an
escaped surrogate outright ("found invalid Unicode character escape code"). Nesting is limited:
Python's decoders recurse, and a request must never reach the interpreter's recursion limit."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from podplane.apimachinery.json_types import JSONObject, JSONValue

# Deeper documents are refused (Go's encoding/json allows 10,000; Python's recursive decoders
# fail near 1,000, less what the stack already holds; no Kubernetes object nests past a few
# dozen levels).
MAX_DEPTH = 500

# An escaped surrogate in the text: the only way a lone one reaches a decoded str (the bytes
# are decoded with replacement first).
_ESCAPED_SURROGATE = re.compile(rb"\\[uU][dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class TooDeep(ValueError):
    def __init__(self) -> None:
        super().__init__(f"exceeded max depth of {MAX_DEPTH}")


def loads(
    raw: bytes, object_pairs_hook: Callable[[list[tuple[str, JSONValue]]], JSONObject] | None = None
) -> JSONValue:
    """A JSON document as Go decodes it: invalid UTF-8 and lone surrogates become U+FFFD.
    Raises ValueError (TooDeep past MAX_DEPTH) for what is not a JSON document."""
    text = raw.decode("utf-8", "replace")
    try:
        value = json.loads(text, object_pairs_hook=object_pairs_hook)
    except RecursionError:
        raise TooDeep() from None
    _check_depth(value, raw)
    if _ESCAPED_SURROGATE.search(raw):
        value = scrub(value)
    return value


def has_escaped_surrogate(raw: bytes) -> bool:
    return _ESCAPED_SURROGATE.search(raw) is not None


def _check_depth(value: JSONValue, raw: bytes) -> None:
    """TooDeep if `value` nests past MAX_DEPTH. Counting the brackets first keeps the walk off
    every ordinary document (a pod has a few dozen)."""
    if raw.count(b"{") + raw.count(b"[") <= MAX_DEPTH:
        return
    if depth(value) > MAX_DEPTH:
        raise TooDeep()


def depth(value: JSONValue) -> int:
    """How deep containers nest in `value`, walked without recursion."""
    deepest = 0
    stack: list[tuple[JSONValue, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level + 1)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def check_depth(value: JSONValue) -> None:
    """TooDeep if a document another decoder made (YAML, which nests by indentation too)
    nests past MAX_DEPTH."""
    if depth(value) > MAX_DEPTH:
        raise TooDeep()


def scrub(value: JSONValue) -> JSONValue:
    """`value` with every surrogate in its strings and keys replaced by U+FFFD (after json's
    decoder has joined the valid pairs, what is left is alone)."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [scrub(item) for item in value]
    if isinstance(value, dict):
        out = {scrub_text(k): scrub(v) for k, v in value.items()}
        if type(value) is not dict:  # a subclass (it may carry more, as duplicate keys)
            copy = type(value)(out)
            copy.__dict__.update(value.__dict__)
            return copy
        return out
    return value


def scrub_text(text: str) -> str:
    return _SURROGATE.sub("\ufffd", text)


def dumps(value: JSONValue) -> bytes:
    """Compact JSON in UTF-8, as Kubernetes writes it; a surrogate that reached a string (a
    message quoting what a client sent) is written as U+FFFD rather than failing the answer."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode()
    except UnicodeEncodeError:
        return scrub_text(text).encode()

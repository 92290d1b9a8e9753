"""Structure-aware mutation of JSON objects: a valid object with one to three of its values
replaced by odd ones (empty, huge, emoji, NUL, lone UTF-16 surrogates, wrong types, numbers out
of range, deep nesting), removed, or joined by unknown or repeated keys; then written as JSON
(repeated keys kept, as a careless client sends them) or YAML, and sometimes mangled as bytes.
Everything comes from one random.Random, so a seed gives the same requests every run."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from podplane.apimachinery.json_types import JSONValue

Path = tuple[str | int, ...]

# Kubernetes' limits, and one past them: a label value (63), a name (253), an annotation set
# (256 KiB), etcd's object limit (1.5 MiB), the request limit (3 MiB).
_SIZES = (63, 64, 253, 254, 4096, 256 * 1024 + 1, 1536 * 1024, 3 * 1024 * 1024 + 1)

_ODD_STRINGS = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "\n",
    "\t\r\x1b[31m",
    "💥",
    "\ufffd",
    "\ud83d",  # a lone high surrogate: Go's decoder makes it U+FFFD
    "\udca5\ud83d",  # a pair in the wrong order
    "\u202e",  # right-to-left override
    "-",
    "a..b",
    "A_B",
    "..",
    "/",
    "%2F",
    "default",
    "kube-system",
    "1e3",
    "0x10",
    "-1",
    "true",
    "null",
    "2006-01-02T15:04:05Z",
    "not-a-time",
    "1Gi",
    "-1Gi",
    "1e400",
    "999999999999999999999Ki",
    "*",
    "$(VAR)",
    "{{ .Values }}",
    "\\",
    '"',
    "'; DROP TABLE pods; --",
)
_ODD_NUMBERS: tuple[JSONValue, ...] = (
    0,
    -1,
    1,
    2**31,
    -(2**31) - 1,
    2**63,
    2**64,
    10**30,
    0.5,
    -0.0,
    1e308,
    True,
    False,
)


def _odd_string(rng: random.Random) -> str:
    if rng.random() < 0.15:
        size = rng.choice(_SIZES)
        return rng.choice("ax-.💥\ud83d") * (size if size < 4096 else size // 4)
    return rng.choice(_ODD_STRINGS)


def _deep(rng: random.Random) -> JSONValue:
    """Nesting deeper than any decoder should recurse."""
    depth = rng.choice((100, 1000, 10_001, 100_000))
    value: JSONValue = "x"
    for _ in range(depth):
        value = [value] if rng.random() < 0.5 else {"a": value}
    return value


def odd_value(rng: random.Random, like: JSONValue) -> JSONValue:
    """A value to put where `like` was: often of the same type, sometimes of another."""
    roll = rng.random()
    if roll < 0.03:
        return _deep(rng)
    if roll < 0.15:
        return rng.choice(((), {}, None, [None], {"": ""}, [[]], {"a": {"b": []}}))
    if roll < 0.3:
        return rng.choice(_ODD_NUMBERS)
    if isinstance(like, (int, float)) and not isinstance(like, bool) and roll < 0.7:
        return rng.choice(_ODD_NUMBERS)
    if isinstance(like, dict) and roll < 0.6:
        return {_odd_string(rng): odd_value(rng, "") for _ in range(rng.randint(1, 3))}
    if isinstance(like, list) and roll < 0.6:
        return [odd_value(rng, like[0] if like else "") for _ in range(rng.randint(0, 3))]
    return _odd_string(rng)


def paths(value: JSONValue, prefix: Path = ()) -> Iterator[Path]:
    """Every value's path in the tree, the root's included."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from paths(item, (*prefix, i))


def _parent(root: JSONValue, path: Path) -> Any:
    node: Any = root
    for step in path[:-1]:
        node = node[step]
    return node


@dataclass
class Mutant:
    """A mutated document and the keys to repeat when it is written (a path to an object, the
    key given twice in it)."""

    value: JSONValue
    repeated: list[tuple[Path, str]]
    description: str


def mutate(rng: random.Random, original: JSONValue, max_steps: int = 3) -> Mutant:
    """`original` (left as it is) with one to `max_steps` mutations."""
    value = copy.deepcopy(original)
    repeated: list[tuple[Path, str]] = []
    done: list[str] = []
    for _ in range(rng.randint(1, max_steps)):
        try:
            candidates = list(paths(value))
        except RecursionError:
            break  # an earlier step nested it past walking: enough
        path = rng.choice(candidates)
        op = rng.random()
        where = "/".join(map(str, path)) or "<root>"
        if not path:
            value = odd_value(rng, value)
            done.append(f"root={_short(value)}")
            break
        parent = _parent(value, path)
        key = path[-1]
        if op < 0.55:
            parent[key] = odd_value(rng, parent[key])
            done.append(f"{where}={_short(parent[key])}")
        elif op < 0.7:
            del parent[key]
            done.append(f"-{where}")
        elif op < 0.8 and isinstance(parent, dict):
            name = rng.choice(("unknownField", "", "metadata", "$patch", "spec", "💥", "\ud83d"))
            parent[name] = odd_value(rng, "")
            done.append(f"+{where[: where.rfind('/') + 1]}{name!r}")
        elif op < 0.9 and isinstance(parent, dict) and isinstance(key, str):
            repeated.append((path[:-1], key))
            done.append(f"twice {where}")
        elif isinstance(parent, list) and isinstance(key, int):
            parent.append(copy.deepcopy(parent[key]))
            done.append(f"dup {where}")
        else:
            parent[key] = odd_value(rng, parent[key])
            done.append(f"{where}={_short(parent[key])}")
    return Mutant(value, repeated, "; ".join(done))


def _short(value: JSONValue) -> str:
    try:
        text = repr(value)
    except RecursionError:
        return "<deeply nested>"
    return text if len(text) <= 40 else f"{text[:30]}...({len(text)} chars)"


def to_json(mutant: Mutant, rng: random.Random) -> bytes:
    """The document as JSON bytes, keys repeated where the mutant says; ASCII-escaped (so a lone
    surrogate travels as \\ud83d, as a JavaScript or Java client sends it) or UTF-8."""
    ascii_only = rng.random() < 0.5 or _has_surrogate(mutant.value)
    repeats: dict[Path, set[str]] = {}
    for path, key in mutant.repeated:
        repeats.setdefault(path, set()).add(key)
    return _write(mutant.value, (), repeats, ascii_only).encode("utf-8", "surrogatepass")


def _has_surrogate(value: JSONValue) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return True
    except (RecursionError, ValueError):
        return False
    return False


def _write(value: JSONValue, path: Path, repeats: dict[Path, set[str]], ascii_only: bool) -> str:
    if not any(p[: len(path)] == path for p in repeats):
        return _dumps(value, ascii_only)  # no key repeated under here
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            member = (
                f"{json.dumps(key, ensure_ascii=ascii_only)}:"
                f"{_write(item, (*path, key), repeats, ascii_only)}"
            )
            parts.append(member)
            if key in repeats.get(path, ()):
                parts.append(member)
        return "{" + ",".join(parts) + "}"
    if isinstance(value, list):
        inner = (_write(item, (*path, i), repeats, ascii_only) for i, item in enumerate(value))
        return "[" + ",".join(inner) + "]"
    return _dumps(value, ascii_only)


def _dumps(value: JSONValue, ascii_only: bool) -> str:
    try:
        return json.dumps(value, ensure_ascii=ascii_only)
    except RecursionError:
        return _deep_text(value)


def _deep_text(value: JSONValue) -> str:
    """A nesting too deep for json.dumps, written without recursion."""
    opens: list[str] = []
    while isinstance(value, (dict, list)) and value:
        if isinstance(value, dict):
            key, value = next(iter(value.items()))
            opens.append(f"{{{json.dumps(key)}:")
        else:
            opens.append("[")
            value = value[0]
    closes = "".join("}" if o.startswith("{") else "]" for o in reversed(opens))
    return "".join(opens) + json.dumps(value) + closes


def to_yaml(mutant: Mutant) -> bytes:
    """The document as YAML (repeated keys are not kept: YAML refuses them anyway)."""
    try:
        text = yaml.safe_dump(mutant.value, allow_unicode=False, default_flow_style=False)
    except (RecursionError, yaml.YAMLError):
        return _dumps(mutant.value, True).encode()  # JSON is YAML
    return text.encode("utf-8", "surrogateescape")


def mangle(rng: random.Random, body: bytes) -> bytes:
    """Bytes broken as a bad network or a bad client breaks them: cut short, bits flipped, a
    stretch of random bytes spliced in, or nothing but random bytes."""
    roll = rng.random()
    if roll < 0.25 or not body:
        return rng.randbytes(rng.choice((0, 1, 7, 100, 4096)))
    if roll < 0.5:
        return body[: rng.randrange(len(body))]
    out = bytearray(body)
    if roll < 0.75:
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(out))
            out[i] ^= 1 << rng.randrange(8)
        return bytes(out)
    i = rng.randrange(len(out))
    return bytes(out[:i]) + rng.randbytes(rng.randint(1, 64)) + bytes(out[i:])

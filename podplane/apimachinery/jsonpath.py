"""The JSONPath subset Kubernetes evaluates against objects (client-go's util/jsonpath, as the
apiserver uses it for a CustomResourceDefinition's printer columns, selectable fields and scale
paths): `.spec.replicas`, `.metadata.labels['app.kubernetes.io/name']`, `.spec.ports[0].port`,
`.items[*].name`, `.status.conditions[?(@.type=="Ready")].status`. A missing key gives no
result (AllowMissingKeys), never an error."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from podplane.apimachinery.json_types import JSONValue


class JSONPathError(ValueError):
    """A path that does not parse."""


@dataclass(frozen=True)
class _Field:
    name: str


@dataclass(frozen=True)
class _Index:
    start: int | None
    stop: int | None
    single: bool


@dataclass(frozen=True)
class _Wildcard:
    pass


@dataclass(frozen=True)
class _Filter:
    path: tuple[_Step, ...]
    operator: str  # "==", "!=", "<", ">", "<=", ">=", or "" (the path exists)
    value: JSONValue


_Step = _Field | _Index | _Wildcard | _Filter

_NAME = re.compile(r"[A-Za-z0-9_\-$/]+")
_FILTER = re.compile(r"\?\(@((?:\.[A-Za-z0-9_\-$/]+)*)\s*(?:(==|!=|<=|>=|<|>)\s*(.+?))?\s*\)\Z")


def parse(path: str) -> tuple[_Step, ...]:
    """The steps of a path as a column's or selectable field's jsonPath gives it (with or
    without the surrounding braces, with or without the leading dot)."""
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    steps: list[_Step] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == ".":
            if text.startswith("..", i):
                raise JSONPathError(f"recursive descent is not supported: {path}")
            i += 1
            if i < len(text) and text[i] == "*":
                steps.append(_Wildcard())
                i += 1
                continue
            m = _NAME.match(text, i)
            if m is None:
                if i == len(text):  # "." alone: the object itself
                    break
                raise JSONPathError(f"unrecognized character in action: {text[i]!r} in {path}")
            steps.append(_Field(m.group()))
            i = m.end()
        elif ch == "[":
            end = _closing_bracket(text, i, path)
            steps.append(_bracket(text[i + 1 : end].strip(), path))
            i = end + 1
        elif i == 0:  # a path without its leading dot: spec.replicas
            m = _NAME.match(text, i)
            if m is None:
                raise JSONPathError(f"unrecognized character in action: {ch!r} in {path}")
            steps.append(_Field(m.group()))
            i = m.end()
        else:
            raise JSONPathError(f"unrecognized character in action: {ch!r} in {path}")
    return tuple(steps)


def _closing_bracket(text: str, start: int, path: str) -> int:
    depth, quote = 0, ""
    for j in range(start, len(text)):
        ch = text[j]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return j
    raise JSONPathError(f"unclosed array expect ] in {path}")


def _bracket(inner: str, path: str) -> _Step:
    if inner == "*":
        return _Wildcard()
    if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
        return _Field(inner[1:-1])
    if inner.startswith("?"):
        m = _FILTER.match(inner)
        if m is None:
            raise JSONPathError(f"unrecognized filter {inner!r} in {path}")
        left = tuple(_Field(n) for n in m.group(1).split(".") if n)
        operator, literal = m.group(2) or "", m.group(3)
        return _Filter(left, operator, _literal(literal) if literal is not None else None)
    parts = inner.split(":")
    try:
        if len(parts) == 1:
            return _Index(int(parts[0]), None, True)
        if len(parts) in (2, 3):
            start = int(parts[0]) if parts[0].strip() else None
            stop = int(parts[1]) if parts[1].strip() else None
            return _Index(start, stop, False)
    except ValueError:
        pass
    raise JSONPathError(f"invalid array index {inner!r} in {path}")


def _literal(text: str) -> JSONValue:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    try:
        return json.loads(text)
    except ValueError:
        return text


def _compare(left: JSONValue, operator: str, right: JSONValue) -> bool:
    if operator == "==":
        return bool(left == right)
    if operator == "!=":
        return bool(left != right)
    numbers = (int, float)
    if not (isinstance(left, numbers) and isinstance(right, numbers)):
        return False
    return bool(
        {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[operator]
    )


def _apply(step: _Step, value: JSONValue) -> Iterator[JSONValue]:
    if isinstance(step, _Field):
        if isinstance(value, dict) and step.name in value:
            yield value[step.name]
    elif isinstance(step, _Wildcard):
        if isinstance(value, dict):
            yield from value.values()
        elif isinstance(value, list):
            yield from value
    elif isinstance(step, _Index):
        if not isinstance(value, list):
            return
        if step.single:
            assert step.start is not None
            index = step.start + len(value) if step.start < 0 else step.start
            if 0 <= index < len(value):
                yield value[index]
        else:
            yield from value[step.start : step.stop]
    else:
        if not isinstance(value, list):
            return
        for item in value:
            found = list(evaluate(step.path, item))
            if step.operator == "":
                if found:
                    yield item
            elif any(_compare(v, step.operator, step.value) for v in found):
                yield item


def evaluate(steps: tuple[_Step, ...], data: JSONValue) -> Iterator[JSONValue]:
    """Every value the path reaches in `data`, in order; none for a missing key."""
    values: list[JSONValue] = [data]
    for step in steps:
        values = [out for value in values for out in _apply(step, value)]
    yield from values


def find(path: str, data: JSONValue) -> list[JSONValue]:
    """The values `path` reaches in `data` (parse, then evaluate)."""
    return list(evaluate(parse(path), data))


def print_value(value: JSONValue) -> str:
    """A value as client-go's JSONPath printer writes it in a string column: strings as they
    are, numbers and booleans as Go prints them, objects and lists as compact JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)

"""Label selectors ("app=web,tier!=db", "env in (a,b)", "!canary") and field selectors
("spec.nodeName=node-1,status.phase!=Failed"), parsed and matched as Kubernetes does."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeAlias, TypeVar

from google.protobuf.message import Message

from podplane.api.meta.v1 import meta_pb2

M = TypeVar("M", bound=Message)


class SelectorError(ValueError):
    pass


@dataclass(frozen=True)
class Requirement:
    key: str
    # =, ==, !=, in, notin, exists, !
    op: str
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key, "")
        if self.op in ("=", "=="):
            return present and value in self.values
        if self.op == "!=":
            return not present or value not in self.values
        if self.op == "in":
            return present and value in self.values
        if self.op == "notin":
            return not present or value not in self.values
        if self.op == "exists":
            return present
        return not present  # "!"


@dataclass(frozen=True)
class LabelSelector:
    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)

    @property
    def empty(self) -> bool:
        return not self.requirements


_SET_RE = re.compile(r"^\s*(!?)\s*([^\s=!(),]+)\s*(?:(in|notin)\s*\(([^)]*)\))?\s*$")
_EQ_RE = re.compile(r"^\s*([^\s=!(),]+)\s*(==|=|!=)\s*([^\s=!(),]*)\s*$")


def _split_top_level(text: str) -> list[str]:
    """Splits on commas that are not inside parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def parse_labels(text: str) -> LabelSelector:
    reqs: list[Requirement] = []
    for part in _split_top_level(text or ""):
        m = _EQ_RE.match(part)
        if m:
            key, op, value = m.groups()
            reqs.append(Requirement(key, op, frozenset([value])))
            continue
        m = _SET_RE.match(part)
        if m:
            bang, key, op, values = m.groups()
            if op:
                if bang:
                    raise SelectorError(f"unable to parse requirement: {part.strip()!r}")
                vals = frozenset(v.strip() for v in values.split(",") if v.strip())
                reqs.append(Requirement(key, op, vals))
            else:
                reqs.append(Requirement(key, "!" if bang else "exists"))
            continue
        raise SelectorError(f"unable to parse requirement: {part.strip()!r}")
    return LabelSelector(tuple(reqs))


@dataclass(frozen=True)
class FieldRequirement:
    path: str
    negate: bool
    value: str


@dataclass(frozen=True)
class FieldSelector:
    requirements: tuple[FieldRequirement, ...] = ()

    def matches(self, fields: Mapping[str, str]) -> bool:
        for r in self.requirements:
            equal = fields.get(r.path, "") == r.value
            if equal == r.negate:
                return False
        return True

    def exact(self, path: str) -> str | None:
        """The value the selector pins `path` to with '=', if it does."""
        for r in self.requirements:
            if r.path == path and not r.negate:
                return r.value
        return None


def selected_name(field_selector: str) -> str:
    """The name a list or watch selects with `metadata.name=NAME`, which authorization sees as
    the request's name (Kubernetes' RequestInfoFactory: RequiresExactMatch("metadata.name"),
    kept when it is a valid path segment); "" when it selects none, or cannot be parsed (the
    request is refused for that later)."""
    if not field_selector:
        return ""
    try:
        name = parse_fields(field_selector).exact("metadata.name") or ""
    except SelectorError:
        return ""
    return "" if name in (".", "..") or "/" in name or "%" in name else name


def parse_fields(text: str, supported: frozenset[str] | None = None) -> FieldSelector:
    reqs: list[FieldRequirement] = []
    for part in _split_top_level(text or ""):
        m = re.match(r"^\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if not m:
            raise SelectorError(f"invalid selector: {part.strip()!r}; can't understand it")
        path, op, value = m.groups()
        if supported is not None and path not in supported:
            raise SelectorError(f"field label not supported: {path}")
        reqs.append(FieldRequirement(path, op == "!=", value))
    return FieldSelector(tuple(reqs))


def from_label_selector_message(sel: meta_pb2.LabelSelector) -> LabelSelector:
    """Converts a meta/v1 LabelSelector message (matchLabels, matchExpressions)."""
    reqs = [Requirement(k, "=", frozenset([v])) for k, v in sorted(sel.match_labels.items())]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for e in sel.match_expressions:
        if e.operator not in ops:
            raise SelectorError(f"{e.operator!r} is not a valid label selector operator")
        reqs.append(Requirement(e.key, ops[e.operator], frozenset(e.values)))
    return LabelSelector(tuple(reqs))


# The selectable fields of one kind's objects, by path.
FieldGetter: TypeAlias = Callable[[M], Mapping[str, str]]

"""A flowcontrol message in a field error as Go's %#v shows the struct (validation's Invalid
values that are a whole spec, and string lists)."""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf.message import Message

from apiserver.validation import fields
from apiserver.validation.generic_rules import Shown

# The message fields that are pointers in Go (the others are structs, never nil).
_GO_POINTERS = frozenset(
    {"distinguisher_method", "user", "group", "service_account", "limited", "exempt", "queuing"}
)


def go_value(value: object, type_name: str = "") -> Shown:
    """A message as Go's %#v shows it in a field error, near enough: flowcontrol.X{Field:value,
    ...}, a set pointer as &flowcontrol.X{...} (Go would print its address), lists as
    []T{...}."""
    return Shown(_go(value, type_name))


def _go(value: object, type_name: str) -> str:
    if isinstance(value, Message):
        name = type_name or f"flowcontrol.{value.DESCRIPTOR.name}"
        parts = []
        for fd in value.DESCRIPTOR.fields:
            go_name = fd.json_name[:1].upper() + fd.json_name[1:]
            item = getattr(value, fd.name)
            if fd.is_repeated:
                element = f"flowcontrol.{fd.message_type.name}" if fd.message_type else "string"
                shown = (
                    f"[]{element}{{" + ", ".join(_go(v, element) for v in item) + "}"
                    if item
                    else f"[]{element}(nil)"
                )
            elif fd.message_type is not None:
                sub = f"flowcontrol.{fd.message_type.name}"
                if fd.name not in _GO_POINTERS:
                    shown = _go(item, sub)
                elif not value.HasField(fd.name):
                    shown = f"(*{sub})(nil)"
                else:
                    shown = "&" + _go(item, sub)
            elif fd.has_presence and not value.HasField(fd.name):
                shown = "(*int32)(nil)"
            else:
                shown = _go(item, "")
            parts.append(f"{go_name}:{shown}")
        return name + "{" + ", ".join(parts) + "}"
    if isinstance(value, str):
        return fields.go_quote(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def go_strings(values: Sequence[str]) -> Shown:
    """A []string as Go's %#v shows it, each value quoted as %q."""
    return Shown("[]string{" + ", ".join(fields.go_quote(v) for v in values) + "}")

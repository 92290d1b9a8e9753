"""CEL types, and the type a structural schema gives `self` (apiserver/pkg/cel/common/schemas.go,
SchemaDeclType): objects with their properties as fields (names escaped as Kubernetes escapes
them), maps for additionalProperties, lists, int-or-string as dyn, strings of format date and
date-time as timestamps, duration as durations and byte as bytes. A property whose schema has
no type (preserve-unknown-fields without a type) is not a field: rules cannot reach it."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from podplane.apimachinery.structural.schema import Generic, Structural


@dataclass(frozen=True, eq=False)
class Type:
    kind: str  # int, uint, double, bool, string, bytes, null_type, timestamp, duration, dyn,
    # type, list, map, object, optional
    params: tuple[Type, ...] = ()
    fields: dict[str, Type] = field(default_factory=dict)
    # For objects: the schema's properties by their CEL names (escaped).
    names: dict[str, str] = field(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Type) or self.kind != other.kind:
            return False
        if self.kind == "object":
            return self is other
        return self.params == other.params

    def __hash__(self) -> int:
        return hash((self.kind, self.params)) if self.kind != "object" else id(self)

    def __str__(self) -> str:
        if self.kind == "list":
            return f"list({self.params[0]})"
        if self.kind == "map":
            return f"map({self.params[0]}, {self.params[1]})"
        if self.kind == "optional":
            return f"optional_type({self.params[0]})"
        if self.kind == "type":
            return f"type({self.params[0]})" if self.params else "type"
        return "object" if self.kind == "object" else self.kind

    @property
    def elem(self) -> Type:
        return self.params[-1] if self.params else DYN


INT, UINT, DOUBLE, BOOL = Type("int"), Type("uint"), Type("double"), Type("bool")
STRING, BYTES, NULL, DYN = Type("string"), Type("bytes"), Type("null_type"), Type("dyn")
TIMESTAMP, DURATION, TYPE = Type("timestamp"), Type("duration"), Type("type")


def list_of(elem: Type) -> Type:
    return Type("list", (elem,))


def map_of(key: Type, value: Type) -> Type:
    return Type("map", (key, value))


def optional_of(inner: Type) -> Type:
    return Type("optional", (inner,))


# ------------------------------------------------------------------ property names (escaping.go)
_RESERVED = {
    "true", "false", "null", "in", "as", "break", "const", "continue", "else", "for",
    "function", "if", "import", "let", "loop", "package", "namespace", "return", "var", "void",
    "while",
}  # fmt: skip
_EXPAND = re.compile(r"(__|[-./]|[^a-zA-Z0-9\-./_])")
_ESCAPES = {"__": "__underscores__", ".": "__dot__", "-": "__dash__", "/": "__slash__"}


def escape(name: str) -> str | None:
    """A property's name in CEL, or None where it cannot be written (Kubernetes' Escape)."""
    if not name or name[0].isdigit():
        return None
    if name in _RESERVED:
        return f"__{name}__"
    if any(m.group(0) not in _ESCAPES for m in _EXPAND.finditer(name)):
        return None
    return _EXPAND.sub(lambda m: _ESCAPES[m.group(0)], name)


# ------------------------------------------------------------------ from schemas
def _typed(kind: str, **properties: Structural) -> Structural:
    return Structural(properties=properties, generic=Generic(type=kind))


def with_type_and_object_meta(s: Structural) -> Structural:
    """A resource's root: apiVersion, kind and metadata (name and generateName) are its
    fields, whatever the schema says of them (WithTypeAndObjectMeta)."""
    props = s.properties
    meta_props = props["metadata"].properties if "metadata" in props else {}
    if (
        all(props.get(n, Structural()).type == "string" for n in ("kind", "apiVersion"))
        and props.get("metadata", Structural()).type == "object"
        and all(meta_props.get(n, Structural()).type == "string" for n in ("name", "generateName"))
    ):
        return s
    meta = _typed("object", name=_typed("string"), generateName=_typed("string"))
    properties = {**s.properties, "kind": _typed("string"), "apiVersion": _typed("string")}
    return dataclasses.replace(s, properties={**properties, "metadata": meta})


def decl_type(s: Structural | None, is_resource_root: bool = False) -> Type | None:
    """SchemaDeclType: the CEL type of values of schema `s`, None where it has none."""
    if s is None:
        return None
    if s.extensions.x_int_or_string:
        return DYN
    if is_resource_root:
        s = with_type_and_object_meta(s)
    if s.type == "array":
        if s.items is None:
            return None
        items = decl_type(s.items, s.items.embedded_resource)
        return list_of(items) if items is not None else None
    if s.type == "object":
        additional = s.additional_schema
        if additional is not None:
            value = decl_type(additional, additional.embedded_resource)
            return map_of(STRING, value) if value is not None else None
        fields: dict[str, Type] = {}
        names: dict[str, str] = {}
        for name, prop in s.properties.items():
            prop_type = decl_type(prop, prop.embedded_resource)
            cel_name = escape(name)
            if prop_type is not None and cel_name is not None:
                fields[cel_name] = prop_type
                names[cel_name] = name
        return Type("object", fields=fields, names=names)
    if s.type == "string":
        fmt = s.value_validation.format if s.value_validation else ""
        return {"byte": BYTES, "duration": DURATION, "date": TIMESTAMP, "date-time": TIMESTAMP}.get(
            fmt, STRING
        )
    return {"boolean": BOOL, "number": DOUBLE, "integer": INT}.get(s.type)

"""-o yaml, -o json and -o name, as kubectl prints them (keys sorted, a List for several
objects)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import yaml
from google.protobuf.message import Message

from podctl.resource.objects import object_name, to_plain_dict, with_type_meta
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.meta import object_meta
from podplane.apimachinery.resources import Resource

STRUCTURED_FORMATS = ("yaml", "json", "name")
_STR_TAG = "tag:yaml.org,2002:str"


class _KubectlYAMLDumper(yaml.SafeDumper):
    """Strings the way kubectl writes them: multi-line ones as literal blocks, ones that would read
    back as another type ("3600", "true", "", timestamps) in double quotes."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Untyped in types-PyYAML: (node kind, value, (implicit, ...)) -> the tag it resolves to.
    resolve: Callable[[type[yaml.Node], str, tuple[bool, bool]], str] = dumper.resolve
    style: str | None = None
    if "\n" in value:
        style = "|"
    elif resolve(yaml.ScalarNode, value, (True, False)) != _STR_TAG:
        style = '"'
    return dumper.represent_scalar(_STR_TAG, value, style=style)


_KubectlYAMLDumper.add_representer(str, _represent_str)


def to_yaml(document: JSONObject) -> str:
    return yaml.dump(
        document,
        Dumper=_KubectlYAMLDumper,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=True,
        width=1 << 30,
    )


def as_document(
    objects: Sequence[Message],
    resource: Resource,
    *,
    single: bool,
    show_managed_fields: bool = False,
) -> JSONObject:
    """One object as is when a single object was asked for by name, else a `kind: List`;
    metadata.managedFields left out unless asked for, as kubectl does."""
    items = [to_plain_dict(with_type_meta(o, resource)) for o in objects]
    if not show_managed_fields:
        for item in items:
            item.get("metadata", {}).pop("managedFields", None)
    if single and len(items) == 1:
        return items[0]
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}


def render(
    objects: Sequence[Message],
    resource: Resource,
    output: str,
    *,
    single: bool,
    show_managed_fields: bool = False,
) -> str:
    if output == "name":
        return "".join(f"{object_name(resource, object_meta(o).name)}\n" for o in objects)
    document = as_document(
        objects, resource, single=single, show_managed_fields=show_managed_fields
    )
    if output == "json":
        return json.dumps(document, indent=4, sort_keys=True) + "\n"
    return to_yaml(document)

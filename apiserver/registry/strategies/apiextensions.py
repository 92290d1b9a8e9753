"""CustomResourceDefinitions (k8s.io/apiextensions-apiserver/pkg/registry/
customresourcedefinition): a new definition starts with no status but its storage version
recorded in status.storedVersions, and every later storage version is added there; the
apiserver's own controllers (apiserver/registry/apiextensions/) write the rest of the status.
The objects of the kinds they define have a strategy of their own, made from each definition
(apiserver/registry/customresource/)."""

from __future__ import annotations

import json
from typing import Any

from apiserver.defaulting import apiextensions as apiextensions_defaulting
from apiserver.registry.strategies.base import Strategy
from apiserver.validation import apiextensions as apiextensions_validation
from podplane.api.apiextensions.v1 import apiextensions_pb2
from podplane.apimachinery import codec, resources
from podplane.apimachinery.apiextensions import definitions
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.structural import SchemaDecodeError
from podplane.apimachinery.structural.props import decode_props

CRD = apiextensions_pb2.CustomResourceDefinition


def _record_storage_version(crd: CRD) -> None:
    storage = definitions.storage_version(crd)
    if storage and storage not in crd.status.stored_versions:
        crd.status.stored_versions.append(storage)


def _prepare_for_create(crd: CRD) -> None:
    crd.ClearField("status")
    _record_storage_version(crd)


def _prepare_for_update(new: CRD, old: CRD) -> None:
    _record_storage_version(new)


_GO_PATH = "spec.versions.schema.openAPIV3Schema"


def _drop_unknown(node: JSONObject, path: str, go_path: str, out: list[str]) -> None:
    """Drops the keys of a schema node no JSONSchemaProps field takes, as Go's decoding drops
    them, and names them; down every sub-schema."""
    props = decode_props(node, go_path)
    for unknown in props.unknown:
        name = unknown.removeprefix(f"{go_path}.")
        node.pop(name, None)
        out.append(f"{path}.{name}")
    children: list[tuple[object, str, str]] = [
        (sub, f"{path}.properties[{k}]", f"{go_path}.properties")
        for k, sub in (node.get("properties") or {}).items()
    ]
    items = node.get("items")
    if isinstance(items, list):
        children += [(sub, f"{path}.items[{i}]", f"{go_path}.items") for i, sub in enumerate(items)]
    else:
        children.append((items, f"{path}.items", f"{go_path}.items"))
    children.append(
        (
            node.get("additionalProperties"),
            f"{path}.additionalProperties",
            f"{go_path}.additionalProperties",
        )
    )
    children.append((node.get("not"), f"{path}.not", f"{go_path}.not"))
    for junctor in ("allOf", "anyOf", "oneOf"):
        children += [
            (sub, f"{path}.{junctor}[{i}]", f"{go_path}.{junctor}")
            for i, sub in enumerate(node.get(junctor) or ())
        ]
    for sub, sub_path, sub_go_path in children:
        if isinstance(sub, dict):
            _drop_unknown(sub, sub_path, sub_go_path, out)


def prune_schemas(crd: CRD) -> list[str]:
    """What a definition's schemas say that JSONSchemaProps has no field for: dropped, as Go
    decodes a CRD, and named (unknown fields: fieldValidation's). A schema of the wrong JSON
    type fails as Go's decoding fails (a 400, before any validation)."""
    unknown: list[str] = []
    for i, v in enumerate(crd.spec.versions):
        text = v.schema.open_apiv3_schema if v.HasField("schema") else ""
        if not text:
            continue
        node = json.loads(text)
        if not isinstance(node, dict):
            raise codec.DecodeError(
                "",
                f"json: cannot unmarshal into Go struct field {_GO_PATH} of type "
                "v1.JSONSchemaProps",
            )
        found: list[str] = []
        try:
            _drop_unknown(node, f"spec.versions[{i}].schema.openAPIV3Schema", _GO_PATH, found)
        except SchemaDecodeError as e:
            raise codec.DecodeError("", str(e)) from None
        if found:
            v.schema.open_apiv3_schema = codec.inline_json(node)
            unknown += found
    return unknown


STRATEGIES: tuple[Strategy[Any], ...] = (
    Strategy(
        resources.CUSTOM_RESOURCE_DEFINITION,
        apiextensions_validation.custom_resource_definition,
        apiextensions_validation.custom_resource_definition_update,
        default=apiextensions_defaulting.custom_resource_definition,
        prepare_for_create=_prepare_for_create,
        prepare_for_update=_prepare_for_update,
        prune=prune_schemas,
    ),
)

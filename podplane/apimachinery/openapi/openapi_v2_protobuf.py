"""/openapi/v2 in the protobuf client-go asks for first
(application/com.github.proto-openapi.spec.v2@v1.0+protobuf): the Swagger 2.0 document as
gnostic's openapi.v2.Document (protos/podplane/api/openapiv2/), as kube-openapi's ToProtoBinary
writes it. kubectl reads it for the kinds OpenAPI v3 does not describe to it (its field
validation check, `kubectl explain --output=plaintext-openapiv2`): vendor extensions
(x-kubernetes-group-version-kind, x-kubernetes-action), defaults and enums are YAML there."""

from __future__ import annotations

import yaml

from podplane.api.openapiv2 import openapiv2_pb2 as pb
from podplane.apimachinery.json_types import JSONObject, JSONValue

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
_SCALARS = {
    "format": "format",
    "title": "title",
    "description": "description",
    "multipleOf": "multiple_of",
    "maximum": "maximum",
    "exclusiveMaximum": "exclusive_maximum",
    "minimum": "minimum",
    "exclusiveMinimum": "exclusive_minimum",
    "maxLength": "max_length",
    "minLength": "min_length",
    "pattern": "pattern",
    "maxItems": "max_items",
    "minItems": "min_items",
    "uniqueItems": "unique_items",
    "maxProperties": "max_properties",
    "minProperties": "min_properties",
    "discriminator": "discriminator",
    "readOnly": "read_only",
}


def _any(value: JSONValue) -> pb.Any:
    return pb.Any(yaml=yaml.safe_dump(value, default_flow_style=False, sort_keys=False))


def _extensions(node: JSONObject) -> list[pb.NamedAny]:
    return [
        pb.NamedAny(name=key, value=_any(value))
        for key, value in node.items()
        if key.startswith("x-")
    ]


def schema(node: JSONObject) -> pb.Schema:
    out = pb.Schema()
    if "$ref" in node:
        out._ref = node["$ref"]
    for key, field in _SCALARS.items():
        if key in node and node[key] is not None:
            setattr(out, field, node[key])
    if "default" in node:
        out.default.CopyFrom(_any(node["default"]))
    if "example" in node:
        out.example.CopyFrom(_any(node["example"]))
    out.required.extend(node.get("required") or ())
    out.enum.extend(_any(v) for v in node.get("enum") or ())
    extra = node.get("additionalProperties")
    if isinstance(extra, bool):
        out.additional_properties.boolean = extra
    elif isinstance(extra, dict):
        out.additional_properties.schema.CopyFrom(schema(extra))
    kind = node.get("type")
    if kind:
        out.type.value.extend(kind if isinstance(kind, list) else [kind])
    items = node.get("items")
    if isinstance(items, dict):
        out.items.schema.append(schema(items))
    elif isinstance(items, list):
        out.items.schema.extend(schema(i) for i in items)
    out.all_of.extend(schema(s) for s in node.get("allOf") or ())
    for name, prop in (node.get("properties") or {}).items():
        out.properties.additional_properties.append(pb.NamedSchema(name=name, value=schema(prop)))
    out.vendor_extension.extend(_extensions(node))
    return out


def _parameter(node: JSONObject) -> pb.ParametersItem:
    if "$ref" in node:
        return pb.ParametersItem(json_reference=pb.JsonReference(_ref=node["$ref"]))
    where = node.get("in", "")
    if where == "body":
        body = pb.BodyParameter(
            description=node.get("description", ""),
            name=node.get("name", ""),
            required=bool(node.get("required")),
            schema=schema(node.get("schema") or {}),
            vendor_extension=_extensions(node),
        )
        body.__setattr__("in", where)
        return pb.ParametersItem(parameter=pb.Parameter(body_parameter=body))
    common = {
        "required": bool(node.get("required")),
        "description": node.get("description", ""),
        "name": node.get("name", ""),
        "type": node.get("type", ""),
        "format": node.get("format", ""),
        "vendor_extension": _extensions(node),
    }
    if where == "path":
        path = pb.PathParameterSubSchema(**common)
        path.__setattr__("in", where)
        non_body = pb.NonBodyParameter(path_parameter_sub_schema=path)
    else:
        query = pb.QueryParameterSubSchema(**common)
        query.__setattr__("in", where)
        non_body = pb.NonBodyParameter(query_parameter_sub_schema=query)
    return pb.ParametersItem(parameter=pb.Parameter(non_body_parameter=non_body))


def _operation(node: JSONObject) -> pb.Operation:
    out = pb.Operation(
        tags=node.get("tags") or (),
        summary=node.get("summary", ""),
        description=node.get("description", ""),
        operation_id=node.get("operationId", ""),
        produces=node.get("produces") or (),
        consumes=node.get("consumes") or (),
        schemes=node.get("schemes") or (),
        deprecated=bool(node.get("deprecated")),
        vendor_extension=_extensions(node),
    )
    out.parameters.extend(_parameter(p) for p in node.get("parameters") or ())
    for code, response in (node.get("responses") or {}).items():
        value = pb.Response(description=response.get("description", ""))
        if "schema" in response:
            value.schema.schema.CopyFrom(schema(response["schema"]))
        out.responses.response_code.append(
            pb.NamedResponseValue(name=code, value=pb.ResponseValue(response=value))
        )
    return out


def document(doc: JSONObject) -> pb.Document:
    """The Swagger 2.0 document (its JSON) as gnostic's Document."""
    info = doc.get("info") or {}
    out = pb.Document(
        swagger=doc.get("swagger", ""),
        info=pb.Info(title=info.get("title", ""), version=info.get("version", "")),
        schemes=doc.get("schemes") or (),
        vendor_extension=_extensions(doc),
    )
    for path, item in (doc.get("paths") or {}).items():
        path_item = pb.PathItem(vendor_extension=_extensions(item))
        for method in _METHODS:
            if method in item:
                getattr(path_item, method).CopyFrom(_operation(item[method]))
        path_item.parameters.extend(_parameter(p) for p in item.get("parameters") or ())
        out.paths.path.append(pb.NamedPathItem(name=path, value=path_item))
    for name, definition in (doc.get("definitions") or {}).items():
        out.definitions.additional_properties.append(
            pb.NamedSchema(name=name, value=schema(definition))
        )
    for name, scheme in (doc.get("securityDefinitions") or {}).items():
        key = pb.ApiKeySecurity(
            type=scheme.get("type", ""),
            name=scheme.get("name", ""),
            description=scheme.get("description", ""),
        )
        key.__setattr__("in", scheme.get("in", ""))
        out.security_definitions.additional_properties.append(
            pb.NamedSecurityDefinitionsItem(
                name=name, value=pb.SecurityDefinitionsItem(api_key_security=key)
            )
        )
    for requirement in doc.get("security") or ():
        out.security.append(
            pb.SecurityRequirement(
                additional_properties=[
                    pb.NamedStringArray(name=k, value=pb.StringArray(value=v))
                    for k, v in requirement.items()
                ]
            )
        )
    return out


def encode(doc: JSONObject) -> bytes:
    data: bytes = document(doc).SerializeToString(deterministic=True)
    return data

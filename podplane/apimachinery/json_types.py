"""The names for decoded JSON and YAML: a manifest, a REST request's body, a patch, an OpenAPI
document, a Status, a Table.

Kubernetes' JSON is untyped at the seams: a body is read before its kind is known, a patch is
applied to the object's JSON before it is decoded into the kind's message, and client-go's
Unstructured holds the same data as `map[string]interface{}`. So a value here is `Any`, as
`json.loads` returns it, and code narrows it (`isinstance`) where it reads it. A recursive union
(`dict[str, JSONValue] | list[JSONValue] | str | ...`) would refuse a `dict[str, str]` of labels
(dicts are invariant) and need a narrowing at every `obj["metadata"]["name"]`, for no check the
decoding into the API's messages does not already make.

The aliases say what the data is; they are not a place to put data that is not JSON (SDK answers,
protobuf messages, keyword bundles have their own types)."""

from __future__ import annotations

from typing import Any, TypeAlias

JSONValue: TypeAlias = Any
"""One decoded JSON or YAML value: None, bool, int, float, str, a JSONList or a JSONObject."""

JSONObject: TypeAlias = dict[str, JSONValue]
"""A decoded JSON or YAML object (a manifest, a body, `metadata`, a Status)."""

JSONList: TypeAlias = list[JSONValue]
"""A decoded JSON or YAML array."""

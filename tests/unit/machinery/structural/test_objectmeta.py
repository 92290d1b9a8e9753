"""Metadata of custom resources and of their embedded resources. Cases from apiextensions-
apiserver pkg/apiserver/schema/objectmeta/validation_test.go and coerce_test.go."""

from __future__ import annotations

import json
from typing import Any

import pytest

from podplane.apimachinery.structural import objectmeta
from podplane.apimachinery.structural.props import decode_props
from podplane.apimachinery.structural.schema import new_structural

EMBEDDED = {"x-kubernetes-embedded-resource": True}
SCHEMA = new_structural(
    decode_props(
        {
            "properties": {
                "embedded": EMBEDDED,
                "nested": {**EMBEDDED, "properties": {"embedded": EMBEDDED}},
                "items": {"items": EMBEDDED},
                "additionalProperties": {"additionalProperties": EMBEDDED},
            }
        }
    )
)


def matches(errors: list[Any]) -> list[tuple[str, str]]:
    return sorted((e.path, e.label) for e in errors)


@pytest.mark.parametrize(
    "obj, include_root, expected",
    [
        ("{}", False, []),
        ("{}", True, [("apiVersion", "Required value"), ("kind", "Required value")]),
        (
            '{"embedded": {}}',
            False,
            [("embedded.apiVersion", "Required value"), ("embedded.kind", "Required value")],
        ),
        (
            '{"nested": {"embedded": {}}}',
            False,
            [
                ("nested.apiVersion", "Required value"),
                ("nested.embedded.apiVersion", "Required value"),
                ("nested.embedded.kind", "Required value"),
                ("nested.kind", "Required value"),
            ],
        ),
        (
            '{"items": [{}]}',
            False,
            [("items[0].apiVersion", "Required value"), ("items[0].kind", "Required value")],
        ),
        (
            '{"additionalProperties": {"foo": {}}}',
            False,
            [
                ("additionalProperties[foo].apiVersion", "Required value"),
                ("additionalProperties[foo].kind", "Required value"),
            ],
        ),
    ],
)
def test_embedded_resources_need_api_version_and_kind(
    obj: str, include_root: bool, expected: list[tuple[str, str]]
) -> None:
    assert matches(objectmeta.validate_meta("", json.loads(obj), SCHEMA, include_root)) == expected


@pytest.mark.parametrize(
    "obj, expected",
    [
        ({"apiVersion": "foo/v1", "kind": "Foo"}, []),
        (
            {"apiVersion": "foo/v1", "kind": "foo.bar-com"},
            [
                'kind: Invalid value: "foo.bar-com": may have mixed case, but should otherwise '
                "match: a DNS-1035 label must consist of lower case alphanumeric characters or "
                "'-', start with an alphabetic character, and end with an alphanumeric character "
                "(e.g. 'my-name',  or 'abc-123', regex used for validation is "
                "'[a-z]([-a-z0-9]*[a-z0-9])?')"
            ],
        ),
        (
            {"apiVersion": "a/b/c", "kind": "Foo"},
            ['apiVersion: Invalid value: "a/b/c": unexpected GroupVersion string: a/b/c'],
        ),
        (
            {"apiVersion": 1, "kind": ""},
            [
                "apiVersion: Invalid value: 1: must be a string",
                'kind: Invalid value: "": must not be empty',
            ],
        ),
    ],
)
def test_api_version_and_kind_rules(obj: dict[str, Any], expected: list[str]) -> None:
    assert [str(e) for e in objectmeta.validate_meta("", obj, None, True)] == expected


def test_metadata_goes_through_the_apiserver_s_rules() -> None:
    seen: list[tuple[dict[str, Any], bool, str]] = []

    def record(meta: dict[str, Any], namespaced: bool, path: str) -> list[Any]:
        seen.append((meta, namespaced, path))
        return []

    obj = {"embedded": {"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": "x"}}}
    assert objectmeta.validate_meta("", obj, SCHEMA, False, record) == []
    # A nameless embedded resource is validated as "fakename", as Kubernetes does.
    assert seen == [({"namespace": "x", "name": "fakename"}, True, "embedded.metadata")]


def test_decoding_normalizes_object_meta() -> None:
    meta, unknown = objectmeta.decode_object_meta(
        {
            "name": "a",
            "namespace": "",
            "generation": 0,
            "labels": {},
            "creationTimestamp": "2024-01-02T03:04:05.123+02:00",
            "ownerReferences": [{"kind": "K", "name": "o", "controller": True, "extra": 1}],
            "bogus": True,
        },
        drop_malformed=False,
    )
    assert meta == {
        "name": "a",
        "creationTimestamp": "2024-01-02T01:04:05Z",
        "ownerReferences": [
            {"apiVersion": "", "kind": "K", "name": "o", "uid": "", "controller": True}
        ],
    }
    assert unknown == ["metadata.ownerReferences[0].extra", "metadata.bogus"]


@pytest.mark.parametrize(
    "metadata, message",
    [
        (
            {"labels": "x"},
            "json: cannot unmarshal string into Go struct field ObjectMeta.labels of type "
            "map[string]string",
        ),
        (
            {"name": 1},
            "json: cannot unmarshal number into Go struct field ObjectMeta.name of type string",
        ),
        (
            {"generation": 1.5},
            "json: cannot unmarshal number 1.5 into Go struct field ObjectMeta.generation of type "
            "int64",
        ),
        (
            {"creationTimestamp": "yesterday"},
            'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as '
            '"2006"',
        ),
        ("x", "json: cannot unmarshal string into Go value of type v1.ObjectMeta"),
    ],
)
def test_malformed_metadata(metadata: Any, message: str) -> None:
    with pytest.raises(
        objectmeta.MetaDecodeError,
        match="^" + message.replace("[", r"\[").replace("(", r"\(") + "$",
    ):
        objectmeta.decode_object_meta(metadata, drop_malformed=False)


def test_malformed_fields_are_dropped_alone() -> None:
    meta, _ = objectmeta.decode_object_meta({"name": "a", "labels": "x", "generation": "y"}, True)
    assert meta == {"name": "a"}


def test_coerce_rewrites_embedded_metadata_or_fails() -> None:
    obj = {"embedded": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "zzz": 1}}}
    err, unknown = objectmeta.coerce(None, obj, SCHEMA, False, False)
    assert err is None and unknown == ["embedded.metadata.zzz"]
    assert obj["embedded"]["metadata"] == {"name": "x"}

    bad = {"embedded": {"apiVersion": 1, "kind": "Pod"}}
    err, _ = objectmeta.coerce(None, bad, SCHEMA, False, False)
    assert str(err) == "embedded.apiVersion: Invalid value: 1: must be a string"
    err, _ = objectmeta.coerce(None, bad, SCHEMA, False, True)
    assert err is None and bad == {"embedded": {"kind": "Pod"}}

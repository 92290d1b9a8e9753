"""The ObjectMeta rules of a custom resource's embedded resources (x-kubernetes-embedded-resource),
as apiextensions-apiserver's objectmeta.Validate applies them with ValidateObjectMeta and
path.ValidatePathSegmentName: on the objects a version's strategy validates, and on the defaults
a definition gives them."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from apiserver.registry.customresource.strategy import CustomResourceStrategy
from apiserver.registry.strategy import STRATEGIES
from podplane.api.apiextensions.v1 import apiextensions_pb2
from podplane.api.apiextensions.v1.custom_objects_pb2 import CustomObject
from podplane.apimachinery import codec
from podplane.apimachinery.apiextensions import definitions
from podplane.apimachinery.codec import FieldValidation

TEMPLATE: dict[str, Any] = {
    "type": "object",
    "x-kubernetes-embedded-resource": True,
    "x-kubernetes-preserve-unknown-fields": True,
}


def definition(template: dict[str, Any]) -> apiextensions_pb2.CustomResourceDefinition:
    data = {
        "metadata": {"name": "wrappers.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "wrappers", "kind": "Wrapper"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {"template": copy.deepcopy(template)},
                                }
                            },
                        }
                    },
                }
            ],
        },
    }
    crd, _ = codec.decode(apiextensions_pb2.CustomResourceDefinition, data, FieldValidation.STRICT)
    return crd


def errors_of(template_meta: dict[str, Any]) -> list[str]:
    crd = definition(TEMPLATE)
    [version] = crd.spec.versions
    strategy = CustomResourceStrategy(crd, version, definitions.resource(crd, version))
    obj, _ = codec.decode(
        CustomObject,
        {
            "apiVersion": "example.com/v1",
            "kind": "Wrapper",
            "metadata": {"name": "w", "namespace": "default"},
            "spec": {
                "template": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": template_meta}
            },
        },
        FieldValidation.IGNORE,
    )
    return [str(e) for e in strategy.validate(obj)]


def test_valid_embedded_metadata_passes() -> None:
    assert errors_of({"name": "good", "namespace": "team-a", "labels": {"app": "web"}}) == []
    # No name is not an error there (Kubernetes validates a stand-in name).
    assert errors_of({"labels": {"app": "web"}}) == []


@pytest.mark.parametrize(
    "meta, message",
    [
        (
            {"name": "a/b"},
            "spec.template.metadata.name: Invalid value: \"a/b\": may not contain '/'",
        ),
        ({"name": ".."}, "spec.template.metadata.name: Invalid value: \"..\": may not be '..'"),
        (
            {"name": "ok", "namespace": "Bad_NS"},
            'spec.template.metadata.namespace: Invalid value: "Bad_NS": a lowercase RFC 1123 '
            "label must consist of lower case alphanumeric characters or '-'",
        ),
        (
            {"name": "ok", "labels": {"bad key!": "v"}},
            'spec.template.metadata.labels: Invalid value: "bad key!": name part must consist '
            "of alphanumeric characters",
        ),
        (
            {"name": "ok", "annotations": {"": "v"}},
            'spec.template.metadata.annotations: Invalid value: "": name part must be non-empty',
        ),
    ],
    ids=["slash in name", "dot-dot name", "namespace", "label key", "annotation key"],
)
def test_invalid_embedded_metadata_is_named(meta: dict[str, Any], message: str) -> None:
    found = errors_of(meta)
    assert any(e.startswith(message) for e in found), found


def test_a_default_with_invalid_embedded_metadata_refuses_the_definition() -> None:
    template = {
        **TEMPLATE,
        "default": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a/b"}},
    }
    crd = definition(template)
    strategy = STRATEGIES["customresourcedefinitions"]
    strategy.default(crd)
    strategy.prepare_for_create(crd)
    found = [str(e) for e in strategy.validate(crd)]
    assert found == [
        "spec.validation.openAPIV3Schema.properties[spec].properties[template].default.metadata"
        ".name: Invalid value: \"a/b\": may not contain '/'"
    ]

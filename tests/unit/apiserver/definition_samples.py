"""A valid CustomResourceDefinition to change in tests (widgets.example.com, one version with a
schema), and its validation as the registry's strategy gives it: defaulted, prepared for
create, then validated."""

from __future__ import annotations

import copy
from typing import Any

from apiserver.registry.strategy import STRATEGIES
from podplane.api.apiextensions.v1 import apiextensions_pb2
from podplane.apimachinery import codec
from podplane.apimachinery.codec import FieldValidation

CRD = apiextensions_pb2.CustomResourceDefinition
STRATEGY = STRATEGIES["customresourcedefinitions"]

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {"replicas": {"type": "integer"}, "name": {"type": "string"}},
        },
        "status": {"type": "object", "properties": {"replicas": {"type": "integer"}}},
    },
}


def good() -> dict[str, Any]:
    return {
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": copy.deepcopy(SCHEMA)},
                }
            ],
        },
    }


def errors_of(data: dict[str, Any]) -> list[str]:
    crd, _ = codec.decode(CRD, data, FieldValidation.STRICT)
    STRATEGY.default(crd)
    STRATEGY.prepare_for_create(crd)
    return [str(e) for e in STRATEGY.validate(crd)]

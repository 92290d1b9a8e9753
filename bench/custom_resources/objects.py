"""What the custom-resources benchmark writes: a CustomResourceDefinition whose kind, Payload, is
shaped as a ConfigMap (a top-level `data` map of strings, checked by its schema), and a ConfigMap
and a Payload whose JSON bodies are the same number of bytes, each POSTed to its collection as
kubectl create sends it. Only the storage differs: the ConfigMap is a compiled message in etcd,
the Payload JSON through the custom-resource store."""

from __future__ import annotations

import json

from bench.apiserver_doors.creators import HttpWrite
from bench.common.pods import NAMESPACE
from podplane.apimachinery.json_types import JSONObject

GROUP = "bench.podplane.io"
PLURAL = "payloads"
KIND = "Payload"
CRD_NAME = f"{PLURAL}.{GROUP}"
CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
# The cells' names, of one length: a create's name and labels name its cell, so that both
# kinds' bodies are still the same size as sent.
CONFIGMAP_CELL = "cm"
CUSTOM_CELL = "cr"


def definition() -> JSONObject:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": CRD_NAME},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": PLURAL, "singular": "payload", "kind": KIND},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "data": {
                                    "type": "object",
                                    "additionalProperties": {"type": "string"},
                                }
                            },
                        }
                    },
                }
            ],
        },
    }


def _configmap(payload: str) -> JSONObject:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "", "namespace": NAMESPACE},
        "data": {"payload": payload},
    }


def _custom(payload: str) -> JSONObject:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": KIND,
        "metadata": {"name": "", "namespace": NAMESPACE},
        "data": {"payload": payload},
    }


def body_size(template: JSONObject) -> int:
    return len(json.dumps(template).encode())


def writes(size: int) -> tuple[HttpWrite, HttpWrite]:
    """The ConfigMap's write and the Payload's, each body `size` bytes of JSON before a create
    adds its name and labels (the same number of bytes for both kinds): their payloads padded
    so; a size smaller than the objects without payload is refused."""
    configmap = _configmap("x" * (size - body_size(_configmap(""))))
    custom = _custom("x" * (size - body_size(_custom(""))))
    if body_size(configmap) != size or body_size(custom) != size:
        raise ValueError(f"--size {size}: at least {body_size(_custom(''))} bytes")
    return (
        HttpWrite(f"/api/v1/namespaces/{NAMESPACE}/configmaps", configmap),
        HttpWrite(f"/apis/{GROUP}/v1/namespaces/{NAMESPACE}/{PLURAL}", custom),
    )

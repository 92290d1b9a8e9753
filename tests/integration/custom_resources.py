"""CustomResourceDefinitions the integration tests install, each in a group of its own so tests
never meet each other's kinds: Kubernetes' CronTab example (namespaced, a status and a scale
subresource, printer columns, the "all" category, a selectable field), a cluster-scoped kind,
and a kind with two versions (v1beta1 deprecated, v1 stored)."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from podplane.api.apiextensions.v1 import apiextensions_pb2
from podplane.apimachinery import manifest
from podplane.apimachinery.apiextensions import definitions
from podplane.client.clientset import Client
from tests.support import eventually

CRONTAB_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A crontab: an image run on a schedule.",
    "properties": {
        "spec": {
            "type": "object",
            "description": "What runs and when.",
            "properties": {
                "cronSpec": {"type": "string", "description": "When it runs, in cron syntax."},
                "image": {"type": "string", "description": "The image it runs."},
                "replicas": {"type": "integer", "minimum": 0, "maximum": 10, "default": 1},
                "suspend": {"type": "boolean"},
            },
            "required": ["cronSpec"],
            "x-kubernetes-validations": [
                {
                    "rule": "!has(self.image) || self.image != 'forbidden'",
                    "message": "that image is not allowed",
                }
            ],
        },
        "status": {
            "type": "object",
            "properties": {
                "replicas": {"type": "integer"},
                "selector": {"type": "string"},
                "lastScheduleTime": {"type": "string"},
            },
        },
    },
}


def unique_group(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}.example.com"


def crontab_crd(group: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"crontabs.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {
                "plural": "crontabs",
                "singular": "crontab",
                "kind": "CronTab",
                "shortNames": ["ct"],
                "categories": ["all"],
            },
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": copy.deepcopy(CRONTAB_SCHEMA)},
                    "subresources": {
                        "status": {},
                        "scale": {
                            "specReplicasPath": ".spec.replicas",
                            "statusReplicasPath": ".status.replicas",
                            "labelSelectorPath": ".status.selector",
                        },
                    },
                    "additionalPrinterColumns": [
                        {"name": "Spec", "type": "string", "jsonPath": ".spec.cronSpec"},
                        {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
                        {
                            "name": "Image",
                            "type": "string",
                            "priority": 1,
                            "jsonPath": ".spec.image",
                        },
                        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                    ],
                    "selectableFields": [{"jsonPath": ".spec.image"}],
                }
            ],
        },
    }


def cluster_crd(group: str) -> dict[str, Any]:
    """A cluster-scoped kind without subresources or columns."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"regions.{group}"},
        "spec": {
            "group": group,
            "scope": "Cluster",
            "names": {"plural": "regions", "singular": "region", "kind": "Region"},
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
                                    "properties": {
                                        "zones": {"type": "array", "items": {"type": "string"}}
                                    },
                                }
                            },
                        }
                    },
                }
            ],
        },
    }


def two_version_crd(group: str) -> dict[str, Any]:
    """Widgets in v1beta1 (deprecated, served) and v1 (stored), conversion None."""
    schema = {
        "type": "object",
        "properties": {
            "spec": {"type": "object", "properties": {"size": {"type": "string"}}},
        },
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [
                {
                    "name": "v1beta1",
                    "served": True,
                    "storage": False,
                    "deprecated": True,
                    "schema": {"openAPIV3Schema": copy.deepcopy(schema)},
                },
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": copy.deepcopy(schema)},
                },
            ],
        },
    }


def crd_message(data: dict[str, Any]) -> apiextensions_pb2.CustomResourceDefinition:
    crd: Any = manifest.from_dict(data)
    assert isinstance(crd, apiextensions_pb2.CustomResourceDefinition)
    return crd


async def established(client: Client, name: str) -> apiextensions_pb2.CustomResourceDefinition:
    """The definition once Established (its resources served), as the apiserver stores it."""
    found: list[apiextensions_pb2.CustomResourceDefinition] = []

    async def check() -> bool:
        crd = await client.customresourcedefinitions.get(name)
        found[:] = [crd]
        return definitions.is_true(crd, definitions.ESTABLISHED)

    await eventually(check, timeout=10, what=f"{name} established")
    return found[0]


async def install(
    client: Client, data: dict[str, Any]
) -> apiextensions_pb2.CustomResourceDefinition:
    await client.customresourcedefinitions.create(crd_message(data))
    return await established(client, data["metadata"]["name"])

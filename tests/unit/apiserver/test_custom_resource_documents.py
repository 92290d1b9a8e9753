"""Discovery and OpenAPI of custom resources: an established definition's served versions are
listed in /apis (its preferred version first), in /apis/<group>/<version> with their short
names, categories, singular name and subresources, and described by /openapi/v3/apis/<group>/
<version> and /openapi/v2 as kube-apiserver's CRD builder describes them (definition names with
the group reversed, apiVersion, kind and metadata added, a list kind, no strategic merge patch);
/openapi/v2 in gnostic's protobuf says what its JSON says."""

from __future__ import annotations

import json
from typing import Any, cast

import yaml

from apiserver.endpoints.rest import discovery
from apiserver.registry.customresource.strategy import CustomResourceStrategy
from apiserver.registry.generic.store import Store
from apiserver.registry.resource import ResourceAPI
from apiserver.registry.served import CustomResourceVersion, ServedResources, key_of
from apiserver.registry.uncached import Uncached
from apiserver.storage.etcd import EtcdClient
from podplane.api.apiextensions.v1 import apiextensions_pb2
from podplane.api.openapiv2 import openapiv2_pb2
from podplane.apimachinery import codec
from podplane.apimachinery.apiextensions import definitions
from podplane.apimachinery.apiextensions import openapi as custom
from podplane.apimachinery.apiextensions.openapi import CustomResourceDoc
from podplane.apimachinery.openapi import openapi_v2_protobuf
from podplane.apimachinery.structural import openapi_publishing

SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "description": "the spec",
            "properties": {"size": {"type": "string", "nullable": True}},
        }
    },
}


def crd(established: bool = True) -> apiextensions_pb2.CustomResourceDefinition:
    out, _ = codec.decode(
        apiextensions_pb2.CustomResourceDefinition,
        {
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {
                    "plural": "widgets",
                    "singular": "widget",
                    "kind": "Widget",
                    "listKind": "WidgetList",
                    "shortNames": ["wd"],
                    "categories": ["all"],
                },
                "versions": [
                    {
                        "name": "v1alpha1",
                        "served": True,
                        "storage": False,
                        "schema": {"openAPIV3Schema": SCHEMA},
                    },
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {"openAPIV3Schema": SCHEMA},
                        "subresources": {
                            "status": {},
                            "scale": {
                                "specReplicasPath": ".spec.r",
                                "statusReplicasPath": ".status.r",
                            },
                        },
                    },
                ],
            },
        },
    )
    out.status.accepted_names.CopyFrom(out.spec.names)
    definitions.set_condition(out, "NamesAccepted", "True", "NoConflicts", "")
    if established:
        definitions.set_condition(out, "Established", "True", "InitialNamesAccepted", "")
    return out


def served(established: bool = True) -> ServedResources:
    out = ServedResources({})
    definition = crd(established)
    versions = []
    for v in definitions.served_versions(definition):
        resource = definitions.resource(definition, v)
        rules = CustomResourceStrategy(definition, v, resource)
        store = Store(cast(EtcdClient, None), rules.strategy())
        api = ResourceAPI(store, Uncached(store))
        versions.append(CustomResourceVersion(definition, v, api, rules.schema))
    out.set_custom(definition.metadata.name, versions)
    return out


def test_discovery_lists_an_established_definition() -> None:
    registry = served()
    group = discovery.api_group(registry, "example.com")
    assert group is not None
    assert group["preferredVersion"] == {"groupVersion": "example.com/v1", "version": "v1"}
    assert [v["version"] for v in group["versions"]] == ["v1", "v1alpha1"]
    assert "example.com" in {g["name"] for g in discovery.api_group_list(registry)["groups"]}
    listed = discovery.api_resource_list(registry, "example.com", "v1")
    assert listed is not None
    entries = {e["name"]: e for e in listed["resources"]}
    widget = entries["widgets"]
    assert (widget["kind"], widget["singularName"], widget["namespaced"]) == (
        "Widget",
        "widget",
        True,
    )
    assert widget["shortNames"] == ["wd"] and widget["categories"] == ["all"]
    assert sorted(widget["verbs"]) == sorted(discovery.VERBS)
    assert entries["widgets/status"]["kind"] == "Widget"
    scale = entries["widgets/scale"]
    assert (scale["kind"], scale["group"], scale["version"]) == ("Scale", "autoscaling", "v1")
    alpha = discovery.api_resource_list(registry, "example.com", "v1alpha1")
    assert alpha is not None
    assert [e["name"] for e in alpha["resources"]] == ["widgets"]


def test_a_definition_not_yet_established_is_not_discovered() -> None:
    registry = served(established=False)
    assert discovery.api_group(registry, "example.com") is None
    assert registry.lookup("example.com", "v1", "widgets") is not None  # but served already


def docs() -> list[CustomResourceDoc]:
    registry = served()
    return [
        CustomResourceDoc(
            c.resource, c.subresources, c.schema.structural if c.schema is not None else None
        )
        for c in registry.custom.values()
        if key_of(c.resource) == ("example.com", "v1", "widgets")
    ]


def refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [
            r
            for k, v in value.items()
            for r in ([v] if k == "$ref" and isinstance(v, str) else refs(v))
        ]
    if isinstance(value, list):
        return [r for item in value for r in refs(item)]
    return []


def test_the_v3_document_of_a_custom_group_version() -> None:
    document = custom.v3_document(docs())
    schemas = document["components"]["schemas"]
    widget = schemas["com.example.v1.Widget"]
    assert widget["x-kubernetes-group-version-kind"] == [
        {"group": "example.com", "version": "v1", "kind": "Widget"}
    ]
    assert widget["properties"]["spec"]["description"] == "the spec"
    assert widget["properties"]["spec"]["properties"]["size"]["nullable"] is True
    assert widget["properties"]["metadata"]["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    ]
    assert set(widget["properties"]) == {"apiVersion", "kind", "metadata", "spec"}
    listed = schemas["com.example.v1.WidgetList"]
    assert listed["required"] == ["items"]
    assert listed["properties"]["items"]["items"] == {
        "$ref": "#/components/schemas/com.example.v1.Widget"
    }
    paths = document["paths"]
    collection = paths["/apis/example.com/v1/namespaces/{namespace}/widgets"]
    assert collection["get"]["operationId"] == "listExampleComV1NamespacedWidget"
    assert collection["post"]["x-kubernetes-group-version-kind"]["kind"] == "Widget"
    patch = paths["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"]["patch"]
    assert sorted(patch["requestBody"]["content"]) == [
        "application/apply-patch+yaml",
        "application/json-patch+json",
        "application/merge-patch+json",
    ]
    assert "/apis/example.com/v1/namespaces/{namespace}/widgets/{name}/scale" in paths
    assert "/apis/example.com/v1/widgets" in paths  # every namespace
    prefix = "#/components/schemas/"
    assert all(r.startswith(prefix) and r.removeprefix(prefix) in schemas for r in refs(document))


def test_the_v2_document_has_them_among_the_built_in_kinds() -> None:
    document = custom.v2_document(docs())
    widget = document["definitions"]["com.example.v1.Widget"]
    assert "nullable" not in widget["properties"]["spec"]["properties"]["size"]
    assert widget["properties"]["metadata"] == {
        "$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "description": openapi_publishing.OBJECT_METADATA,
    }
    assert "/api/v1/namespaces/{namespace}/pods" in document["paths"]
    assert "io.k8s.api.core.v1.Pod" in document["definitions"]


def test_the_v2_protobuf_says_what_the_json_says() -> None:
    document = custom.v2_document(docs())
    parsed = openapiv2_pb2.Document.FromString(openapi_v2_protobuf.encode(document))
    assert parsed.swagger == "2.0"
    assert parsed.info.title == "Kubernetes"
    paths = {p.name: p.value for p in parsed.paths.path}
    assert list(paths) == list(document["paths"])
    item = paths["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"]
    assert item.patch.operation_id == "patchExampleComV1NamespacedWidget"
    extensions = {e.name: yaml.safe_load(e.value.yaml) for e in item.patch.vendor_extension}
    assert extensions == {
        "x-kubernetes-action": "patch",
        "x-kubernetes-group-version-kind": {
            "group": "example.com",
            "kind": "Widget",
            "version": "v1",
        },
    }
    names = {
        (
            p.parameter.non_body_parameter.query_parameter_sub_schema.name
            or p.parameter.non_body_parameter.path_parameter_sub_schema.name
            or p.parameter.body_parameter.name
        )
        for p in item.patch.parameters
    }
    assert {"fieldValidation", "name", "namespace", "body"} <= names
    responses = {r.name: r.value.response for r in item.patch.responses.response_code}
    assert responses["200"].schema.schema._ref == "#/definitions/com.example.v1.Widget"
    definitions_ = {d.name: d.value for d in parsed.definitions.additional_properties}
    assert set(definitions_) == set(document["definitions"])
    widget = definitions_["com.example.v1.Widget"]
    props = {p.name: p.value for p in widget.properties.additional_properties}
    assert list(props["spec"].type.value) == ["object"]
    gvk = {e.name: yaml.safe_load(e.value.yaml) for e in widget.vendor_extension}
    assert gvk["x-kubernetes-group-version-kind"] == [
        {"group": "example.com", "version": "v1", "kind": "Widget"}
    ]
    pod = definitions_["io.k8s.api.core.v1.Pod"]
    assert "spec" in {p.name for p in pod.properties.additional_properties}
    assert json.loads(json.dumps(document))  # the JSON form is the same document

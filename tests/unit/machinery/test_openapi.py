"""The OpenAPI documents give kubectl what it reads: explain's schemas, descriptions and type
names; apply's strategic-merge-patch metadata and the fieldValidation parameter of each kind's
PATCH operation; and a v3 index that links every group version with its hash."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from apiserver.endpoints.rest import discovery
from apiserver.registry.served import ServedResources
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import openapi, resources
from podplane.apimachinery.openapi import operations, schemas

GROUP_VERSIONS = [
    ("", "v1"),
    ("apps", "v1"),
    ("batch", "v1"),
    ("coordination.k8s.io", "v1"),
    ("storage.k8s.io", "v1"),
]
V3 = "#/components/schemas/"
V2 = "#/definitions/"
POD = "io.k8s.api.core.v1.Pod"
METHODS = ("get", "put", "post", "patch", "delete")


def v3(group: str = "", version: str = "v1") -> dict[str, Any]:
    doc = openapi.v3_document(group, version)
    assert doc is not None
    return doc


def v3_schemas(group: str = "", version: str = "v1") -> dict[str, Any]:
    schemas: dict[str, Any] = v3(group, version)["components"]["schemas"]
    return schemas


def documents() -> list[tuple[str, dict[str, Any], dict[str, Any], str]]:
    """(label, document, its definitions, its $ref prefix) for every document."""
    out = [
        (f"v3 {g or 'core'}/{v}", v3(g, v), v3(g, v)["components"]["schemas"], V3)
        for g, v in GROUP_VERSIONS
    ]
    v2 = openapi.v2_document()
    return [*out, ("v2", v2, v2["definitions"], V2)]


def refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        # JSONSchemaProps has a property named "$ref": a schema, not a reference.
        return [
            r
            for k, v in value.items()
            for r in ([v] if k == "$ref" and isinstance(v, str) else refs(v))
        ]
    if isinstance(value, list):
        return [r for item in value for r in refs(item)]
    return []


def operations_of(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


# ------------------------------------------------------------------ the index


def test_index_links_every_group_version_with_the_hash_of_its_document() -> None:
    paths = openapi.v3_index()["paths"]
    assert sorted(paths) == [
        "api/v1",
        "apis/admissionregistration.k8s.io/v1",
        "apis/apiextensions.k8s.io/v1",
        "apis/apiregistration.k8s.io/v1",
        "apis/apps/v1",
        "apis/authentication.k8s.io/v1",
        "apis/authorization.k8s.io/v1",
        "apis/autoscaling/v1",
        "apis/autoscaling/v2",
        "apis/batch/v1",
        "apis/certificates.k8s.io/v1",
        "apis/coordination.k8s.io/v1",
        "apis/discovery.k8s.io/v1",
        "apis/events.k8s.io/v1",
        "apis/flowcontrol.apiserver.k8s.io/v1",
        "apis/networking.k8s.io/v1",
        "apis/node.k8s.io/v1",
        "apis/policy/v1",
        "apis/rbac.authorization.k8s.io/v1",
        "apis/scheduling.k8s.io/v1",
        "apis/storage.k8s.io/v1",
    ]
    for group, version in GROUP_VERSIONS:
        body = openapi.v3_document_json(group, version)
        assert body is not None
        digest = hashlib.sha512(body).hexdigest().upper()
        key = openapi.v3_path(group, version)
        assert paths[key]["serverRelativeURL"] == f"/openapi/v3/{key}?hash={digest}"
        assert openapi.document_hash(v3(group, version)) == digest
        assert json.loads(body) == v3(group, version)


def test_documents_are_built_once_and_hash_the_same_every_time() -> None:
    assert openapi.v3_document("", "v1") is openapi.v3_document("", "v1")
    assert openapi.v2_document() is openapi.v2_document()
    assert (
        openapi.document_hash(openapi.v2_document())
        == hashlib.sha512(openapi.v2_document_json()).hexdigest().upper()
    )


def test_a_group_version_not_served_has_no_document() -> None:
    assert openapi.v3_document("apps", "v1beta1") is None
    assert openapi.v3_document_json("policy", "v1beta1") is None


# ------------------------------------------------------------------ schemas: explain


def test_pod_schema_has_every_field_of_the_message_with_a_description() -> None:
    pod = v3_schemas()[POD]
    assert set(pod["properties"]) == {f.json_name for f in core_pb2.Pod.DESCRIPTOR.fields}
    assert pod["description"].startswith("A pod:")
    for name, prop in pod["properties"].items():
        assert prop.get("description"), name


@pytest.mark.parametrize(
    "label, doc, definitions, prefix", documents(), ids=[d[0] for d in documents()]
)
def test_every_message_field_is_described(
    label: str, doc: dict[str, Any], definitions: dict[str, Any], prefix: str
) -> None:
    undescribed = [
        f"{name}.{field}"
        for name, schema in definitions.items()
        for field, prop in schema.get("properties", {}).items()
        if not prop.get("description")
    ]
    assert undescribed == []
    assert [name for name, schema in definitions.items() if not schema.get("description")] == []


def test_names_and_shapes_are_kubernetes_own() -> None:
    schemas = v3_schemas()
    meta = schemas[POD]["properties"]["metadata"]
    # kube-openapi's shape for a struct field: allOf around the $ref, so the description beside
    # it counts, and default {} for a struct Go always writes.
    assert meta["allOf"] == [{"$ref": V3 + "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}]
    assert meta["default"] == {}
    object_meta = schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]["properties"]
    assert object_meta["creationTimestamp"]["allOf"] == [
        {"$ref": V3 + "io.k8s.apimachinery.pkg.apis.meta.v1.Time"}
    ]
    assert schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Time"]["format"] == "date-time"
    http_get = schemas["io.k8s.api.core.v1.HTTPGetAction"]["properties"]
    assert http_get["port"]["allOf"] == [
        {"$ref": V3 + "io.k8s.apimachinery.pkg.util.intstr.IntOrString"}
    ]
    int_or_string = schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]
    assert int_or_string["x-kubernetes-int-or-string"] is True and "type" not in int_or_string
    limits = schemas["io.k8s.api.core.v1.ResourceRequirements"]["properties"]["limits"]
    assert limits["additionalProperties"] == {
        "$ref": V3 + "io.k8s.apimachinery.pkg.api.resource.Quantity"
    }
    binary = schemas["io.k8s.api.core.v1.ConfigMap"]["properties"]["binaryData"]
    assert binary["additionalProperties"] == {"type": "string", "format": "byte"}
    status = schemas["io.k8s.api.core.v1.ContainerStatus"]
    assert status["required"] == ["name", "ready", "restartCount", "image", "imageID"]
    assert status["properties"]["restartCount"] == {
        "type": "integer",
        "format": "int32",
        "default": 0,
        "description": status["properties"]["restartCount"]["description"],
    }


def test_v2_puts_descriptions_beside_the_ref() -> None:
    definitions = openapi.v2_document()["definitions"]
    meta = definitions[POD]["properties"]["metadata"]
    assert meta["$ref"] == V2 + "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    assert meta["description"]
    assert definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] == {
        "type": "string",
        "format": "int-or-string",
        "description": definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"][
            "description"
        ],
    }


@pytest.mark.parametrize("r", resources.ALL, ids=[r.kind for r in resources.ALL])
def test_explain_finds_each_kind_through_its_list_path(r: resources.Resource) -> None:
    """kubectl explain takes the GVK off the resource's list path, then the schema that
    carries the same GVK."""
    group, _, version = r.api_version.rpartition("/")
    doc = v3(group, version)
    prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
    path = (
        f"{prefix}/namespaces/{{namespace}}/{r.plural}" if r.namespaced else f"{prefix}/{r.plural}"
    )
    gvk = doc["paths"][path]["get"]["x-kubernetes-group-version-kind"]
    assert gvk == {"group": group, "version": version, "kind": r.kind}
    carriers = [
        name
        for name, schema in doc["components"]["schemas"].items()
        if gvk in schema.get("x-kubernetes-group-version-kind", [])
    ]
    assert len(carriers) == 1
    lists = [
        name
        for name, schema in doc["components"]["schemas"].items()
        if {**gvk, "kind": f"{r.kind}List"} in schema.get("x-kubernetes-group-version-kind", [])
    ]
    assert len(lists) == 1
    assert {"apiVersion", "kind", "metadata", "items"} <= set(
        doc["components"]["schemas"][lists[0]]["properties"]
    )


# ------------------------------------------------------------------ schemas: apply


def test_pod_spec_containers_merge_by_name() -> None:
    for _, _, definitions, _ in documents()[:1] + documents()[-1:]:
        containers = definitions["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
        assert containers["x-kubernetes-patch-strategy"] == "merge"
        assert containers["x-kubernetes-patch-merge-key"] == "name"
        assert containers["x-kubernetes-list-type"] == "map"
        assert containers["x-kubernetes-list-map-keys"] == ["name"]
    volumes = v3_schemas()["io.k8s.api.core.v1.PodSpec"]["properties"]["volumes"]
    assert volumes["x-kubernetes-patch-strategy"] == "merge,retainKeys"


def _resolve(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """strategicpatch.PatchMetaFromOpenAPIV3's resolve: the first allOf, then its $ref."""
    if schema.get("allOf"):
        schema = schema["allOf"][0]
    if "$ref" in schema:
        resolved: dict[str, Any] = schemas[schema["$ref"].removeprefix(V3)]
        return resolved
    return schema


def _patch_meta(schemas: dict[str, Any], kind: str, path: list[str]) -> dict[str, str]:
    """Walks `path` from `kind`'s schema as kubectl's strategic merge patch does, returning
    the last field's patch strategy and merge key."""
    schema = schemas[kind]
    meta: dict[str, str] = {}
    for key in path:
        field = schema["properties"][key]
        meta = {k: v for k, v in field.items() if k.startswith("x-kubernetes-patch")}
        schema = _resolve(field.get("items", field), schemas)
    return meta


@pytest.mark.parametrize(
    "group, kind, path, strategy, key",
    [
        ("", POD, ["spec", "containers"], "merge", "name"),
        ("", POD, ["spec", "containers", "env"], "merge", "name"),
        ("", POD, ["spec", "containers", "ports"], "merge", "containerPort"),
        ("", POD, ["spec", "containers", "volumeMounts"], "merge", "mountPath"),
        ("", POD, ["metadata", "ownerReferences"], "merge", "uid"),
        ("", POD, ["status", "conditions"], "merge", "type"),
        (
            "apps",
            "io.k8s.api.apps.v1.Deployment",
            ["spec", "template", "spec", "containers"],
            "merge",
            "name",
        ),
        ("apps", "io.k8s.api.apps.v1.Deployment", ["spec", "strategy"], "retainKeys", ""),
        (
            "batch",
            "io.k8s.api.batch.v1.Job",
            ["spec", "template", "spec", "initContainers"],
            "merge",
            "name",
        ),
    ],
)
def test_strategic_merge_patch_resolves_through_references(
    group: str, kind: str, path: list[str], strategy: str, key: str
) -> None:
    meta = _patch_meta(v3_schemas(group, "v1"), kind, path)
    assert meta.get("x-kubernetes-patch-strategy") == strategy
    assert meta.get("x-kubernetes-patch-merge-key", "") == key


# ------------------------------------------------------------------ operations


def test_pods_patch_operation_names_its_kind_and_takes_strategic_merge_patches() -> None:
    patch = v3()["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert patch["x-kubernetes-action"] == "patch"
    assert patch["operationId"] == "patchCoreV1NamespacedPod"
    assert "application/strategic-merge-patch+json" in patch["requestBody"]["content"]
    assert patch["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": V3 + POD}


@pytest.mark.parametrize(
    "label, doc, definitions, prefix", documents(), ids=[d[0] for d in documents()]
)
def test_every_write_takes_field_validation(
    label: str, doc: dict[str, Any], definitions: dict[str, Any], prefix: str
) -> None:
    """kubectl apply --validate=strict looks for fieldValidation among the query parameters of
    the kind's PATCH operations, and then leaves validation to the server."""
    writes = [
        (path, method, op)
        for path, method, op in operations_of(doc)
        if op.get("x-kubernetes-action") in ("post", "put", "patch")
    ]
    assert len(writes) >= 3  # create, replace and patch of at least one kind
    for path, method, op in writes:
        queries = {p["name"] for p in op["parameters"] if p["in"] == "query"}
        assert {"fieldValidation", "dryRun", "fieldManager"} <= queries, (path, method)


def test_list_delete_and_path_parameters() -> None:
    paths = v3()["paths"]
    listing = paths["/api/v1/namespaces/{namespace}/pods"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {
        "namespace",
        "labelSelector",
        "fieldSelector",
        "limit",
        "continue",
        "resourceVersion",
        "resourceVersionMatch",
        "watch",
        "allowWatchBookmarks",
        "timeoutSeconds",
        "pretty",
    }
    assert listing["responses"]["200"]["content"]["application/json;stream=watch"]["schema"] == {
        "$ref": V3 + "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent"
    }
    delete = paths["/api/v1/namespaces/{namespace}/pods/{name}"]["delete"]
    assert {"gracePeriodSeconds", "propagationPolicy", "dryRun"} <= {
        p["name"] for p in delete["parameters"]
    }
    assert delete["requestBody"]["required"] is False
    for path, _, op in operations_of(v3()):
        declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
        assert declared == {part[1:-1] for part in path.split("/") if part.startswith("{")}
        assert all(p["required"] for p in op["parameters"] if p["in"] == "path")


@pytest.mark.parametrize(
    "group, path, method, operation_id, action, kind",
    [
        (
            "",
            "/api/v1/namespaces/{namespace}/pods",
            "get",
            "listCoreV1NamespacedPod",
            "list",
            "Pod",
        ),
        (
            "",
            "/api/v1/namespaces/{namespace}/pods",
            "delete",
            "deleteCoreV1CollectionNamespacedPod",
            "deletecollection",
            "Pod",
        ),
        ("", "/api/v1/pods", "get", "listCoreV1PodForAllNamespaces", "list", "Pod"),
        (
            "",
            "/api/v1/namespaces/{namespace}/pods/{name}/status",
            "patch",
            "patchCoreV1NamespacedPodStatus",
            "patch",
            "Pod",
        ),
        (
            "",
            "/api/v1/namespaces/{namespace}/pods/{name}/ephemeralcontainers",
            "patch",
            "patchCoreV1NamespacedPodEphemeralcontainers",
            "patch",
            "Pod",
        ),
        (
            "",
            "/api/v1/namespaces/{namespace}/pods/{name}/binding",
            "post",
            "createCoreV1NamespacedPodBinding",
            "post",
            "Binding",
        ),
        (
            "",
            "/api/v1/namespaces/{namespace}/pods/{name}/log",
            "get",
            "readCoreV1NamespacedPodLog",
            "get",
            "Pod",
        ),
        (
            "",
            "/api/v1/namespaces/{namespace}/pods/{name}/exec",
            "post",
            "connectCoreV1PostNamespacedPodExec",
            "connect",
            "PodExecOptions",
        ),
        ("", "/api/v1/nodes/{name}/status", "get", "readCoreV1NodeStatus", "get", "Node"),
        ("", "/api/v1/namespaces/{name}", "put", "replaceCoreV1Namespace", "put", "Namespace"),
        (
            "apps",
            "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale",
            "patch",
            "patchAppsV1NamespacedDeploymentScale",
            "patch",
            "Scale",
        ),
        (
            "coordination.k8s.io",
            "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases",
            "post",
            "createCoordinationV1NamespacedLease",
            "post",
            "Lease",
        ),
        (
            "batch",
            "/apis/batch/v1/namespaces/{namespace}/jobs/{name}",
            "delete",
            "deleteBatchV1NamespacedJob",
            "delete",
            "Job",
        ),
    ],
)
def test_operations_are_named_as_kubernetes_names_them(
    group: str, path: str, method: str, operation_id: str, action: str, kind: str
) -> None:
    op = v3(group, "v1")["paths"][path][method]
    assert op["operationId"] == operation_id
    assert op["x-kubernetes-action"] == action
    assert op["x-kubernetes-group-version-kind"]["kind"] == kind


@pytest.mark.parametrize(
    "label, doc, definitions, prefix", documents(), ids=[d[0] for d in documents()]
)
def test_every_ref_resolves_inside_its_document(
    label: str, doc: dict[str, Any], definitions: dict[str, Any], prefix: str
) -> None:
    found = refs(doc)
    assert found and all(r.startswith(prefix) for r in found)
    assert sorted({r for r in found if r.removeprefix(prefix) not in definitions}) == []
    operation_ids = [op["operationId"] for _, _, op in operations_of(doc)]
    assert len(operation_ids) == len(set(operation_ids))
    for name in (
        "Status",
        "DeleteOptions",
        "ListMeta",
        "Time",
        "WatchEvent",
        "Patch",
        "APIResourceList",
    ):
        assert f"io.k8s.apimachinery.pkg.apis.meta.v1.{name}" in definitions
    assert {
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
        "io.k8s.apimachinery.pkg.api.resource.Quantity",
    } <= set(definitions)


def test_v2_document_serves_every_group_version() -> None:
    v2 = openapi.v2_document()
    assert v2["swagger"] == "2.0"
    for group, version in GROUP_VERSIONS:
        assert set(v3(group, version)["paths"]) <= set(v2["paths"])
    patch = v2["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert "application/strategic-merge-patch+json" in patch["consumes"]
    assert patch["parameters"][0] == {
        "name": "body",
        "in": "body",
        "required": True,
        "schema": {"$ref": V2 + "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"},
    }
    assert "fieldValidation" in {p["name"] for p in patch["parameters"]}


# ------------------------------------------------------------------ one table


def test_subresources_and_version_agree_with_discovery() -> None:
    """Discovery (apiserver) and the documents (machinery) list the same subresources; the
    machinery cannot import the apiserver, so this test holds the two tables together."""
    assert operations.SUBRESOURCES == {
        plural: tuple(s.name for s in subs) for plural, subs in discovery.SUBRESOURCES.items()
    }
    assert openapi.KUBERNETES_VERSION == discovery.KUBERNETES_VERSION
    for group, version in GROUP_VERSIONS:
        listed = discovery.api_resource_list(ServedResources({}), group, version)
        assert listed is not None
        paths = v3(group, version)["paths"]
        for entry in listed["resources"]:
            served_at = entry["name"].replace("/", "/{name}/")  # pods/status: pods/{name}/status
            assert any(path.endswith(f"/{served_at}") for path in paths), entry["name"]


def test_the_protobuf_wire_messages_are_no_api_type() -> None:
    """podplane/api/k8swire (Kubernetes' protobuf field numbers, read from request bodies only)
    shares the descriptor set but gives no definition to any document."""
    names = [m.full_name for m in schemas.messages().values()]
    assert names and not [n for n in names if ".k8swire." in n]
    documents = [openapi.v2_document()] + [v3(g, v) for g, v in GROUP_VERSIONS]
    assert not [d for d in documents if "k8swire" in json.dumps(d)]

"""Namespaces are never deleted as a collection, as in Kubernetes (its namespace registry has no
DeleteCollection): discovery lists no deletecollection verb for them, OpenAPI no collection
DELETE, and the REST door answers one with 405 Method Not Allowed."""

from __future__ import annotations

from typing import Any

from apiserver.endpoints.rest import discovery
from apiserver.registry.served import ServedResources
from podplane.apimachinery.openapi import v3_document


def _verbs(plural: str) -> Any:
    listed = discovery.api_resource_list(ServedResources({}), "", "v1")
    assert listed is not None
    return next(r["verbs"] for r in listed["resources"] if r["name"] == plural)


def test_discovery_lists_no_deletecollection_for_namespaces() -> None:
    assert _verbs("namespaces") == ["create", "delete", "get", "list", "patch", "update", "watch"]
    assert "deletecollection" in _verbs("configmaps")


def test_openapi_has_no_collection_delete_of_namespaces() -> None:
    doc = v3_document("", "v1")
    assert doc is not None
    paths: Any = doc["paths"]
    assert sorted(paths["/api/v1/namespaces"]) == ["get", "post"]
    assert "delete" in paths["/api/v1/namespaces/{namespace}/configmaps"]

"""Aggregated discovery's pure parts (Kubernetes 1.31's ConvertGroupVersionIntoToDiscovery and
resource manager): a legacy resource list converted, subresources under their parent (one made
for a parent not listed, a scope mismatch refused with Kubernetes' text); the groups merged by
source and ordered by priority then name, a group's versions by priority then Kubernetes'
version order; the ETag quoted and following the content."""

from __future__ import annotations

import pytest

from podplane.apimachinery import apidiscovery
from podplane.apimachinery.apidiscovery import Source, VersionEntry
from podplane.apimachinery.json_types import JSONObject


def test_a_resource_list_is_converted_with_its_subresources() -> None:
    listed = [
        {"name": "deployments", "singularName": "deployment", "namespaced": True,
         "kind": "Deployment", "verbs": ["create", "get"], "shortNames": ["deploy"],
         "categories": ["all"], "storageVersionHash": "x"},
        {"name": "deployments/scale", "singularName": "", "namespaced": True,
         "group": "autoscaling", "version": "v1", "kind": "Scale",
         "verbs": ["get", "patch", "update"]},
        {"name": "deployments/status", "singularName": "", "namespaced": True,
         "kind": "Deployment", "verbs": ["get"]},
        {"name": "orphans/log", "singularName": "", "namespaced": False, "verbs": ["get"]},
    ]  # fmt: skip
    assert apidiscovery.resources_of(listed) == [
        {
            "resource": "deployments",
            "responseKind": {"group": "", "version": "", "kind": "Deployment"},
            "scope": "Namespaced",
            "singularResource": "deployment",
            "verbs": ["create", "get"],
            "shortNames": ["deploy"],
            "categories": ["all"],
            "subresources": [
                {
                    "subresource": "scale",
                    "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
                    "verbs": ["get", "patch", "update"],
                },
                {
                    "subresource": "status",
                    "responseKind": {"group": "", "version": "", "kind": "Deployment"},
                    "verbs": ["get"],
                },
            ],
        },
        {
            "resource": "orphans",
            "responseKind": {"group": "", "version": "", "kind": ""},
            "scope": "Cluster",
            "singularResource": "",
            "verbs": [],
            "subresources": [
                {
                    "subresource": "log",
                    "responseKind": {"group": "", "version": "", "kind": ""},
                    "verbs": ["get"],
                }
            ],
        },
    ]


def test_a_subresource_of_another_scope_is_refused() -> None:
    listed = [
        {"name": "things", "namespaced": True, "kind": "Thing", "verbs": []},
        {"name": "things/status", "namespaced": False, "kind": "Thing", "verbs": []},
    ]
    with pytest.raises(ValueError) as refused:
        apidiscovery.resources_of(listed)
    assert str(refused.value) == (
        "Error: Parent things (scope: Namespaced) and subresource status (scope: Cluster) "
        "scope do not match"
    )


def version(name: str, marker: str = "") -> JSONObject:
    return {"version": name, "freshness": "Current", **({"marker": marker} if marker else {})}


def test_groups_merge_by_source_and_sort_by_priority() -> None:
    entries = [
        VersionEntry("zeta.example.com", version("v1"), Source.CRD, 1000, 100),
        VersionEntry("alpha.example.com", version("v1"), Source.CRD, 1000, 100),
        VersionEntry("alpha.example.com", version("v1beta1"), Source.CRD, 1000, 100),
        VersionEntry("alpha.example.com", version("v2alpha1"), Source.CRD, 1000, 100),
        VersionEntry("apps", version("v1", "built-in"), Source.BUILTIN, 17800, 15),
        VersionEntry("apps", version("v1", "aggregated"), Source.AGGREGATOR, 100, 15),
        VersionEntry("metrics.k8s.io", version("v1beta1"), Source.AGGREGATOR, 100, 100),
        VersionEntry("autoscaling", version("v1"), Source.BUILTIN, 17500, 15),
        VersionEntry("autoscaling", version("v2"), Source.BUILTIN, 17500, 30),
    ]
    items = apidiscovery.merged(entries)
    assert [(i["metadata"]["name"], [v["version"] for v in i["versions"]]) for i in items] == [
        ("autoscaling", ["v2", "v1"]),
        ("alpha.example.com", ["v1", "v1beta1", "v2alpha1"]),
        ("zeta.example.com", ["v1"]),
        # The aggregated apps/v1 wins over the built-in one; its priority orders the group.
        ("apps", ["v1"]),
        ("metrics.k8s.io", ["v1beta1"]),
    ]
    assert items[3]["versions"] == [version("v1", "aggregated")]
    assert items[0]["metadata"] == {"name": "autoscaling", "creationTimestamp": None}


def test_the_core_group_has_no_name() -> None:
    [core] = apidiscovery.merged([VersionEntry("", version("v1"), Source.BUILTIN, 18000, 1)])
    assert core == {"metadata": {"creationTimestamp": None}, "versions": [version("v1")]}


def test_the_etag_is_quoted_and_follows_the_content() -> None:
    one = apidiscovery.merged([VersionEntry("a", version("v1"), Source.BUILTIN)])
    two = apidiscovery.merged([VersionEntry("a", version("v2"), Source.BUILTIN)])
    tag = apidiscovery.etag(one)
    assert tag.startswith('"') and tag.endswith('"') and len(tag) == 130
    assert tag == apidiscovery.etag(one) != apidiscovery.etag(two)

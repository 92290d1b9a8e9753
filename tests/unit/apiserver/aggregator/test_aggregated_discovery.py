"""The aggregated APIs' entries in aggregated discovery (kube-aggregator's discoveryManager) over
a fake backend: an aggregated /apis is used as the server gives it, with its ETag sent back and
a 304 keeping it; a server without one is asked for its legacy resource list, converted; a
failure or an unavailable APIService is listed Stale with no resources; a group/version the
server leaves out is listed with none; APIServices of one Service share a download until one
is marked dirty; an APIService that goes leaves the document."""

from __future__ import annotations

import json

from apiserver.aggregator.aggregated_discovery import (
    ACCEPT,
    AGGREGATOR_GROUPS,
    AGGREGATOR_USER,
    LEGACY_USER,
    AggregatedDiscovery,
)
from apiserver.aggregator.backends import Backend, Backends
from apiserver.aggregator.transport import UNAVAILABLE, Answer
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import apidiscovery, apiservices
from podplane.apimachinery.apidiscovery import Source, VersionEntry
from podplane.apimachinery.apiservices import APIService
from podplane.apimachinery.json_types import JSONObject

GROUP, VERSION = "wardle.example.com", "v1alpha1"
NAME = f"{VERSION}.{GROUP}"
FLUNDERS: JSONObject = {
    "resource": "flunders",
    "responseKind": {"group": "", "version": "", "kind": "Flunder"},
    "scope": "Namespaced",
    "singularResource": "flunder",
    "verbs": ["get", "list"],
}
RESOURCE_LIST = {
    "kind": "APIResourceList",
    "groupVersion": f"{GROUP}/{VERSION}",
    "resources": [
        {"name": "flunders", "singularName": "flunder", "namespaced": True, "kind": "Flunder",
         "verbs": ["get", "list"]},
    ],
}  # fmt: skip


def apiservice(version: str = VERSION, *, available: bool = True) -> APIService:
    obj = APIService(metadata=meta_pb2.ObjectMeta(name=f"{version}.{GROUP}"))
    obj.spec.group, obj.spec.version = GROUP, version
    obj.spec.service.namespace, obj.spec.service.name = "wardle", "api"
    obj.spec.group_priority_minimum, obj.spec.version_priority = 1000, 15
    if available:
        obj.status.conditions.add(type=apiservices.AVAILABLE, status="True")
    return obj


def aggregated_list(*versions: str) -> bytes:
    return json.dumps(
        {
            "kind": apidiscovery.KIND,
            "apiVersion": "apidiscovery.k8s.io/v2",
            "items": [
                {
                    "metadata": {"name": GROUP},
                    "versions": [
                        {"version": v, "resources": [FLUNDERS], "freshness": "Current"}
                        for v in versions
                    ],
                }
            ],
        }
    ).encode()


AGGREGATED = apidiscovery.media_type("v2")


class Server:
    """The backend's answers, in turn (an UNAVAILABLE answer for an APIService not Available,
    as the transport gives it); what it was asked."""

    def __init__(self, *answers: Answer | Exception) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[str, str, tuple[str, ...], dict[str, str]]] = []

    async def __call__(
        self,
        backend: Backend,
        path: str,
        user: str,
        groups: tuple[str, ...],
        headers: list[tuple[str, str]],
    ) -> Answer:
        self.asked.append((path, user, groups, dict(headers)))
        if not backend.available:
            return UNAVAILABLE
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def manager(server: Server) -> tuple[Backends, AggregatedDiscovery]:
    backends = Backends()
    return backends, AggregatedDiscovery(backends, server)


def entry(discovery: JSONObject) -> VersionEntry:
    return VersionEntry(GROUP, discovery, Source.AGGREGATOR, 1000, 15)


async def test_an_aggregated_list_is_used_as_given_and_revalidated_by_its_etag() -> None:
    server = Server(
        Answer(200, aggregated_list(VERSION), AGGREGATED, '"E1"'),
        Answer(304, b"", "", '"E1"'),
    )
    backends, found = manager(server)
    backends.changed(None, apiservice())
    await found.reconcile(NAME)
    current: JSONObject = {"version": VERSION, "resources": [FLUNDERS], "freshness": "Current"}
    assert found.entries() == [entry(current)]
    assert server.asked == [("/apis", AGGREGATOR_USER, AGGREGATOR_GROUPS, {"Accept": ACCEPT})]
    assert ACCEPT == (
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
    )

    found._mark_dirty(NAME)  # the minute's refresh
    await found.reconcile(NAME)
    assert server.asked[1][3] == {"Accept": ACCEPT, "If-None-Match": '"E1"'}
    assert found.entries() == [entry(current)]


async def test_a_server_without_aggregated_discovery_is_asked_for_its_resource_list() -> None:
    not_found = Answer(404, b'{"kind":"Status","code":404}', "application/json")
    server = Server(not_found, Answer(200, json.dumps(RESOURCE_LIST).encode(), "application/json"))
    backends, found = manager(server)
    backends.changed(None, apiservice())
    await found.reconcile(NAME)
    assert [(path, user) for path, user, _, _ in server.asked] == [
        ("/apis", AGGREGATOR_USER),
        (f"/apis/{GROUP}/{VERSION}", LEGACY_USER),
    ]
    assert server.asked[1][2:] == ((), {"Accept": "application/json"})
    assert found.entries() == [
        entry({"version": VERSION, "resources": [FLUNDERS], "freshness": "Current"})
    ]


async def test_failures_and_unavailability_are_stale_with_no_resources() -> None:
    server = Server(
        Answer(200, aggregated_list(VERSION), AGGREGATED, '"E1"'),
        OSError("connection refused"),
        Answer(500, b"boom", "text/plain"),
        Answer(500, b"boom", "text/plain"),
    )
    backends, found = manager(server)
    obj = apiservice()
    backends.changed(None, obj)
    await found.reconcile(NAME)
    stale = entry({"version": VERSION, "freshness": "Stale"})
    backends.changed(obj, obj := apiservice(available=False))  # marks it dirty
    await found.reconcile(NAME)
    assert found.entries() == [stale]
    assert [a[0] for a in server.asked[1:]] == ["/apis", f"/apis/{GROUP}/{VERSION}"]

    backends.changed(obj, obj := apiservice())
    await found.reconcile(NAME)  # the connection refused
    assert found.entries() == [stale]
    found._mark_dirty(NAME)
    await found.reconcile(NAME)  # 500, then 500 for the resource list
    assert found.entries() == [stale]


async def test_a_version_the_server_leaves_out_is_listed_with_no_resources() -> None:
    server = Server(Answer(200, aggregated_list("v1beta1"), AGGREGATED, ""))
    backends, found = manager(server)
    backends.changed(None, apiservice())
    await found.reconcile(NAME)
    assert found.entries() == [entry({"version": VERSION, "freshness": "Current"})]


async def test_apiservices_of_one_service_share_a_download_and_go_with_their_apiservice() -> None:
    server = Server(Answer(200, aggregated_list(VERSION, "v1beta1"), AGGREGATED, '"E1"'))
    backends, found = manager(server)
    alpha, beta = apiservice(), apiservice("v1beta1")
    backends.changed(None, alpha)
    backends.changed(None, beta)
    await found.reconcile(NAME)
    await found.reconcile(f"v1beta1.{GROUP}")
    assert len(server.asked) == 1
    assert [e.version for e in found.entries()] == [VERSION, "v1beta1"]

    backends.changed(beta, None)
    await found.reconcile(f"v1beta1.{GROUP}")
    assert [e.version for e in found.entries()] == [VERSION]

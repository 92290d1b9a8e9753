"""The aggregated servers' OpenAPI v3 roots (kube-aggregator's openapiv3 specProxier) over a
fake download: an available backend's root paths are listed and name their backend, looked at
again in a minute; a 404 root lists nothing; a failure is retried with back-off and keeps what
was listed; a backend gone takes its paths with it; podplane's own paths win a clash."""

from __future__ import annotations

import json

import pytest

from apiserver.aggregator.backends import Backends
from apiserver.aggregator.openapi import (
    REFRESH_SECONDS,
    ROOT,
    AggregatedOpenAPI,
    DownloadFailed,
)
from apiserver.endpoints.rest.openapi import with_paths
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import apiservices
from podplane.apimachinery.apiservices import APIService

WARDLE = "apis/wardle.example.com/v1alpha1"
ENTRY = {"serverRelativeURL": f"/openapi/v3/{WARDLE}?hash=ABC"}


def remote() -> APIService:
    """v1alpha1.wardle.example.com, naming the Service wardle/api."""
    obj = APIService(metadata=meta_pb2.ObjectMeta(name="v1alpha1.wardle.example.com"))
    obj.spec.group, obj.spec.version = "wardle.example.com", "v1alpha1"
    obj.spec.service.namespace, obj.spec.service.name = "wardle", "api"
    return obj


def available(obj: APIService) -> APIService:
    obj.status.conditions.add(type=apiservices.AVAILABLE, status="True")
    return obj


class Root:
    """The backend's answers to GET /openapi/v3, in turn; the paths asked."""

    def __init__(self, *answers: tuple[int, bytes] | Exception) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    async def __call__(self, backend: object, path: str) -> tuple[int, bytes]:
        self.asked.append(path)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def body(paths: dict[str, object]) -> tuple[int, bytes]:
    return 200, json.dumps({"paths": paths}).encode()


def aggregated(root: Root) -> tuple[Backends, AggregatedOpenAPI]:
    backends = Backends()
    return backends, AggregatedOpenAPI(backends, root, proxy=None)


async def test_a_backends_root_is_listed_and_names_its_backend() -> None:
    root = Root(body({WARDLE: ENTRY}))
    backends, openapi = aggregated(root)
    backends.changed(None, available(remote()))
    assert await openapi.reconcile("v1alpha1.wardle.example.com") == REFRESH_SECONDS
    assert root.asked == [ROOT]
    assert openapi.paths() == {WARDLE: ENTRY}
    found = openapi.backend_of(WARDLE)
    assert found is not None and found.name == "v1alpha1.wardle.example.com"
    assert openapi.backend_of("apis/apps/v1") is None


async def test_a_root_answered_404_lists_nothing() -> None:
    backends, openapi = aggregated(Root(body({WARDLE: ENTRY}), (404, b"")))
    backends.changed(None, available(remote()))
    await openapi.reconcile("v1alpha1.wardle.example.com")
    assert await openapi.reconcile("v1alpha1.wardle.example.com") == REFRESH_SECONDS
    assert openapi.paths() == {}


async def test_a_failure_is_retried_and_keeps_what_was_listed() -> None:
    backends, openapi = aggregated(
        Root(body({WARDLE: ENTRY}), (503, b"service unavailable\n"), OSError("refused"))
    )
    backends.changed(None, available(remote()))
    await openapi.reconcile("v1alpha1.wardle.example.com")
    for _ in range(2):
        with pytest.raises(DownloadFailed):
            await openapi.reconcile("v1alpha1.wardle.example.com")
    assert openapi.paths() == {WARDLE: ENTRY}


async def test_a_backend_gone_takes_its_paths() -> None:
    backends, openapi = aggregated(Root(body({WARDLE: ENTRY})))
    obj = available(remote())
    backends.changed(None, obj)
    await openapi.reconcile("v1alpha1.wardle.example.com")
    backends.changed(obj, None)
    assert openapi.paths() == {}
    assert await openapi.reconcile("v1alpha1.wardle.example.com") is None


def test_podplanes_own_paths_win_a_clash() -> None:
    own = {"paths": {"apis/apps/v1": {"serverRelativeURL": "/openapi/v3/apis/apps/v1?hash=1"}}}
    theirs = {
        "apis/apps/v1": {"serverRelativeURL": "/elsewhere"},
        WARDLE: ENTRY,
    }
    assert with_paths(own, theirs) == {"paths": {**own["paths"], WARDLE: ENTRY}}

"""The proxy's answers before a backend is reached, as handler_proxy.go gives them: an APIService
not Available and a Service without a ready endpoint are 503 `service unavailable` in Go's
http.Error form, a request without a user 500 `missing user`; an upgrade request is refused
with a 400 Status unless it is a WebSocket; the query is passed on as Go's Values.Encode
writes it."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from apiserver import errors
from apiserver.aggregator.backends import Backend
from apiserver.aggregator.proxy import ProxyHandler, go_query, is_upgrade
from apiserver.aggregator.transport import Transport
from apiserver.auth.user import UserInfo
from apiserver.webhook.resolver import resolve_endpoint

BACKEND = Backend(
    "v1alpha1.wardle.example.com", "wardle.example.com", "v1alpha1", "wardle", "api", 443,
    b"", False, True, 1000, 15,
)  # fmt: skip
ALICE = UserInfo("alice", frozenset({"developers"}))
PATH = "/apis/wardle.example.com/v1alpha1/namespaces/wardle/flunders"


def no_endpoints(namespace: str, name: str, port: int) -> tuple[str, int]:
    service = {"metadata": {"name": name}, "spec": {"ports": [{"port": 443, "name": "https"}]}}
    return resolve_endpoint(service, [], name, port)


def answer(response: web.StreamResponse) -> tuple[int, str | None]:
    assert isinstance(response, web.Response)
    return response.status, response.text


async def test_an_unavailable_api_service_is_503_service_unavailable() -> None:
    proxy = ProxyHandler(Transport(no_endpoints))
    unavailable = Backend(**{**BACKEND.__dict__, "available": False})
    response = await proxy.serve(make_mocked_request("GET", PATH), unavailable, ALICE)
    assert answer(response) == (503, "service unavailable\n")
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_no_ready_endpoint_is_503_service_unavailable() -> None:
    proxy = ProxyHandler(Transport(no_endpoints))
    response = await proxy.serve(make_mocked_request("GET", PATH), BACKEND, ALICE)
    assert answer(response) == (503, "service unavailable\n")


async def test_without_a_user_it_is_500_missing_user() -> None:
    proxy = ProxyHandler(Transport(no_endpoints))
    response = await proxy.serve(make_mocked_request("GET", PATH), BACKEND, None)
    assert answer(response) == (500, "missing user\n")


async def test_an_upgrade_other_than_websocket_is_refused() -> None:
    proxy = ProxyHandler(Transport(no_endpoints))
    headers = dict({"Connection": "Upgrade", "Upgrade": "SPDY/3.1"})
    request = make_mocked_request("POST", PATH + "/flunder-1/exec", headers=headers)
    assert is_upgrade(request)
    with pytest.raises(errors.APIError) as refused:
        await proxy.serve(request, BACKEND, ALICE)
    assert refused.value.reason == "BadRequest"
    assert str(refused.value.message) == (
        "upgrade to SPDY/3.1 is not proxied to aggregated APIs by this apiserver, only "
        "WebSockets (APIService v1alpha1.wardle.example.com)"
    )
    websocket = dict({"Connection": "keep-alive, Upgrade", "Upgrade": "websocket"})
    assert is_upgrade(make_mocked_request("GET", PATH, headers=websocket))


def test_the_query_is_encoded_as_go_encodes_values() -> None:
    request = make_mocked_request("GET", PATH + "?watch=1&labelSelector=a%3Db,c&fieldSelector=x y")
    assert go_query(request) == "fieldSelector=x+y&labelSelector=a%3Db%2Cc&watch=1"
    assert not is_upgrade(make_mocked_request("GET", PATH))

"""The /metrics endpoint every component serves, and the client's rest_client_* metrics."""

from __future__ import annotations

import asyncio
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from prometheus_client import REGISTRY

from podplane.api.core.v1 import core_pb2, services_pb2_grpc
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.client.clientset import Client, is_not_found
from podplane.client.workqueue_metrics import WORKQUEUE_DEPTH
from podplane.componentbase.metrics import loop_health, parse_bind_address, serve_metrics
from podplane.componentbase.serving import Server
from tests.support import thread_wake_ups
from tests.unit import waiting


@pytest.mark.parametrize(
    "value, expected",
    [
        ("0.0.0.0:8080", ("0.0.0.0", 8080)),
        ("127.0.0.1:0", ("127.0.0.1", 0)),
        ("[::]:10251", ("::", 10251)),
        (":10255", ("0.0.0.0", 10255)),
        ("", None),
    ],
)
def test_bind_address(value: str, expected: tuple[str, int] | None) -> None:
    assert parse_bind_address(value) == expected


@pytest.mark.parametrize("value", ["8080", "host:", "host:http", "0.0.0.0:70000"])
def test_bad_bind_address_says_what_is_expected(value: str) -> None:
    with pytest.raises(ValueError, match="is not HOST:PORT"):
        parse_bind_address(value)


def test_empty_address_serves_nothing() -> None:
    assert serve_metrics("") is None


async def test_endpoint_serves_the_registry_in_prometheus_text_format() -> None:
    WORKQUEUE_DEPTH.labels("scraped").set(3)
    server = serve_metrics("127.0.0.1:0")
    assert server is not None
    try:

        def scrape() -> tuple[str, str]:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{server.port}/metrics", timeout=5
            ) as reply:
                return reply.headers["Content-Type"], reply.read().decode()

        content_type, text = await asyncio.to_thread(scrape)
    finally:
        await server.aclose()
    assert content_type.startswith("text/plain")
    assert 'workqueue_depth{name="scraped"} 3.0' in text
    assert "_created" not in text  # Kubernetes' metrics have no creation-time series


def test_a_taken_port_is_an_error_naming_the_address() -> None:
    server = serve_metrics("127.0.0.1:0")
    assert server is not None
    try:
        with pytest.raises(RuntimeError, match=f"cannot serve metrics on 127.0.0.1:{server.port}"):
            serve_metrics(f"127.0.0.1:{server.port}")
    finally:
        server.close()


class TinyPods(services_pb2_grpc.PodsServicer):  # type: ignore[misc]
    async def Create(self, request: core_pb2.Pod, context: grpc.aio.ServicerContext) -> Any:
        return request

    async def Get(self, request: meta_pb2.GetRequest, context: grpc.aio.ServicerContext) -> Any:
        await context.abort(grpc.StatusCode.NOT_FOUND, f'pods "{request.name}" not found')

    async def Delete(
        self, request: meta_pb2.DeleteRequest, context: grpc.aio.ServicerContext
    ) -> Any:
        await asyncio.sleep(3600)

    async def Watch(
        self, request: meta_pb2.WatchRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[core_pb2.PodWatchEvent]:
        yield core_pb2.PodWatchEvent(type="ADDED")
        await asyncio.sleep(3600)


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    server = Server("127.0.0.1:0", lambda s: resources.POD.add_servicer(TinyPods(), s))
    await server.start()
    c = Client(f"127.0.0.1:{server.port}", timeout=5)
    try:
        yield c
    finally:
        await c.close()
        await server.stop(0)


def requests(client: Client, code: str, method: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "rest_client_requests_total", {"code": code, "method": method, "host": client.target}
        )
        or 0
    )


async def test_client_calls_are_counted_by_code_and_http_method(client: Client) -> None:
    await client.pods.create(core_pb2.Pod())
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.pods.get("web", "default")
    assert is_not_found(err.value)
    assert requests(client, "OK", "POST") == 1
    assert requests(client, "NOT_FOUND", "GET") == 1
    assert (
        REGISTRY.get_sample_value(
            "rest_client_request_duration_seconds_count", {"verb": "POST", "host": client.target}
        )
        == 1
    )


async def test_a_call_its_caller_gives_up_on_is_counted_cancelled(client: Client) -> None:
    def timed() -> float:
        return (
            REGISTRY.get_sample_value(
                "rest_client_request_duration_seconds_count",
                {"verb": "DELETE", "host": client.target},
            )
            or 0
        )

    before = timed()
    call = asyncio.create_task(client.pods.delete("web", "default"))
    await asyncio.sleep(0.2)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert requests(client, "CANCELLED", "DELETE") == 1
    assert timed() == before + 1


async def test_a_watch_is_counted_when_it_ends(client: Client) -> None:
    stream = client.pods.watch("default")
    event = await anext(stream)
    assert event.type == "ADDED"
    assert requests(client, "CANCELLED", "GET") == 0
    stream.cancel()
    await waiting.until(
        lambda: requests(client, "CANCELLED", "GET") >= 1,
        "the cancelled GET counted",
        interval=0.01,
    )
    assert requests(client, "CANCELLED", "GET") == 1


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@pytest.mark.parametrize("path", ["/healthz", "/livez", "/readyz"])
async def test_health_is_ok_while_ready_and_the_loop_turns(path: str) -> None:
    ready = True
    server = serve_metrics("127.0.0.1:0", loop_health(asyncio.get_running_loop(), lambda: ready))
    assert server is not None
    try:
        assert await asyncio.to_thread(_get, server.port, path) == (200, "ok")
        ready = False
        assert await asyncio.to_thread(_get, server.port, path) == (500, "healthz check failed")
        code, text = await asyncio.to_thread(_get, server.port, "/metrics")
        assert code == 200 and "# TYPE" in text  # metrics are served whatever the health
    finally:
        await server.aclose()


def test_a_loop_that_does_not_turn_is_unhealthy() -> None:
    wedged = asyncio.new_event_loop()  # never run: nothing scheduled on it is ever called
    server = serve_metrics("127.0.0.1:0", loop_health(wedged, timeout=0.2))
    assert server is not None
    try:
        assert _get(server.port, "/healthz") == (500, "healthz check failed")
        wedged.close()
        assert _get(server.port, "/healthz") == (500, "healthz check failed")
    finally:
        server.close()


def test_without_a_health_check_every_path_is_metrics() -> None:
    server = serve_metrics("127.0.0.1:0")
    assert server is not None
    try:
        code, text = _get(server.port, "/healthz")
        assert code == 200 and "# TYPE" in text
    finally:
        server.close()


def test_an_idle_endpoint_sleeps_until_asked_and_stops_when_closed() -> None:
    """Its thread wakes for a scrape, not to poll (socketserver's serve_forever looks for a
    shutdown request twice a second); close() still ends it."""
    server = serve_metrics("127.0.0.1:0")
    assert server is not None
    thread = next(t for t in threading.enumerate() if t.name == "metrics-endpoint")
    try:
        assert _get(server.port, "/metrics")[0] == 200
        before = thread_wake_ups(thread)
        time.sleep(1.5)  # three of serve_forever's polls
        # At most the one of going back to sleep after the scrape, if it had not yet.
        assert thread_wake_ups(thread) - before <= 1
        assert _get(server.port, "/metrics")[0] == 200
    finally:
        server.close()
    assert not thread.is_alive()
    server.close()  # twice is harmless

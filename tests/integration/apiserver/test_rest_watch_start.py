"""A watch over the REST door answers its headers as soon as it is open, before any event, as
Kubernetes' watch handler does (WriteHeader and Flush, then the events): client-go's Watch returns
only when they arrive, so `kubectl wait` and `kubectl rollout status` on an object already in
the state they wait for waited for an event, or the watch's timeout, before exiting. A request's
own mistakes are still an ordinary error answer."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from apiserver.server import APIServer
from podplane.client.clientset import Client
from tests.integration.api_objects import pod
from tests.support import new_namespace


async def test_a_quiet_watch_is_answered_at_once_then_streams_events(
    apiserver: APIServer, client: Client
) -> None:
    ns = await new_namespace(client)
    url = f"http://127.0.0.1:{apiserver.rest_port}/api/v1/namespaces/{ns}/pods"
    async with aiohttp.ClientSession() as session:
        listed = await (await session.get(url)).json()
        async with asyncio.timeout(5):  # nothing has happened in the namespace since the list
            watch = await session.get(
                url, params={"watch": "1", "resourceVersion": listed["metadata"]["resourceVersion"]}
            )
        assert watch.status == 200
        assert watch.headers["Content-Type"] == "application/json"
        await client.pods.create(pod("later", ns))
        async with asyncio.timeout(10):
            event = json.loads(await watch.content.readline())
        assert (event["type"], event["object"]["metadata"]["name"]) == ("ADDED", "later")
        watch.close()


async def test_a_watch_with_a_bad_selector_is_refused_before_it_starts(
    apiserver: APIServer, client: Client
) -> None:
    ns = await new_namespace(client)
    url = f"http://127.0.0.1:{apiserver.rest_port}/api/v1/namespaces/{ns}/pods"
    async with aiohttp.ClientSession() as session:
        for params, message in [
            ({"labelSelector": "a in (b"}, "labelSelector: Invalid value"),
            ({"resourceVersion": "x"}, 'resourceVersion: Invalid value: "x"'),
        ]:
            answer = await session.get(url, params={"watch": "1", **params})
            status = await answer.json()
            assert (answer.status, status["reason"]) == (400, "BadRequest"), status
            assert status["message"].startswith(message), status

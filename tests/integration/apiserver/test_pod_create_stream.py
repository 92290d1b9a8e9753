"""Pods over a pod create stream (Pods/CreateStream), as the scheduler load test creates them,
against the real apiserver and etcd: each is created, defaulted and admitted as its Create call
would be, and a refused one (invalid, or a name taken) is refused alone, with the error that call
would have ended with."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from podplane.client.clientset import Client
from podplane.client.streams import PodCreateStream
from tests.integration.api_objects import pod
from tests.support import new_namespace


async def test_pods_over_a_stream_are_each_created_as_a_create_call_creates_them(
    client: Client,
) -> None:
    ns = await new_namespace(client)
    stream = PodCreateStream(client)
    try:
        await asyncio.gather(*(stream.create(pod(f"p{i}", ns)) for i in range(50)))
    finally:
        await stream.close()
    pods, _ = await client.pods.list_all(ns)
    assert sorted(p.metadata.name for p in pods) == sorted(f"p{i}" for i in range(50))
    by_call = await client.pods.create(pod("by-call", ns))
    for p in pods:  # stored exactly as a Create call stores a pod: uid, defaults, no node
        assert p.metadata.uid and p.metadata.creation_timestamp
        assert p.spec.restart_policy == by_call.spec.restart_policy == "Always"
        assert p.spec.scheduler_name == "default-scheduler" and not p.spec.node_name
        assert p.status.phase == by_call.status.phase == "Pending"


async def test_each_pod_of_a_stream_is_answered_alone(client: Client) -> None:
    ns = await new_namespace(client)
    stream = PodCreateStream(client)
    invalid = pod("bad", ns)
    invalid.spec.containers[0].image = ""
    try:
        fine, bad, also_fine = await asyncio.gather(
            stream.create(pod("fine", ns)),
            stream.create(invalid),
            stream.create(pod("also-fine", ns)),
            return_exceptions=True,
        )
        assert fine is None and also_fine is None
        assert isinstance(bad, grpc.aio.AioRpcError)
        assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "spec.containers[0].image: Required value" in (bad.details() or "")
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stream.create(pod("fine", ns))  # the same name again
        assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
        assert err.value.details() == 'pods "fine" already exists'
    finally:
        await stream.close()
    pods, _ = await client.pods.list_all(ns)
    assert sorted(p.metadata.name for p in pods) == ["also-fine", "fine"]

"""Docker inspect data while pods start: one inspect per container and state however many
listings ask at once, none for a container whose start is under way."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kubelet.runtime.docker.inspect import InspectCache, starting_view
from kubelet.runtime.types import ContainerRuntimeError


class SlowEngine:
    """Answers inspects after a while, counting them."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.gone: set[str] = set()

    async def inspect(self, container_id: str) -> dict[str, Any]:
        self.calls.append(container_id)
        await asyncio.sleep(0.01)
        if container_id in self.gone:
            raise ContainerRuntimeError(f"No such container: {container_id}")
        return {"Id": container_id, "State": {"Status": "running"}}


async def test_concurrent_listings_share_one_inspect_per_container_and_state() -> None:
    engine = SlowEngine()
    cache = InspectCache(engine.inspect)
    results = await asyncio.gather(*(cache.get("c1", "running") for _ in range(10)))
    assert engine.calls == ["c1"]
    assert all(r == {"Id": "c1", "State": {"Status": "running"}} for r in results)
    await cache.get("c1", "running")  # cached while the state is unchanged
    await cache.get("c1", "exited")  # a new state is inspected afresh
    assert engine.calls == ["c1", "c1"]


async def test_forgotten_and_missing_containers_are_inspected_again() -> None:
    engine = SlowEngine()
    cache = InspectCache(engine.inspect)
    await cache.get("c1", "running")
    await cache.get("c2", "running")
    cache.forget("c1")
    cache.forget_missing(["c1"], belongs=lambda data: True)  # c2 no longer listed
    await cache.get("c1", "running")
    await cache.get("c2", "running")
    assert engine.calls == ["c1", "c2", "c1", "c2"]


async def test_a_container_removed_meanwhile_is_none_and_other_errors_raise() -> None:
    engine = SlowEngine()
    engine.gone.add("c1")
    cache = InspectCache(engine.inspect)
    assert await cache.get("c1", "exited") is None

    async def broken(container_id: str) -> dict[str, Any]:
        raise ContainerRuntimeError("engine unreachable")

    with pytest.raises(ContainerRuntimeError, match="unreachable"):
        await InspectCache(broken).get("c1", "running")


async def test_a_cancelled_listing_leaves_the_inspect_to_the_others() -> None:
    engine = SlowEngine()
    cache = InspectCache(engine.inspect)
    first = asyncio.ensure_future(cache.get("c1", "running"))
    second = asyncio.ensure_future(cache.get("c1", "running"))
    await asyncio.sleep(0)
    first.cancel()
    assert await second == {"Id": "c1", "State": {"Status": "running"}}
    assert engine.calls == ["c1"]


def test_a_starting_container_reads_as_created_from_its_listing() -> None:
    view = starting_view(
        {
            "Id": "abc",
            "Created": 1700000000,
            "Image": "busybox",
            "ImageID": "sha256:1",
            "State": "created",
            "Labels": {"io.kubernetes.pod.uid": "u1"},
        }
    )
    assert view["State"] == {"Status": "created"}
    assert view["Created"] == "2023-11-14T22:13:20Z"
    assert view["Config"] == {"Labels": {"io.kubernetes.pod.uid": "u1"}, "Image": "busybox"}
    assert view["Image"] == "sha256:1"


async def test_a_sigkill_exit_is_inspected_again_for_an_oom_recorded_late(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Docker can show the exit (137) before the OOM event has set OOMKilled: it is inspected
    again until it shows it, and that is what is cached and reported. Other exits are inspected
    once."""
    monkeypatch.setattr("kubelet.runtime.docker.inspect.OOM_POLL_SECONDS", 0.001)
    killed = {"State": {"Status": "exited", "ExitCode": 137, "OOMKilled": False}}
    answers = {
        "oom": [
            killed,
            killed,
            killed,
            {"State": {"Status": "exited", "ExitCode": 137, "OOMKilled": True}},
        ],
        "done": [{"State": {"Status": "exited", "ExitCode": 0, "OOMKilled": False}}],
    }
    calls: list[str] = []

    async def inspect(container_id: str) -> dict[str, Any]:
        calls.append(container_id)
        return answers[container_id].pop(0)

    cache = InspectCache(inspect)
    oom = await cache.get("oom", "exited")
    assert oom is not None and oom["State"]["OOMKilled"] is True
    assert await cache.get("oom", "exited") is oom  # cached after the second look
    await cache.get("done", "exited")
    assert calls == ["oom", "oom", "oom", "oom", "done"]

"""The fault tests' writer (tests/e2e/faults.py PodChurn) counts only what the apiserver answered:
a write still unanswered when the churn is stopped may have been done, so it is not counted as
kept or as deleted."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.e2e.faults import PodChurn, stop_task


class _Pods:
    """Creates answer at once; deletes are sent and never answered."""

    def __init__(self) -> None:
        self.delete_sent = asyncio.Event()
        self.deleting: list[str] = []

    async def create(self, pod: Any) -> Any:
        return pod

    async def delete(self, name: str, namespace: str, **_: Any) -> None:
        self.deleting.append(name)
        self.delete_sent.set()
        await asyncio.Event().wait()


class _Client:
    def __init__(self) -> None:
        self.pods = _Pods()


async def test_a_delete_unanswered_when_the_churn_stops_leaves_its_pod_unknown() -> None:
    client = _Client()
    churn = PodChurn(client, "default")  # type: ignore[arg-type]
    writing = asyncio.create_task(churn.run(rate=1000))
    async with asyncio.timeout(5):
        await client.pods.delete_sent.wait()
    await stop_task(writing)

    [victim] = client.pods.deleting
    assert churn.created == {"churn-1", "churn-2", "churn-3"}
    assert churn.kept() == {"churn-1", "churn-2", "churn-3"} - {victim}
    assert churn.maybe_deleted == {victim}
    assert churn.deleted == set()


async def test_stop_task_stops_a_task_that_swallowed_its_first_cancel() -> None:
    """As a writer in Python 3.11's asyncio.wait_for did when its call completed just as it was
    cancelled: the first cancel is lost, and the task would loop on for ever."""
    swallowed = asyncio.Event()

    async def writer() -> None:
        while True:
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                if swallowed.is_set():
                    raise
                swallowed.set()

    task = asyncio.create_task(writer())
    await asyncio.sleep(0.05)
    stopping = asyncio.create_task(stop_task(task))
    done, _ = await asyncio.wait({stopping}, timeout=10)
    try:
        assert stopping in done, "stop_task still waits on the task"
        assert swallowed.is_set() and task.cancelled()
    finally:
        for t in (stopping, task):
            t.cancel()

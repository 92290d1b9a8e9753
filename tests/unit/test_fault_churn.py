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
    await asyncio.wait_for(client.pods.delete_sent.wait(), 5)
    await stop_task(writing)

    [victim] = client.pods.deleting
    assert churn.created == {"churn-1", "churn-2", "churn-3"}
    assert churn.kept() == {"churn-1", "churn-2", "churn-3"} - {victim}
    assert churn.maybe_deleted == {victim}
    assert churn.deleted == set()

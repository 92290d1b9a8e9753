"""Pod status is written only when it changed, and not again while the cache lags our own write;
each write names the version it was computed from."""

from __future__ import annotations

from kubelet.status.manager import StatusManager
from podplane.api.core.v1 import core_pb2
from tests.unit.kubelet.podbuild import pod
from tests.unit.kubelet.synctest import FakePods


async def test_written_once_per_change() -> None:
    pods = FakePods()
    manager = StatusManager(pods)  # type: ignore[arg-type]
    p = pod("a")
    running = core_pb2.PodStatus(phase="Running")
    assert await manager.set_status(p, running)
    # The informer has not delivered our write yet: the cached pod is older than it.
    assert not await manager.set_status(p, running)
    # Once it has, an equal status is not written either.
    p.CopyFrom(pods.written[-1])
    assert not await manager.set_status(p, running)
    assert await manager.set_status(p, core_pb2.PodStatus(phase="Succeeded"))
    assert [w.status.phase for w in pods.written] == ["Running", "Succeeded"]
    # Conditional: the cached pod's version, or our own last write's while the cache lags it.
    assert pods.sent_versions == ["1", "101"]


async def test_unconditional_write_keeps_the_rest_of_the_pod() -> None:
    pods = FakePods()
    p = pod("a")
    manager = StatusManager(pods)  # type: ignore[arg-type]
    await manager.set_status(p, core_pb2.PodStatus(phase="Running"))
    sent = pods.written[0]
    assert sent.metadata.uid == "uid-1" and sent.spec.containers[0].name == "a"

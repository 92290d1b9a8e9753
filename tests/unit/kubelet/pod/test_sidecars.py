"""Sidecars (init containers with restartPolicy Always) on the hollow runtime: started in their
init order, the next init container waiting until they have started (startup probe included);
restarted with back-off whatever the pod's restartPolicy; probed like app containers; stopped
after the app containers, in reverse order; and a Job-like pod completing with its sidecars
stopped."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kubelet.pod.termination_order import TerminationOrdering
from kubelet.prober import ProbeManager, ProbeType, Result
from podplane.api.core.v1 import core_pb2
from tests.unit.kubelet.loop_clock import stop_loop_clock
from tests.unit.kubelet.podbuild import container, pod
from tests.unit.kubelet.synctest import FakeProber, SyncHarness, condition, state_of, status_of

EXEC = core_pb2.Probe(exec=core_pb2.ExecAction(command=["check"]), failure_threshold=1)


def sidecar(name: str, **fields: object) -> core_pb2.Container:
    c = container(name, **fields)  # type: ignore[arg-type]
    c.restart_policy = "Always"
    return c


@pytest.fixture
def h(tmp_path: Path) -> SyncHarness:
    return SyncHarness(tmp_path)


def probes(h: SyncHarness, *results: Result) -> ProbeManager:
    manager = ProbeManager(
        h.runtime, lambda key: None, prober=FakeProber(*results), start_workers=False
    )
    h.syncer.probes = manager
    return manager


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def record(self, obj: core_pb2.Pod, type_: str, reason: str, message: str) -> None:
        self.events.append((type_, reason, message))


def stopped_names(h: SyncHarness) -> list[str]:
    names = {c.id: c.name for c in h.runtime.containers.values()}
    return [names[cid] for cid, _ in h.runtime.stops if cid in names]


async def running_pod(h: SyncHarness, p: core_pb2.Pod, syncs: int = 4) -> None:
    for _ in range(syncs):
        await h.sync(p)


async def test_a_sidecar_starts_in_its_init_order_and_keeps_running(h: SyncHarness) -> None:
    p = pod("app", init=("setup", sidecar("shipper"), "migrate"))
    await h.sync(p)
    assert h.created() == ["setup"]
    h.runtime.exit_container(h.latest("setup"), 0)
    await h.sync(p)
    assert h.created() == ["setup", "shipper"]
    assert p.status.phase == "Pending" and condition(p, "Initialized") == "False"
    await h.sync(p)  # the sidecar has started: the next init container runs beside it
    assert h.created() == ["setup", "shipper", "migrate"]
    h.runtime.exit_container(h.latest("migrate"), 0)
    await h.sync(p)
    assert h.created() == ["setup", "shipper", "migrate", "app"]
    assert state_of(p, "shipper") == state_of(p, "app") == "running"
    assert p.status.phase == "Running" and condition(p, "Initialized") == "True"
    shipper = status_of(p, "shipper")
    assert shipper.started and shipper.ready
    assert condition(p, "Ready") == condition(p, "ContainersReady") == "True"
    await h.sync(p)
    assert h.created() == ["setup", "shipper", "migrate", "app"]  # nothing more to do


async def test_the_next_init_container_waits_for_the_sidecar_s_startup_probe(
    h: SyncHarness,
) -> None:
    manager = probes(h, Result.SUCCESS)
    p = pod("app", init=(sidecar("proxy", startup_probe=EXEC),))
    await running_pod(h, p, syncs=3)
    assert h.created() == ["proxy"]
    assert p.status.phase == "Pending" and condition(p, "Initialized") == "False"
    init = next(c for c in p.status.conditions if c.type == "Initialized")
    assert init.message == "containers with incomplete status: [proxy]"
    assert not status_of(p, "proxy").started
    await manager.workers[("uid-1", "proxy", ProbeType.STARTUP)].do_probe()
    await h.sync(p)
    assert h.created() == ["proxy", "app"]
    assert status_of(p, "proxy").started and condition(p, "Initialized") == "True"


async def test_a_sidecar_that_fails_its_startup_probe_is_restarted(h: SyncHarness) -> None:
    manager = probes(h, Result.FAILURE)
    p = pod("app", init=(sidecar("proxy", startup_probe=EXEC),), restart_policy="Never")
    await h.sync(p)
    first = h.latest("proxy")
    await manager.workers[("uid-1", "proxy", ProbeType.STARTUP)].do_probe()
    await h.sync(p)
    assert [cid for cid, _ in h.runtime.stops] == [first]
    assert h.created() == ["proxy", "proxy"] and status_of(p, "proxy").restart_count == 1


async def test_a_crashed_sidecar_is_restarted_with_back_off_under_never(h: SyncHarness) -> None:
    p = pod("app", init=(sidecar("shipper"),), restart_policy="Never")
    await running_pod(h, p)
    app = h.latest("app")
    h.runtime.exit_container(h.latest("shipper"), 1)
    await h.sync(p)  # the first restart is immediate
    assert h.created() == ["shipper", "app", "shipper"]
    assert status_of(p, "shipper").restart_count == 1
    h.runtime.exit_container(h.latest("shipper"), 1)
    requeue = await h.sync(p)
    assert h.created() == ["shipper", "app", "shipper"]
    assert requeue is not None and 8 < requeue <= 11
    assert state_of(p, "shipper") == "CrashLoopBackOff"
    assert status_of(p, "shipper").last_state.terminated.exit_code == 1
    assert p.status.phase == "Running" and condition(p, "Ready") == "False"
    assert h.latest("app") == app and state_of(p, "app") == "running"  # the app runs on
    h.clock.offset += 12
    await h.sync(p)
    assert h.created() == ["shipper", "app", "shipper", "shipper"]
    assert status_of(p, "shipper").restart_count == 2 and condition(p, "Ready") == "True"


async def test_a_sidecar_that_exits_zero_is_restarted_too(h: SyncHarness) -> None:
    p = pod("app", init=(sidecar("shipper"),), restart_policy="OnFailure")
    await running_pod(h, p)
    h.runtime.exit_container(h.latest("shipper"), 0)
    await h.sync(p)
    assert h.created() == ["shipper", "app", "shipper"]


async def test_a_job_pod_completes_and_its_sidecars_stop_in_reverse_order(
    h: SyncHarness,
) -> None:
    p = pod("work", init=(sidecar("first"), sidecar("second")), restart_policy="Never")
    await running_pod(h, p)
    assert h.created() == ["first", "second", "work"]
    h.runtime.exit_container(h.latest("work"), 0)
    await h.sync(p)
    assert stopped_names(h) == ["second", "first"]
    assert p.status.phase == "Succeeded"
    assert state_of(p, "first") == state_of(p, "second") == "terminated(137)"
    assert condition(p, "Ready") == "False" and condition(p, "Initialized") == "True"
    assert not any(s.ready for s in h.runtime.sandboxes.values())
    await h.sync(p)
    assert h.created() == ["first", "second", "work"]  # nothing is restarted


async def test_a_failed_job_pod_fails_with_its_sidecars_stopped(h: SyncHarness) -> None:
    p = pod("work", init=(sidecar("shipper"),), restart_policy="Never")
    await running_pod(h, p)
    h.runtime.exit_container(h.latest("work"), 2)
    await h.sync(p)
    assert p.status.phase == "Failed" and stopped_names(h) == ["shipper"]


async def test_under_on_failure_the_pod_completes_once_its_app_succeeded(h: SyncHarness) -> None:
    p = pod("work", init=(sidecar("shipper"),), restart_policy="OnFailure")
    await running_pod(h, p)
    h.runtime.exit_container(h.latest("work"), 1)
    await h.sync(p)
    assert h.created() == ["shipper", "work", "work"] and p.status.phase == "Running"
    h.runtime.exit_container(h.latest("work"), 0)
    await h.sync(p)
    assert p.status.phase == "Succeeded" and stopped_names(h) == ["shipper"]


async def test_a_deleted_pod_stops_its_app_containers_then_its_sidecars_in_reverse(
    h: SyncHarness,
) -> None:
    deleted: list[str] = []

    async def delete(name: str, namespace: str, **options: object) -> None:
        deleted.append(name)

    h.pods.delete = delete  # type: ignore[attr-defined]
    p = pod("app", init=(sidecar("first"), sidecar("second")))
    await running_pod(h, p)
    p.metadata.deletion_timestamp = "2026-01-01T00:00:05Z"
    p.metadata.deletion_grace_period_seconds = 20
    await h.sync(p)
    assert stopped_names(h) == ["app", "second", "first"]
    assert [timeout for _, timeout in h.runtime.stops][:3] == [20, 20, 20]
    assert deleted == ["web"]


async def test_a_sidecar_failing_its_liveness_probe_is_restarted_under_never(
    h: SyncHarness,
) -> None:
    manager = probes(h, Result.FAILURE)
    p = pod("app", init=(sidecar("proxy", liveness_probe=EXEC),), restart_policy="Never")
    recorder = Recorder()
    h.syncer.recorder = recorder  # type: ignore[assignment]
    await running_pod(h, p)
    first = h.latest("proxy")
    await manager.workers[("uid-1", "proxy", ProbeType.LIVENESS)].do_probe()
    await h.sync(p)
    assert first in [cid for cid, _ in h.runtime.stops]
    assert status_of(p, "proxy").restart_count == 1 and state_of(p, "app") == "running"
    assert ("Normal", "Killing", "Init container proxy failed liveness probe") in recorder.events


async def test_a_sidecar_s_readiness_probe_gates_the_pod_s_readiness(h: SyncHarness) -> None:
    manager = probes(h, Result.FAILURE)
    p = pod("app", init=(sidecar("proxy", readiness_probe=EXEC),))
    await running_pod(h, p)
    await manager.workers[("uid-1", "proxy", ProbeType.READINESS)].do_probe()
    await h.sync(p)
    assert p.status.phase == "Running" and not status_of(p, "proxy").ready
    ready = next(c for c in p.status.conditions if c.type == "ContainersReady")
    assert (ready.status, ready.message) == ("False", "containers with unready status: [proxy]")


async def test_a_sidecar_waits_for_the_app_only_as_long_as_its_grace_period(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = stop_loop_clock(monkeypatch)
    p = pod("app", init=(sidecar("proxy"),))
    ordering = TerminationOrdering(p, ["app", "proxy"], clock=clock)
    turn = asyncio.create_task(ordering.wait_for_turn("proxy", 1))  # the app never stops
    await clock.advance(0.9)
    assert not turn.done()
    await clock.advance(0.1)
    assert turn.done() and turn.result() == pytest.approx(1.0)
    ordering = TerminationOrdering(p, ["proxy"], clock=clock)  # the app does not run: no wait
    turn = asyncio.create_task(ordering.wait_for_turn("proxy", 30))
    await clock.advance(0)
    assert turn.done() and turn.result() == 0


async def test_a_sidecar_stops_as_soon_as_the_app_has(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = stop_loop_clock(monkeypatch)
    p = pod("app", init=(sidecar("proxy"),))
    ordering = TerminationOrdering(p, ["app", "proxy"], clock=clock)
    turn = asyncio.create_task(ordering.wait_for_turn("proxy", 30))
    await clock.advance(0.05)
    assert not turn.done()
    ordering.stopped("app")
    await clock.advance(0)  # no time passes: it goes at once
    assert turn.done() and turn.result() == pytest.approx(0.05)

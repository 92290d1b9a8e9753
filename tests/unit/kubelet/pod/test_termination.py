"""Graceful termination (kuberuntime killContainer, pod_workers' grace period): the preStop hook
runs first and counts against the grace period, then SIGTERM, then SIGKILL after what remains (at
least 2 s); the full grace period is honoured; a failed liveness probe kills and restarts the
container with its grace period."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from kubelet.pod.termination import (
    MINIMUM_GRACE_SECONDS,
    container_grace_period,
    kill_container,
    pod_grace_period,
)
from kubelet.prober import ProbeManager, ProbeType, Result
from kubelet.runtime.hollow import HollowRuntime
from kubelet.runtime.types import ContainerConfig, ContainerStatus, PodRef, SandboxConfig
from podplane.api.core.v1 import core_pb2
from tests.unit.kubelet.loop_clock import stop_loop_clock
from tests.unit.kubelet.podbuild import container, pod
from tests.unit.kubelet.synctest import FakeProber, SyncHarness, state_of, status_of


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def record(self, obj: core_pb2.Pod, type_: str, reason: str, message: str) -> None:
        self.events.append((type_, reason, message))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def pre_stop(*command: str) -> core_pb2.Lifecycle:
    return core_pb2.Lifecycle(
        pre_stop=core_pb2.LifecycleHandler(exec=core_pb2.ExecAction(command=list(command)))
    )


class Deletions:
    """The delete the status manager makes once a terminating pod has stopped."""

    def __init__(self) -> None:
        self.deleted: list[tuple[str, int]] = []

    async def __call__(
        self, name: str, namespace: str, *, grace_period_seconds: int, uid: str = ""
    ) -> None:
        self.deleted.append((name, grace_period_seconds))


@pytest.fixture
def h(tmp_path: Path) -> SyncHarness:
    harness = SyncHarness(tmp_path)
    harness.syncer.recorder = Recorder()  # type: ignore[assignment]
    harness.pods.delete = Deletions()  # type: ignore[attr-defined]
    return harness


def events(h: SyncHarness) -> list[tuple[str, str, str]]:
    recorder = h.syncer.recorder
    assert isinstance(recorder, Recorder)
    return recorder.events


async def test_pre_stop_runs_first_and_its_time_comes_off_the_grace_period() -> None:
    runtime = HollowRuntime()
    clock = Clock()
    order: list[str] = []

    async def hook(c: ContainerStatus, cmd: Sequence[str]) -> tuple[int, str]:
        order.append(f"exec {' '.join(cmd)}")
        clock.now += 3.4  # the hook takes 3.4 s
        return 0, ""

    runtime.exec_handler = hook
    p = pod(
        container("app", lifecycle=pre_stop("sh", "-c", "drain")),
        termination_grace_period_seconds=10,
    )
    sandbox = await runtime.run_pod_sandbox(_sandbox_config(p))
    cid = await _start(runtime, p, sandbox)
    await kill_container(runtime, cid, "app", pod_grace_period(p), p, "10.0.0.1", clock=clock)
    order += [f"stop {timeout}" for _, timeout in runtime.stops]
    # SIGTERM, then SIGKILL after the 10 - 3 s that remain.
    assert order == ["exec sh -c drain", "stop 7"]
    assert runtime.containers[cid].exit_code == 137


async def test_a_pre_stop_hook_longer_than_the_grace_period_is_cut_short(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtime = HollowRuntime()
    never = asyncio.Event()

    async def hang(c: ContainerStatus, cmd: Sequence[str]) -> tuple[int, str]:
        await never.wait()
        return 0, ""

    runtime.exec_handler = hang
    p = pod(
        container("app", lifecycle=pre_stop("sleep", "100")), termination_grace_period_seconds=1
    )
    cid = await _start(runtime, p, await runtime.run_pod_sandbox(_sandbox_config(p)))
    clock = stop_loop_clock(monkeypatch)
    kill = asyncio.create_task(
        kill_container(runtime, cid, "app", pod_grace_period(p), p, "10.0.0.1", clock=clock)
    )
    await clock.advance(0.9)
    assert not kill.done() and runtime.stops == []  # the hook runs its grace period
    await clock.advance(0.1)
    assert kill.done() and kill.exception() is None  # then it is cut short, and the stop ...
    assert runtime.stops == [(cid, MINIMUM_GRACE_SECONDS)]  # ... gets the minimum grace left


@pytest.mark.parametrize(
    "spec_grace,deletion_grace,expected",
    [
        (120, None, 120),  # honoured in full: no cap
        (30, 5, 5),  # a deletion's grace period wins
        (30, 0, 1),  # a force delete: the pod worker never goes below 1 s
    ],
)
def test_pod_grace_period(spec_grace: int, deletion_grace: int | None, expected: int) -> None:
    p = pod("app", termination_grace_period_seconds=spec_grace)
    if deletion_grace is not None:
        p.metadata.deletion_grace_period_seconds = deletion_grace
    assert pod_grace_period(p) == expected


def test_a_liveness_probe_may_bring_its_own_grace_period() -> None:
    app = container("app", liveness_probe=core_pb2.Probe(termination_grace_period_seconds=4))
    p = pod(app, termination_grace_period_seconds=60)
    assert container_grace_period(p, app, ProbeType.LIVENESS) == 4
    assert container_grace_period(p, app, ProbeType.READINESS) == 60
    assert container_grace_period(p, app) == 60


async def test_deleting_a_pod_runs_pre_stop_then_stops_with_the_full_grace_period(
    h: SyncHarness,
) -> None:
    p = pod(
        container("app", lifecycle=pre_stop("drain")), "plain", termination_grace_period_seconds=45
    )
    await h.sync(p)
    p.metadata.deletion_timestamp = "2026-01-01T00:00:45Z"
    p.metadata.deletion_grace_period_seconds = 45
    await h.sync(p)
    app, plain = h.latest("app"), h.latest("plain")
    assert sorted(h.runtime.stops[:2]) == sorted([(app, 45), (plain, 45)])
    calls = h.runtime.calls  # the containers stop in parallel; app's hook before app's stop
    assert calls.index(("exec_in_container", app)) < calls.index(("stop_container", app))
    assert ("Normal", "Killing", "Stopping container app") in events(h)
    assert h.pods.delete.deleted == [("web", 0)]  # type: ignore[attr-defined]


async def test_a_force_deleted_pod_gets_the_minimum_grace_and_no_hook(h: SyncHarness) -> None:
    p = pod(container("app", lifecycle=pre_stop("drain")), termination_grace_period_seconds=45)
    await h.sync(p)
    cid = h.latest("app")
    await h.sync(None)  # gone from the API
    assert h.runtime.stops[0] == (cid, MINIMUM_GRACE_SECONDS)
    assert "exec_in_container" not in [c for c, _ in h.runtime.calls]
    assert h.runtime.containers == {}


async def test_a_failed_pre_stop_hook_is_reported_and_the_container_still_stops(
    h: SyncHarness,
) -> None:
    async def fail(c: ContainerStatus, cmd: Sequence[str]) -> tuple[int, str]:
        return 2, "no such file"

    h.runtime.exec_handler = fail
    p = pod(container("app", lifecycle=pre_stop("drain")), termination_grace_period_seconds=5)
    await h.sync(p)
    p.metadata.deletion_timestamp = "2026-01-01T00:00:05Z"
    p.metadata.deletion_grace_period_seconds = 5
    await h.sync(p)
    assert h.runtime.stops[0][1] == 5
    failed = [m for t, r, m in events(h) if r == "FailedPreStopHook"]
    assert len(failed) == 1 and "exited with 2" in failed[0]


async def test_a_failed_liveness_probe_kills_and_restarts_the_container(h: SyncHarness) -> None:
    probe = core_pb2.Probe(exec=core_pb2.ExecAction(command=["check"]), failure_threshold=1)
    p = pod(container("app", liveness_probe=probe), termination_grace_period_seconds=7)
    changed: list[str] = []
    manager = ProbeManager(
        h.runtime, changed.append, prober=FakeProber(Result.FAILURE), start_workers=False
    )
    h.syncer.probes = manager
    await h.sync(p)
    first = h.latest("app")
    worker = manager.workers[("uid-1", "app", ProbeType.LIVENESS)]
    await worker.do_probe()
    assert changed[-1] == "default/web"  # the failure syncs the pod
    await h.sync(p)
    assert h.runtime.stops == [(first, 7)]
    assert state_of(p, "app") == "running" and status_of(p, "app").restart_count == 1
    assert (
        "Normal",
        "Killing",
        "Container app failed liveness probe, will be restarted",
    ) in events(h)


async def test_under_never_a_failed_liveness_probe_kills_for_good(h: SyncHarness) -> None:
    probe = core_pb2.Probe(exec=core_pb2.ExecAction(command=["check"]), failure_threshold=1)
    p = pod(container("app", liveness_probe=probe), restart_policy="Never")
    manager = ProbeManager(
        h.runtime, lambda key: None, prober=FakeProber(Result.FAILURE), start_workers=False
    )
    h.syncer.probes = manager
    await h.sync(p)
    await manager.workers[("uid-1", "app", ProbeType.LIVENESS)].do_probe()
    await h.sync(p)
    assert h.created() == ["app"] and p.status.phase == "Failed"
    assert ("Normal", "Killing", "Container app failed liveness probe") in events(h)


def _sandbox_config(p: core_pb2.Pod) -> SandboxConfig:
    return SandboxConfig(
        pod=PodRef(p.metadata.uid, p.metadata.name, p.metadata.namespace),
        attempt=0,
        hostname=p.metadata.name,
        image="podplane/pause:3.9",
    )


async def _start(runtime: HollowRuntime, p: core_pb2.Pod, sandbox: str) -> str:
    cid = await runtime.create_container(
        sandbox,
        ContainerConfig(
            pod=PodRef(p.metadata.uid, p.metadata.name, p.metadata.namespace),
            name="app",
            image="busybox:latest",
            restart_count=0,
        ),
    )
    await runtime.start_container(cid)
    return cid

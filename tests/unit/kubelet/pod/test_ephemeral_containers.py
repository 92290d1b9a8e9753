"""Ephemeral containers on the kubelet (hollow runtime): started once in the running pod's sandbox,
joined to the target's process namespace, never restarted, reported in
ephemeralContainerStatuses, and adopted by a restarted kubelet."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelet.runtime.hollow import HollowRuntime
from podplane.api.core.v1 import core_pb2
from tests.unit.kubelet.podbuild import pod
from tests.unit.kubelet.synctest import SyncHarness


@pytest.fixture
def h(tmp_path: Path) -> SyncHarness:
    return SyncHarness(tmp_path)


def add_debugger(
    p: core_pb2.Pod, name: str = "debugger", target: str = "app", image: str = "busybox:latest"
) -> None:
    p.spec.ephemeral_containers.add(
        name=name,
        image=image,
        image_pull_policy="IfNotPresent",
        target_container_name=target,
        command=["sh"],
        stdin=True,
        stdin_once=True,
    )


def ephemeral_status(p: core_pb2.Pod, name: str = "debugger") -> core_pb2.ContainerStatus:
    return next(s for s in p.status.ephemeral_container_statuses if s.name == name)


async def test_an_added_ephemeral_container_starts_in_the_sandbox_sharing_the_target(
    h: SyncHarness,
) -> None:
    p = pod("app")
    await h.sync(p)
    add_debugger(p)
    await h.sync(p)
    debugger = h.runtime.by_name("debugger")[0]
    sandbox = next(iter(h.runtime.sandboxes))
    config = h.runtime.configs[debugger.id]
    assert debugger.sandbox_id == sandbox
    assert config.pid_namespace_of == h.latest("app")
    assert config.entrypoint == ["sh"] and config.stdin and config.stdin_once
    status = ephemeral_status(p)
    assert status.state.HasField("running") and status.container_id == f"docker://{debugger.id}"
    assert not status.ready
    # The app's own statuses and the pod's phase do not count it.
    assert [s.name for s in p.status.container_statuses] == ["app"]
    assert p.status.phase == "Running"


@pytest.mark.parametrize(
    ("tty", "stdin_once"),
    [(False, True), (True, False)],
    ids=["kubectl debug -i: its stdin's end ends it", "kubectl debug -it: a terminal's stays"],
)
async def test_kubectl_debugs_stdin_is_its_first_attachs(
    h: SyncHarness, tty: bool, stdin_once: bool
) -> None:
    """kubectl debug -i asks for stdin without stdinOnce; the container gets stdinOnce all the
    same, so that piped commands end its shell, unless it has a terminal."""
    p = pod("app")
    await h.sync(p)
    p.spec.ephemeral_containers.add(
        name="debugger",
        image="busybox:latest",
        image_pull_policy="IfNotPresent",
        command=["sh"],
        stdin=True,
        tty=tty,
    )
    await h.sync(p)
    config = h.runtime.configs[h.latest("debugger")]
    assert config.stdin and config.tty == tty and config.stdin_once == stdin_once
    assert not p.spec.ephemeral_containers[0].stdin_once  # the pod's spec is as asked


async def test_without_a_target_it_shares_no_process_namespace(h: SyncHarness) -> None:
    p = pod("app")
    await h.sync(p)
    add_debugger(p, target="")
    await h.sync(p)
    assert h.runtime.configs[h.latest("debugger")].pid_namespace_of == ""


async def test_an_ended_ephemeral_container_is_never_restarted(h: SyncHarness) -> None:
    p = pod("app")
    await h.sync(p)
    add_debugger(p)
    await h.sync(p)
    h.runtime.exit_container(h.latest("debugger"), 3)
    await h.sync(p)
    await h.sync(p)
    assert h.created().count("debugger") == 1
    terminated = ephemeral_status(p).state.terminated
    assert (terminated.exit_code, terminated.reason) == (3, "Error")


async def test_a_removed_instance_stays_reported_and_is_not_restarted(h: SyncHarness) -> None:
    p = pod("app")
    await h.sync(p)
    add_debugger(p)
    await h.sync(p)
    h.runtime.exit_container(h.latest("debugger"), 0)
    await h.sync(p)
    await h.runtime.remove_container(h.latest("debugger"))  # garbage-collected
    await h.sync(p)
    assert h.created().count("debugger") == 1
    assert ephemeral_status(p).state.terminated.reason == "Completed"


async def test_a_restarted_kubelet_adopts_the_running_ephemeral_container(
    h: SyncHarness, tmp_path: Path
) -> None:
    p = pod("app")
    await h.sync(p)
    add_debugger(p)
    await h.sync(p)
    first = h.latest("debugger")
    fresh = SyncHarness(tmp_path, runtime=h.runtime)
    await fresh.sync(p)
    assert fresh.created() == h.created()  # nothing new
    assert ephemeral_status(p).container_id == f"docker://{first}"


async def test_a_missing_image_waits_with_the_pull_reason(tmp_path: Path) -> None:
    h = SyncHarness(
        tmp_path, runtime=HollowRuntime(images=("busybox:latest", "podplane/pause:3.9"))
    )
    p = pod("app")
    await h.sync(p)
    add_debugger(p, image="nicolaka/netshoot:latest")
    requeue = await h.sync(p)
    waiting = ephemeral_status(p).state.waiting
    assert waiting.reason == "ErrImagePull" and "netshoot" in waiting.message
    assert requeue is not None


async def test_a_finished_pod_starts_no_ephemeral_container(h: SyncHarness) -> None:
    p = pod("app", restart_policy="Never")
    await h.sync(p)
    h.runtime.exit_container(h.latest("app"), 0)
    await h.sync(p)
    assert p.status.phase == "Succeeded"
    add_debugger(p)
    await h.sync(p)
    assert "debugger" not in h.created()
    assert ephemeral_status(p).state.waiting.reason == "ContainerCreating"

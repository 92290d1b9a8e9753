"""One container start for every kind of container (kuberuntime_container.go startContainer): an
app container and an ephemeral one that fail the same way leave the same events on the pod."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from kubelet.runtime.hollow import HollowRuntime
from kubelet.runtime.types import ContainerStatus
from podplane.api.core.v1 import core_pb2
from tests.unit.kubelet.podbuild import pod
from tests.unit.kubelet.synctest import SyncHarness

Events = list[tuple[str, str, str]]


class Recorder:
    def __init__(self) -> None:
        self.events: Events = []

    def record(self, obj: core_pb2.Pod, type_: str, reason: str, message: str) -> None:
        self.events.append((type_, reason, message))


async def hook_fails(c: ContainerStatus, cmd: Sequence[str]) -> tuple[int, str]:
    return (1, "not yet") if list(cmd) == ["warm-up"] else (0, "")


AnyContainer = core_pb2.Container | core_pb2.EphemeralContainer


def failing_hook(h: SyncHarness, c: AnyContainer) -> None:
    c.lifecycle.post_start.exec.command.append("warm-up")
    h.runtime.exec_handler = hook_fails


def failing_start(h: SyncHarness, c: AnyContainer) -> None:
    h.runtime.fail_start[c.name] = 'exec: "nope": executable file not found in $PATH'


def missing_image(h: SyncHarness, c: AnyContainer) -> None:
    c.image = "nicolaka/netshoot:latest"


# How each case's container fails (its own fields, what the runtime does), and the events' reasons.
CASES: dict[str, tuple[Callable[[SyncHarness, AnyContainer], None], list[str]]] = {
    "a failed postStart hook": (
        failing_hook,
        ["Pulled", "Created", "Started", "FailedPostStartHook", "Killing"],
    ),
    "a failed start": (failing_start, ["Pulled", "Created", "Failed"]),
    "an image that is not there": (missing_image, ["Pulling", "Failed"]),
}


def events_of(h: SyncHarness, name: str) -> Events:
    """The pod's events, with the container's name and id written the same for every case."""
    recorder = h.syncer.recorder
    assert isinstance(recorder, Recorder)
    out = []
    for type_, reason, message in recorder.events:
        for c in h.runtime.by_name(name):
            message = message.replace(c.id, "<id>")
        out.append((type_, reason, message.replace(f'"{name}"', '"X"').replace(f" {name}", " X")))
    return out


async def events_starting(tmp_path: Path, case: str, ephemeral: bool) -> Events:
    """The pod's events while its new container (an app or an ephemeral one) fails to start."""
    # A node with busybox and the pause image only (the missing image case pulls another).
    h = SyncHarness(tmp_path, HollowRuntime(images=("busybox:latest", "podplane/pause:3.9")))
    p = pod("main")
    await h.sync(p)
    h.syncer.recorder = Recorder()  # type: ignore[assignment]  # from here on
    fail, _ = CASES[case]
    name = "debugger" if ephemeral else "app"
    new = p.spec.ephemeral_containers.add() if ephemeral else p.spec.containers.add()
    new.name, new.image, new.image_pull_policy = name, "busybox:latest", "IfNotPresent"
    fail(h, new)
    await h.sync(p)
    return events_of(h, name)


@pytest.mark.parametrize("case", list(CASES))
async def test_an_app_and_an_ephemeral_container_that_fail_alike_get_the_same_events(
    tmp_path: Path, case: str
) -> None:
    app = await events_starting(tmp_path / "app", case, ephemeral=False)
    ephemeral = await events_starting(tmp_path / "ephemeral", case, ephemeral=True)
    assert app == ephemeral
    assert [reason for _, reason, _ in app] == CASES[case][1]

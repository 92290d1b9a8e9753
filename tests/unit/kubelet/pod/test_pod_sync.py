"""Pod sync decisions against the hollow runtime: what gets created, started, restarted, stopped and
removed, and the status a user then sees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kubelet.container.backoff import Backoff
from kubelet.pod.pleg import PodLifecycleEventGenerator
from kubelet.runtime.hollow import HollowRuntime
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import timeutil
from tests.unit.kubelet.podbuild import container, pod
from tests.unit.kubelet.synctest import (
    HOST_IP,
    EventLog,
    SyncHarness,
    condition,
    state_of,
    status_of,
)


@pytest.fixture
def h(tmp_path: Path) -> SyncHarness:
    return SyncHarness(tmp_path)


class Relisted:
    """The syncer's status following a PLEG over the harness's runtime, relisted by hand."""

    def __init__(self, h: SyncHarness) -> None:
        self.pleg = PodLifecycleEventGenerator(h.runtime, lambda _: None)
        h.syncer.relisted = self.pleg.relisted

    async def relist(self) -> None:
        await self.pleg.relist()


async def test_new_pod_gets_a_sandbox_and_running_containers(h: SyncHarness) -> None:
    p = pod("a", "b")
    assert await h.sync(p) is None
    assert [c for c, _ in h.runtime.calls][:5] == [
        "run_pod_sandbox",
        "create_container",
        "start_container",
        "create_container",
        "start_container",
    ]
    assert p.status.phase == "Running"
    sandbox = next(iter(h.runtime.sandboxes.values()))
    assert p.status.pod_ip == sandbox.ip and [i.ip for i in p.status.pod_ips] == [sandbox.ip]
    assert p.status.host_ip == HOST_IP and p.status.start_time
    assert condition(p, "Ready") == condition(p, "ContainersReady") == "True"
    a = status_of(p, "a")
    assert a.ready and a.started and a.container_id == f"docker://{h.latest('a')}"
    assert a.restart_count == 0 and a.image == "busybox:latest"


async def test_a_started_container_shows_running_once_a_relist_has_seen_it(
    h: SyncHarness,
) -> None:
    """As the kubelet's status comes from the PLEG's cache: the sync that starts a container
    reports it not started yet, and the sync the relist that finds it brings, running."""
    relisted = Relisted(h)
    p = pod("a")
    await h.sync(p)
    assert state_of(p, "a") == "ContainerCreating" and p.status.phase == "Pending"
    assert condition(p, "Ready") == "False"
    await relisted.relist()
    await h.sync(p)
    assert state_of(p, "a") == "running" and p.status.phase == "Running"
    assert condition(p, "Ready") == "True"


async def test_an_end_shows_once_a_relist_has_found_it(h: SyncHarness) -> None:
    """A container the relist found running shows running after it has ended, until a relist
    finds it ended: `kubectl run -i`, which saw the pod running, attaches to a pod still
    running rather than being refused (and printing the log twice)."""
    relisted = Relisted(h)
    p = pod("a", restart_policy="Never")
    await h.sync(p)
    await relisted.relist()
    await h.sync(p)
    h.runtime.exit_container(h.latest("a"), 0)
    await h.sync(p)
    assert state_of(p, "a") == "running" and p.status.phase == "Running"
    await relisted.relist()
    await h.sync(p)
    assert state_of(p, "a") == "terminated(0)" and p.status.phase == "Succeeded"


async def test_a_short_command_goes_from_container_creating_to_succeeded(h: SyncHarness) -> None:
    """One that has ended by the relist never shows Running: `kubectl run -i` then reads its
    log, once, rather than attach to a container that has gone."""
    Relisted(h)  # never relists
    p = pod("a", restart_policy="Never")
    await h.sync(p)
    assert state_of(p, "a") == "ContainerCreating"
    h.runtime.exit_container(h.latest("a"), 0)
    await h.sync(p)
    assert state_of(p, "a") == "terminated(0)" and p.status.phase == "Succeeded"
    phases = [written.status.phase for written in h.pods.written]
    assert "Running" not in phases, phases


async def test_a_second_sync_changes_nothing(h: SyncHarness) -> None:
    p = pod("a")
    await h.sync(p)
    calls, writes = len(h.runtime.calls), len(h.pods.written)
    await h.sync(p)
    assert len(h.runtime.calls) == calls and len(h.pods.written) == writes


async def test_a_restarted_kubelet_adopts_running_containers(
    h: SyncHarness, tmp_path: Path
) -> None:
    p = pod("a")
    await h.sync(p)
    fresh = SyncHarness(tmp_path, runtime=h.runtime)  # no memory of the first kubelet
    await fresh.sync(p)
    assert h.created() == ["a"] and not fresh.pods.written


async def test_init_containers_run_one_at_a_time_in_order(h: SyncHarness) -> None:
    p = pod("a", init=("i", "j"))
    await h.sync(p)
    assert h.created() == ["i"]
    assert p.status.phase == "Pending" and condition(p, "Initialized") == "False"
    assert state_of(p, "i") == "running" and state_of(p, "a") == "PodInitializing"
    h.runtime.exit_container(h.latest("i"), 0)
    await h.sync(p)
    assert h.created() == ["i", "j"]
    h.runtime.exit_container(h.latest("j"), 0)
    await h.sync(p)
    assert h.created() == ["i", "j", "a"]
    assert p.status.phase == "Running" and condition(p, "Initialized") == "True"
    assert state_of(p, "i") == "terminated(0)" and status_of(p, "i").ready


async def test_failed_init_container_fails_the_pod_under_never(h: SyncHarness) -> None:
    p = pod("a", init=("i",), restart_policy="Never")
    await h.sync(p)
    h.runtime.exit_container(h.latest("i"), 3)
    await h.sync(p)
    assert p.status.phase == "Failed" and h.created() == ["i"]
    assert not any(s.ready for s in h.runtime.sandboxes.values())


async def test_failed_init_container_is_retried_under_always(h: SyncHarness) -> None:
    p = pod("a", init=("i",))
    await h.sync(p)
    h.runtime.exit_container(h.latest("i"), 3)
    await h.sync(p)
    assert h.created() == ["i", "i"] and p.status.phase == "Pending"
    assert status_of(p, "i").restart_count == 1
    assert status_of(p, "i").last_state.terminated.exit_code == 3


@pytest.mark.parametrize(
    ("policy", "exit_code", "phase"),
    [
        ("Never", 0, "Succeeded"),
        ("Never", 1, "Failed"),
        ("OnFailure", 0, "Succeeded"),
    ],
)
async def test_finished_pods(h: SyncHarness, policy: str, exit_code: int, phase: str) -> None:
    p = pod("a", restart_policy=policy)
    await h.sync(p)
    ip = p.status.pod_ip
    h.runtime.exit_container(h.latest("a"), exit_code)
    await h.sync(p)
    assert p.status.phase == phase
    terminated = status_of(p, "a").state.terminated
    assert terminated.exit_code == exit_code
    assert terminated.reason == ("Completed" if exit_code == 0 else "Error")
    assert terminated.container_id == f"docker://{h.latest('a')}"
    assert condition(p, "Ready") == "False"
    assert not any(s.ready for s in h.runtime.sandboxes.values())  # the sandbox is stopped
    assert p.status.pod_ip == ip  # ...but the pod keeps its IP
    await h.sync(p)
    assert h.created() == ["a"] and p.status.phase == phase  # and it never runs again


async def test_on_failure_restarts_a_failed_container(h: SyncHarness) -> None:
    p = pod("a", restart_policy="OnFailure")
    await h.sync(p)
    h.runtime.exit_container(h.latest("a"), 1)
    await h.sync(p)
    assert h.created() == ["a", "a"] and p.status.phase == "Running"
    a = status_of(p, "a")
    assert a.restart_count == 1 and a.last_state.terminated.exit_code == 1


async def test_crash_loop_backs_off_and_keeps_one_previous_instance(h: SyncHarness) -> None:
    p = pod("a")
    await h.sync(p)
    h.runtime.exit_container(h.latest("a"), 1)
    await h.sync(p)  # the first restart is immediate
    assert h.created() == ["a", "a"]
    h.runtime.exit_container(h.latest("a"), 1)
    requeue = await h.sync(p)
    assert h.created() == ["a", "a"]
    assert requeue is not None and 8 < requeue <= 11
    assert state_of(p, "a") == "CrashLoopBackOff" and p.status.phase == "Running"
    a = status_of(p, "a")
    assert a.restart_count == 1 and a.last_state.terminated.exit_code == 1
    assert (
        "back-off 10s restarting failed container=a pod=web_default(uid-1)"
        in a.state.waiting.message
    )
    h.clock.offset += 12
    await h.sync(p)
    assert h.created() == ["a", "a", "a"] and state_of(p, "a") == "running"
    assert status_of(p, "a").restart_count == 2
    assert [c.restart_count for c in h.runtime.by_name("a")] == [2, 1]


async def test_crash_back_off_starts_over_after_ten_minutes_of_running(h: SyncHarness) -> None:
    """Kubernetes' back-off forgets a container that ran for more than twice the 5-min cap: its
    next crash restarts at once, and the one after waits 10 s again, not the doubled delay."""
    p = pod("a")
    await h.sync(p)
    h.runtime.exit_container(h.latest("a"), 1)
    await h.sync(p)  # immediate restart; the back-off is now 10 s
    h.runtime.exit_container(h.latest("a"), 1)
    h.clock.offset += 12
    await h.sync(p)  # restarted after 10 s
    h.runtime.exit_container(h.latest("a"), 1)
    await h.sync(p)
    assert "back-off 20s restarting" in status_of(p, "a").state.waiting.message
    h.clock.offset += 22
    await h.sync(p)
    assert h.created() == ["a", "a", "a", "a"] and state_of(p, "a") == "running"

    h.clock.offset += 11 * 60  # this instance runs for eleven minutes, then crashes
    crashed = datetime.fromtimestamp(h.clock(), UTC)
    h.runtime.exit_container(h.latest("a"), 1, finished_at=timeutil.format_time(crashed))
    assert await h.sync(p) is None
    assert h.created() == ["a"] * 5 and state_of(p, "a") == "running"
    h.runtime.exit_container(
        h.latest("a"), 1, finished_at=timeutil.format_time(crashed + timedelta(seconds=1))
    )
    requeue = await h.sync(p)
    assert requeue is not None and 8 < requeue <= 11
    assert "back-off 10s restarting failed container=a" in status_of(p, "a").state.waiting.message
    assert status_of(p, "a").restart_count == 4


async def test_image_never_pulled_and_absent(h: SyncHarness) -> None:
    p = pod(container("a", image="app:1", image_pull_policy="Never"))
    await h.sync(p)
    assert state_of(p, "a") == "ErrImageNeverPull"
    assert (
        'Container image "app:1" is not present with pull policy of Never'
        in status_of(p, "a").state.waiting.message
    )


async def test_failed_pull_then_pull_back_off(h: SyncHarness) -> None:
    p = pod(container("a", image="busybox:latest", image_pull_policy="Always"))
    await h.sync(p)
    assert state_of(p, "a") == "ErrImagePull" and p.status.phase == "Pending"
    await h.sync(p)
    assert state_of(p, "a") == "ImagePullBackOff"
    assert [n for c, n in h.runtime.calls if c == "pull_image"] == ["busybox:latest"]


async def test_if_not_present_pulls_only_a_missing_image(tmp_path: Path) -> None:
    h = SyncHarness(tmp_path, HollowRuntime(pullable=("app:1",)))
    await h.sync(pod(container("a", image="app:1"), container("b")))
    assert [n for c, n in h.runtime.calls if c == "pull_image"] == ["app:1"]
    assert h.created() == ["a", "b"]


async def test_a_container_that_cannot_start_reports_why_then_backs_off(h: SyncHarness) -> None:
    h.runtime.fail_start["a"] = 'exec: "nope": executable file not found in $PATH'
    p = pod("a")
    await h.sync(p)
    assert state_of(p, "a") == "RunContainerError"
    assert status_of(p, "a").last_state.terminated.reason == "StartError"
    await h.sync(p)  # the first retry is immediate and fails again
    await h.sync(p)
    assert state_of(p, "a") == "CrashLoopBackOff"


async def test_deleted_pod_is_stopped_and_removed_with_its_directory(h: SyncHarness) -> None:
    p = pod("a", volumes=(core_pb2.Volume(name="data", empty_dir=core_pb2.EmptyDirVolumeSource()),))
    await h.sync(p)
    assert (h.root / "pods" / "uid-1").is_dir()
    await h.sync(None)
    assert not h.runtime.containers and not h.runtime.sandboxes
    assert not (h.root / "pods" / "uid-1").exists()


async def test_a_recreated_pod_replaces_the_old_one(h: SyncHarness) -> None:
    await h.sync(pod("a", uid="uid-1"))
    await h.sync(pod("a", uid="uid-2"))
    assert {c.pod.uid for c in h.runtime.containers.values()} == {"uid-2"}
    assert {s.pod.uid for s in h.runtime.sandboxes.values()} == {"uid-2"}


async def test_a_dead_sandbox_is_recreated_with_the_containers(h: SyncHarness) -> None:
    p = pod("a")
    await h.sync(p)
    first = next(iter(h.runtime.sandboxes))
    h.runtime.kill_sandbox(first)
    await h.sync(p)
    # The dead sandbox stays while it holds the dead instance (the CRI would remove that with
    # it), which the status's lastState reads.
    assert sorted(s.attempt for s in h.runtime.sandboxes.values()) == [0, 1]
    assert h.created() == ["a", "a"] and p.status.phase == "Running"
    status = p.status.container_statuses[0]
    assert status.restart_count == 1 and status.last_state.HasField("terminated")
    # Once its dead instance is gone (replaced by a newer one), the old sandbox goes too.
    [old] = [c.id for c in h.runtime.containers.values() if c.restart_count == 0]
    await h.runtime.remove_container(old)
    await h.sync(p)
    assert [s.attempt for s in h.runtime.sandboxes.values()] == [1]


async def test_a_dead_sandbox_is_not_recreated_under_never(h: SyncHarness) -> None:
    p = pod("a", restart_policy="Never")
    await h.sync(p)
    h.runtime.kill_sandbox(next(iter(h.runtime.sandboxes)))
    await h.sync(p)
    assert len(h.runtime.sandboxes) == 1 and h.created() == ["a"]
    assert p.status.phase == "Failed" and state_of(p, "a") == "terminated(137)"


async def test_volumes_are_bind_mounted_with_read_only_honoured(
    h: SyncHarness, tmp_path: Path
) -> None:
    host_dir = tmp_path / "host"
    host_dir.mkdir()
    volumes = (
        core_pb2.Volume(name="data", empty_dir=core_pb2.EmptyDirVolumeSource()),
        core_pb2.Volume(
            name="host",
            host_path=core_pb2.HostPathVolumeSource(path=str(host_dir), type="Directory"),
        ),
    )
    writer = container("w", volume_mounts=[core_pb2.VolumeMount(name="data", mount_path="/d")])
    reader = container(
        "r",
        volume_mounts=[
            core_pb2.VolumeMount(name="data", mount_path="/d", read_only=True),
            core_pb2.VolumeMount(name="host", mount_path="/h"),
        ],
    )
    await h.sync(pod(writer, reader, volumes=volumes))
    mounts = {
        c.name: [(m.host_path, m.container_path, m.read_only) for m in c.mounts]
        for c in h.runtime.configs.values()
    }
    data = str(h.root / "pods" / "uid-1" / "volumes" / "kubernetes.io~empty-dir" / "data")
    hosts = (str(h.root / "pods" / "uid-1" / "etc-hosts"), "/etc/hosts", False)
    assert mounts == {
        "w": [(data, "/d", False), hosts],
        "r": [(data, "/d", True), (str(host_dir), "/h", False), hosts],
    }


async def test_a_missing_config_map_volume_waits_in_container_creating_with_failed_mount(
    h: SyncHarness,
) -> None:
    """As Kubernetes' volume manager: FailedMount with the set-up's error, the containers
    ContainerCreating, the set-up tried again after 0.5 s, doubling."""
    events = EventLog()
    h.syncer.recorder = events  # type: ignore[assignment]
    h.syncer.set_up_backoff = Backoff(0.5, 122.0, clock=h.clock)
    volumes = (core_pb2.Volume(name="cfg", config_map=core_pb2.ConfigMapVolumeSource(name="x")),)
    p = pod("a", volumes=volumes)
    requeues: list[float] = []
    for _ in range(4):
        after = await h.sync(p)
        assert after is not None
        requeues.append(after)
        # A sync before the back-off ends (the pod changed) does not try again.
        h.clock.offset += 0.25
        assert await h.sync(p) == pytest.approx(after - 0.25, abs=0.05)
        h.clock.offset += after - 0.25
    assert requeues == [0.5, 1.0, 2.0, 4.0]
    assert (state_of(p, "a"), status_of(p, "a").state.waiting.message) == ("ContainerCreating", "")
    assert events.events == 4 * [
        (
            "Warning",
            "FailedMount",
            'MountVolume.SetUp failed for volume "cfg" : configmap "x" not found',
        )
    ]
    assert h.created() == []


async def test_env_sees_the_pod_ip_of_the_sandbox(h: SyncHarness) -> None:
    c = container(
        "a",
        env=[
            core_pb2.EnvVar(
                name="IP",
                value_from=core_pb2.EnvVarSource(
                    field_ref=core_pb2.ObjectFieldSelector(field_path="status.podIP")
                ),
            )
        ],
    )
    p = pod(c)
    await h.sync(p)
    config = next(iter(h.runtime.configs.values()))
    assert dict(config.env)["IP"] == p.status.pod_ip != ""


async def test_a_finished_pod_synced_from_a_stale_copy_keeps_its_ip(h: SyncHarness) -> None:
    """The informer's copy may predate the kubelet's own last status writes: it can still show the
    pod ContainerCreating, without an IP, when the pod has run, finished and lost its sandbox."""
    p = pod("a", restart_policy="Never")
    await h.sync(p)
    creating = h.pods.written[0]  # the first write: ContainerCreating, before the sandbox
    assert not creating.status.pod_ip
    ip = p.status.pod_ip
    h.runtime.exit_container(h.latest("a"), 0)
    await h.sync(p)
    assert p.status.phase == "Succeeded" and p.status.pod_ip == ip
    assert not any(s.ready for s in h.runtime.sandboxes.values())  # the sandbox is stopped
    stale = core_pb2.Pod()
    stale.CopyFrom(creating)
    await h.sync(stale)
    latest = h.pods.written[-1].status
    assert latest.phase == "Succeeded"
    assert latest.pod_ip == ip and [i.ip for i in latest.pod_ips] == [ip]


async def test_a_running_pods_downward_api_volume_follows_its_labels(h: SyncHarness) -> None:
    """Written again at the sync after the pod changed; not at every sync in between."""
    volume = core_pb2.Volume(
        name="info",
        downward_api=core_pb2.DownwardAPIVolumeSource(
            default_mode=0o644,
            items=[
                core_pb2.DownwardAPIVolumeFile(
                    path="labels",
                    field_ref=core_pb2.ObjectFieldSelector(
                        api_version="v1", field_path="metadata.labels"
                    ),
                )
            ],
        ),
    )
    p = pod("main", volumes=(volume,))
    p.metadata.labels["app"] = "web"
    await h.sync(p)
    await h.sync(p)
    labels = (
        h.root / "pods" / "uid-1" / "volumes" / "kubernetes.io~downward-api" / "info" / "labels"
    )
    assert labels.read_text() == 'app="web"'
    p.metadata.labels["app"] = "db"
    await h.sync(p)  # the same version: not yet
    assert labels.read_text() == 'app="web"'
    p.metadata.resource_version = "changed"
    await h.sync(p)
    assert labels.read_text() == 'app="db"'
    await h.syncer.volumes.teardown("uid-1")

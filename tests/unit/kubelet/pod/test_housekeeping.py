"""Housekeeping: strays of pods no longer bound here are handed to the workers, directories of pods
that are gone are deleted, their log directories too, and every wanted pod is synced again once a
minute."""

from __future__ import annotations

from pathlib import Path

from kubelet.pod.housekeeping import Housekeeping
from kubelet.pod.pleg import PodLifecycleEventGenerator
from kubelet.pod.workers import PodWorkers
from kubelet.runtime.hollow import HollowRuntime
from kubelet.runtime.types import PodRef, SandboxConfig
from kubelet.volume.pod_volumes import PodVolumes
from tests.unit.kubelet.podbuild import pod
from tests.unit.kubelet.synctest import SyncHarness


async def test_strays_are_enqueued_and_orphan_directories_removed(tmp_path: Path) -> None:
    runtime = HollowRuntime()
    h = SyncHarness(tmp_path, runtime)
    wanted = pod("a", name="web", uid="uid-web")
    await runtime.run_pod_sandbox(
        SandboxConfig(
            pod=PodRef(uid="uid-old", name="gone", namespace="default"),
            attempt=0,
            hostname="gone",
            image="podplane/pause:3.9",
        )
    )
    for uid in ("uid-web", "uid-old", "uid-orphan"):
        (tmp_path / "pods" / uid).mkdir(parents=True)
        (tmp_path / "logs" / f"default_{uid}_{uid}" / "main").mkdir(parents=True)
    workers = PodWorkers(h.syncer, lambda key: wanted if key == "default/web" else None)
    enqueued: list[str] = []
    workers.enqueue = enqueued.append  # type: ignore[method-assign,assignment]
    pleg = PodLifecycleEventGenerator(runtime, lambda _: None)
    await pleg.relist()
    now = [0.0]
    housekeeping = Housekeeping(
        workers,
        pleg,
        PodVolumes(str(tmp_path)),
        lambda: [wanted],
        pod_logs_dir=str(tmp_path / "logs"),
        clock=lambda: now[0],
    )
    await housekeeping.run_once()
    assert sorted(enqueued) == ["default/gone", "default/web"]
    # Every 10 s the strays again; the wanted pod once a minute (the sync frequency).
    for at, expected in [(10.0, ["default/gone"]), (59.0, ["default/gone"])]:
        enqueued.clear()
        now[0] = at
        await housekeeping.run_once()
        assert enqueued == expected, at
    enqueued.clear()
    now[0] = 60.0
    await housekeeping.run_once()
    assert sorted(enqueued) == ["default/gone", "default/web"]
    assert sorted(p.name for p in (tmp_path / "pods").iterdir()) == ["uid-old", "uid-web"]
    # The log directories of the pod still in the runtime and of the wanted one stay.
    assert sorted(p.name for p in (tmp_path / "logs").iterdir()) == [
        "default_uid-old_uid-old",
        "default_uid-web_uid-web",
    ]

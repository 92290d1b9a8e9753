"""The written volumes of running pods kept up to date (the volume manager's remount at each
sync): configMap, secret, downwardAPI and projected volumes are written again, so they follow
their objects, the pod's labels and annotations, and the refreshes of its tokens. At once when
the pod changed, else at the sync each minute brings (the kubelet's --sync-frequency)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from kubelet.volume.errors import VolumeError
from kubelet.volume.pod_volumes import PodVolumes
from podplane.api.core.v1 import core_pb2

log = logging.getLogger(__name__)
# A running pod's written volumes are written again at a sync when the pod has not changed only
# if they were written this long ago: each minute's sync (kubelet/pod/housekeeping.py,
# SYNC_FREQUENCY) writes them, the syncs other events bring in between do not. Tokens are
# refreshed at 80 % of at least 600 s, well within a minute or so.
REMOUNT_PERIOD_SECONDS = 30.0
_WRITTEN_SOURCES = ("config_map", "secret", "downward_api", "projected")
# (pod, message): a FailedMount of the pod.
FailedMount = Callable[[core_pb2.Pod, str], None]


def has_written_volumes(pod: core_pb2.Pod) -> bool:
    return any(v.HasField(kind) for v in pod.spec.volumes for kind in _WRITTEN_SOURCES)


class Remounter:
    def __init__(self, volumes: PodVolumes, failed_mount: FailedMount) -> None:
        self.volumes = volumes
        self.failed_mount = failed_mount
        # When each running pod's written volumes were last written, and at which version.
        self._remounted: dict[str, tuple[str, float]] = {}

    async def remount(self, pod: core_pb2.Pod) -> None:
        if not has_written_volumes(pod):
            return
        uid, version = pod.metadata.uid, pod.metadata.resource_version
        last = self._remounted.get(uid)
        now = time.monotonic()
        if last is not None and last[0] == version and now - last[1] < REMOUNT_PERIOD_SECONDS:
            return
        self._remounted[uid] = (version, now)
        try:
            await self.volumes.setup(pod)
        except VolumeError as e:
            log.warning("pod %s/%s: %s", pod.metadata.namespace, pod.metadata.name, e)
            self.failed_mount(pod, str(e))

    def forget(self, uid: str) -> None:
        self._remounted.pop(uid, None)

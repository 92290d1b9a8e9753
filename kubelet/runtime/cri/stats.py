"""The CRI's stats calls (ListContainerStats, ImageFsInfo) for this node's containers: what the
kubelet's /stats/summary and /metrics endpoints are made from (kubelet/stats/), with the pods'
own figures, which the kubelet reads from their cgroups (kubelet/stats/pod_cgroups.py)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import grpc

from kubelet.runtime.types import ContainerRuntimeError
from podplane.api.cri import api_pb2 as cri
from podplane.api.cri import api_pb2_grpc as cri_grpc

TIMEOUT = 30.0
log = logging.getLogger(__name__)


class CriStats:
    def __init__(
        self,
        runtime: cri_grpc.RuntimeServiceStub,
        images: cri_grpc.ImageServiceStub,
        node_labels: Mapping[str, str],
        pod_logs_root: str,
    ) -> None:
        self._runtime = runtime
        self._images = images
        self._labels = dict(node_labels)
        self.pod_logs_root = pod_logs_root

    async def list_container_stats(self) -> list[cri.ContainerStats]:
        request = cri.ListContainerStatsRequest(
            filter=cri.ContainerStatsFilter(label_selector=self._labels)
        )
        try:
            reply = await self._runtime.ListContainerStats(request, timeout=TIMEOUT)
        except grpc.aio.AioRpcError as e:
            raise ContainerRuntimeError(f"list container stats: {e.details()}") from e
        return list(reply.stats)

    async def image_fs_info(self) -> list[cri.FilesystemUsage]:
        try:
            reply = await self._images.ImageFsInfo(cri.ImageFsInfoRequest(), timeout=TIMEOUT)
        except grpc.aio.AioRpcError as e:
            raise ContainerRuntimeError(f"image fs info: {e.details()}") from e
        return list(reply.image_filesystems)

"""Making a container's image present according to its imagePullPolicy (pkg/kubelet/images),
with per pod-and-image back-off between failed pulls (ErrImagePull, then ImagePullBackOff)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from kubelet.container.backoff import Backoff
from kubelet.runtime.types import ContainerRuntime, ContainerRuntimeError, ImageInfo
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.images import default_pull_policy

log = logging.getLogger(__name__)


class ImageError(Exception):
    """The image is not available; `reason` is the container's waiting reason."""

    def __init__(self, reason: str, message: str, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.retry_after = retry_after


class ImagePuller:
    def __init__(self, runtime: ContainerRuntime, backoff: Backoff | None = None) -> None:
        self.runtime = runtime
        self.backoff = backoff or Backoff()

    async def ensure(
        self, pod_uid: str, container: core_pb2.Container, on_pull: Callable[[], None] | None = None
    ) -> tuple[ImageInfo, bool]:
        """The image, present as the policy asks, and whether it was pulled just now. on_pull
        is called right before a pull starts (the kubelet's `Pulling image "x"` event)."""
        image = container.image
        policy = container.image_pull_policy or default_pull_policy(image)
        present = await self.runtime.inspect_image(image)
        if policy == "Never":
            if present is None:
                raise ImageError(
                    "ErrImageNeverPull",
                    f'Container image "{image}" is not present with pull policy of Never',
                    self.backoff.initial,
                )
            return present, False
        if policy == "IfNotPresent" and present is not None:
            return present, False
        key = f"{pod_uid}_{image}"
        remaining = self.backoff.remaining_since_update(key)
        if remaining > 0:
            raise ImageError("ImagePullBackOff", f'Back-off pulling image "{image}"', remaining)
        if on_pull is not None:
            on_pull()
        try:
            log.info("pulling image %s (pullPolicy %s)", image, policy)
            return await self.runtime.pull_image(image), True
        except ContainerRuntimeError as e:
            self.backoff.next(key)
            raise ImageError(
                "ErrImagePull", f'Failed to pull image "{image}": {e}', self.backoff.duration(key)
            ) from e

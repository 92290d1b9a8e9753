"""The container runtime, reached through one small interface (like the CRI)."""

from kubelet.runtime.types import (
    ContainerConfig,
    ContainerRuntime,
    ContainerRuntimeError,
    ContainerState,
    ContainerStatus,
    ImageInfo,
    ImageNotFound,
    LogOptions,
    Mount,
    PodRef,
    SandboxConfig,
    SandboxStatus,
)

__all__ = [
    "ContainerConfig",
    "ContainerRuntime",
    "ContainerRuntimeError",
    "ContainerState",
    "ContainerStatus",
    "ImageInfo",
    "ImageNotFound",
    "LogOptions",
    "Mount",
    "PodRef",
    "SandboxConfig",
    "SandboxStatus",
]

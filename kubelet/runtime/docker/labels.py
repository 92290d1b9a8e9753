"""The labels on every sandbox and container the kubelet creates on Docker: the shared ones
(kubelet/runtime/labels.py) and dockershim's own (the container's type, its sandbox, its
attempt), and the Docker names it gives them."""

from __future__ import annotations

from kubelet.runtime.labels import (
    CONTAINER_NAME,
    GRACE_PERIOD,
    NODE_NAME,
    POD_NAME,
    POD_NAMESPACE,
    POD_UID,
    RESTART_COUNT,
    int_label,
    pod_labels,
    pod_ref,
)
from kubelet.runtime.types import PodRef

__all__ = [
    "CONTAINER_NAME",
    "GRACE_PERIOD",
    "NODE_NAME",
    "POD_NAME",
    "POD_NAMESPACE",
    "POD_UID",
    "RESTART_COUNT",
    "int_label",
    "pod_labels",
    "pod_ref",
]

CONTAINER_TYPE = "io.kubernetes.docker.type"
SANDBOX_ATTEMPT = "io.kubernetes.sandbox.attempt"
SANDBOX_ID = "io.kubernetes.sandbox.id"

TYPE_SANDBOX = "podsandbox"
TYPE_CONTAINER = "container"
SANDBOX_CONTAINER_NAME = "POD"


def docker_name(pod: PodRef, container: str, attempt: int) -> str:
    """k8s_<container>_<pod>_<namespace>_<uid>_<attempt>, unique per instance."""
    return f"k8s_{container}_{pod.name}_{pod.namespace}_{pod.uid}_{attempt}"

"""The labels on every sandbox and container the kubelet creates (the names dockershim used), and
the Docker names it gives them. Reading them back is how the kubelet knows what runs."""

from __future__ import annotations

from collections.abc import Mapping

from kubelet.runtime.types import PodRef

POD_UID = "io.kubernetes.pod.uid"
POD_NAME = "io.kubernetes.pod.name"
POD_NAMESPACE = "io.kubernetes.pod.namespace"
CONTAINER_NAME = "io.kubernetes.container.name"
CONTAINER_TYPE = "io.kubernetes.docker.type"
RESTART_COUNT = "io.kubernetes.container.restartCount"
SANDBOX_ATTEMPT = "io.kubernetes.sandbox.attempt"
SANDBOX_ID = "io.kubernetes.sandbox.id"
GRACE_PERIOD = "io.kubernetes.pod.terminationGracePeriod"
# The node whose kubelet created the container (a podplane addition).
NODE_NAME = "io.podplane.node"

TYPE_SANDBOX = "podsandbox"
TYPE_CONTAINER = "container"
SANDBOX_CONTAINER_NAME = "POD"


def pod_labels(pod: PodRef) -> dict[str, str]:
    return {POD_UID: pod.uid, POD_NAME: pod.name, POD_NAMESPACE: pod.namespace}


def pod_ref(labels: Mapping[str, str]) -> PodRef:
    return PodRef(
        uid=labels.get(POD_UID, ""),
        name=labels.get(POD_NAME, ""),
        namespace=labels.get(POD_NAMESPACE, ""),
    )


def int_label(labels: Mapping[str, str], key: str, default: int = 0) -> int:
    try:
        return int(labels.get(key, default))
    except ValueError:
        return default


def docker_name(pod: PodRef, container: str, attempt: int) -> str:
    """k8s_<container>_<pod>_<namespace>_<uid>_<attempt>, unique per instance."""
    return f"k8s_{container}_{pod.name}_{pod.namespace}_{pod.uid}_{attempt}"

"""The labels every runtime puts on the sandboxes and containers the kubelet creates (kuberuntime's
labels.go: the pod's uid, name and namespace, the container's name), and how they read back.
Reading them back is how the kubelet knows what runs, after a restart too."""

from __future__ import annotations

from collections.abc import Mapping

from kubelet.runtime.types import PodRef

POD_UID = "io.kubernetes.pod.uid"
POD_NAME = "io.kubernetes.pod.name"
POD_NAMESPACE = "io.kubernetes.pod.namespace"
CONTAINER_NAME = "io.kubernetes.container.name"
RESTART_COUNT = "io.kubernetes.container.restartCount"
GRACE_PERIOD = "io.kubernetes.pod.terminationGracePeriod"
# The node whose kubelet created the container (a podplane addition): kubelets, or tests,
# sharing one runtime never touch each other's pods.
NODE_NAME = "io.podplane.node"


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

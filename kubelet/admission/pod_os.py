"""The pod's operating system against the node's (lifecycle/predicate.go): a pod labelled
kubernetes.io/os or with spec.os naming another OS than linux, the OS of every podplane node, is
rejected."""

from __future__ import annotations

from kubelet.admission.rejection import Rejection
from podplane.api.core.v1 import core_pb2

NODE_OS = "linux"
OS_LABEL = "kubernetes.io/os"


def os_rejection(pod: core_pb2.Pod) -> Rejection | None:
    label = pod.metadata.labels.get(OS_LABEL)
    if label is not None and label != NODE_OS:
        return Rejection(
            "PodOSSelectorNodeLabelDoesNotMatch",
            "Failed to admit pod as the `kubernetes.io/os` label doesn't match node label",
        )
    if pod.spec.HasField("os") and pod.spec.os.name != NODE_OS:
        return Rejection(
            "PodOSNotSupported", "Failed to admit pod as the OS field doesn't match node OS"
        )
    return None

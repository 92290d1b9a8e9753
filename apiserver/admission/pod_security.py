"""Pod Security admission (k8s.io/pod-security-admission): a namespace labelled
pod-security.kubernetes.io/enforce=baseline or =restricted refuses pods that fail that Pod
Security Standard (restricted includes baseline), in Kubernetes' words:
`pods "x" is forbidden: violates PodSecurity "baseline:latest": privileged (container "c" must
not set securityContext.privileged=true)`. Workloads' pod templates are not refused (Kubernetes
only warns for them); their pods are. The checks are those of the latest policy, whatever
version the namespace names."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import grpc
from google.protobuf.message import Message

from apiserver import errors
from apiserver.admission import pod_security_baseline as baseline
from apiserver.admission import pod_security_restricted as restricted
from podplane.api.core.v1 import core_pb2

ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
ENFORCE_VERSION_LABEL = "pod-security.kubernetes.io/enforce-version"
LEVELS = ("privileged", "baseline", "restricted")

# A namespace's labels, or None when it does not exist (or, cached, is not known yet).
NamespaceLabels = Callable[[str], Awaitable[dict[str, str] | None]]
CachedNamespaceLabels = Callable[[str], dict[str, str] | None]


def baseline_violations(pod: core_pb2.Pod) -> list[str]:
    """Each failed baseline check as `reason (detail)`, in the order Kubernetes reports them."""
    return violations(pod, "baseline")


def violations(pod: core_pb2.Pod, level: str) -> list[str]:
    """The failed checks of `level` (baseline or restricted), as Kubernetes' EvaluatePod runs
    them: the shared baseline checks, then baseline's overlapping ones or restricted's own."""
    checks = baseline.CHECKS + (
        baseline.OVERLAPPING_CHECKS if level == "baseline" else restricted.CHECKS
    )
    return [v for check in checks if (v := check(pod)) is not None]


def enforced_level(labels: dict[str, str]) -> tuple[str, str]:
    """The namespace's enforce level and version; privileged (nothing enforced) without a label."""
    level = labels.get(ENFORCE_LABEL, "privileged")
    if level not in LEVELS:
        level = "restricted"  # an invalid level enforces the strictest (Kubernetes does too)
    return level, labels.get(ENFORCE_VERSION_LABEL, "latest") or "latest"


class PodSecurity:
    def __init__(
        self,
        namespace_labels: NamespaceLabels,
        cached_namespace_labels: CachedNamespaceLabels | None = None,
    ) -> None:
        self._namespace_labels = namespace_labels
        self._cached_namespace_labels = cached_namespace_labels

    async def admit_create(self, obj: Message) -> None:
        if not isinstance(obj, core_pb2.Pod):
            return
        labels = await self._namespace_labels(obj.metadata.namespace or "default")
        if labels is not None:  # else NamespaceLifecycle refuses it
            self._enforce(obj, labels)

    def _enforce(self, pod: core_pb2.Pod, labels: dict[str, str]) -> None:
        level, version = enforced_level(labels)
        if level == "privileged":
            return
        found = violations(pod, level)
        if found:
            raise errors.APIError(
                grpc.StatusCode.PERMISSION_DENIED,
                "Forbidden",
                f'pods "{pod.metadata.name}" is forbidden: violates PodSecurity '
                f'"{level}:{version}": {", ".join(found)}',
            )

    def admit_update(self, subresource: str, new: Message, old: Message) -> None:
        """A pod's spec is immutable but for images and ephemeral containers: the whole pod is
        checked again when ephemeral containers are added (podctl debug), as Kubernetes does for
        the pods/ephemeralcontainers subresource. The namespace, which holds the pod, is read
        from the watch cache."""
        if (
            subresource != "ephemeralcontainers"
            or not isinstance(new, core_pb2.Pod)
            or self._cached_namespace_labels is None
        ):
            return
        labels = self._cached_namespace_labels(new.metadata.namespace or "default")
        if labels is not None:
            self._enforce(new, labels)

    def admit_delete(self, old: Message) -> None:
        pass

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

from apiserver import errors
from apiserver.admission import pod_security_baseline as baseline
from apiserver.admission import pod_security_restricted as restricted
from apiserver.admission.attributes import CREATE, UPDATE, Attributes
from apiserver.admission.interfaces import Handler, Scope
from podplane.api.core.v1 import core_pb2

ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
ENFORCE_VERSION_LABEL = "pod-security.kubernetes.io/enforce-version"
LEVELS = ("privileged", "baseline", "restricted")

# A namespace's labels, or None when it does not exist.
NamespaceLabels = Callable[[str], Awaitable[dict[str, str] | None]]


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


class PodSecurity(Handler):
    """Validating only: pods created, and pods whose ephemeral containers are updated."""

    # Through pods/ephemeralcontainers too.
    validate_scope = Scope((core_pb2.Pod,), subresources=True)

    def __init__(self, namespace_labels: NamespaceLabels) -> None:
        super().__init__(CREATE, UPDATE)
        self._namespace_labels = namespace_labels

    async def validate(self, attrs: Attributes) -> None:
        """A pod's spec is immutable but for images and ephemeral containers: the whole pod is
        checked again when ephemeral containers are added (podctl debug), as Kubernetes does for
        the pods/ephemeralcontainers subresource."""
        pod = attrs.object
        if not isinstance(pod, core_pb2.Pod):
            return
        if attrs.operation == CREATE and attrs.subresource:
            return
        if attrs.operation == UPDATE and attrs.subresource != "ephemeralcontainers":
            return
        labels = await self._namespace_labels(pod.metadata.namespace or "default")
        if labels is not None:  # else NamespaceLifecycle refuses it
            self._enforce(pod, labels)

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

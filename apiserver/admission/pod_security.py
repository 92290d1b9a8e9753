"""Pod Security admission (k8s.io/pod-security-admission): a namespace labelled
pod-security.kubernetes.io/enforce=baseline (or restricted, which includes baseline) refuses pods
that fail the baseline Pod Security Standard, in Kubernetes' words:
`pods "x" is forbidden: violates PodSecurity "baseline:latest": privileged (container "c" must
not set securityContext.privileged=true)`. Workloads' pod templates are not refused (Kubernetes
only warns for them); their pods are. The restricted level's own checks are not made."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import grpc
from google.protobuf.message import Message

from apiserver import errors
from apiserver.objects import pod_containers
from podplane.api.core.v1 import core_pb2

ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
ENFORCE_VERSION_LABEL = "pod-security.kubernetes.io/enforce-version"
LEVELS = ("privileged", "baseline", "restricted")
# The capabilities a container may add at baseline (policy/check_capabilities_baseline.go).
BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)

# A namespace's labels, or None when it does not exist (or, cached, is not known yet).
NamespaceLabels = Callable[[str], Awaitable[dict[str, str] | None]]
CachedNamespaceLabels = Callable[[str], dict[str, str] | None]


def _plural(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


def _quoted(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _host_namespaces(pod: core_pb2.Pod) -> str | None:
    used = [
        f"{f}=true"
        for f, on in (
            ("hostNetwork", pod.spec.host_network),
            ("hostPID", pod.spec.host_pid),
            ("hostIPC", pod.spec.host_ipc),
        )
        if on
    ]
    return f"host namespaces ({', '.join(used)})" if used else None


def _privileged(pod: core_pb2.Pod) -> str | None:
    bad = [c.name for c in pod_containers(pod.spec) if c.security_context.privileged]
    if not bad:
        return None
    return (
        f"privileged ({_plural('container', 'containers', len(bad))} {_quoted(bad)} "
        f"must not set securityContext.privileged=true)"
    )


def _capabilities(pod: core_pb2.Pod) -> str | None:
    bad: list[str] = []
    caps: list[str] = []
    for c in pod_containers(pod.spec):
        extra = [a for a in c.security_context.capabilities.add if a not in BASELINE_CAPABILITIES]
        if extra:
            bad.append(c.name)
            caps += [a for a in extra if a not in caps]
    if not bad:
        return None
    return (
        f"non-default capabilities ({_plural('container', 'containers', len(bad))} "
        f"{_quoted(bad)} must not include {_quoted(sorted(caps))} in "
        f"securityContext.capabilities.add)"
    )


def _host_path_volumes(pod: core_pb2.Pod) -> str | None:
    bad = [v.name for v in pod.spec.volumes if v.HasField("host_path")]
    if not bad:
        return None
    return f"hostPath volumes ({_plural('volume', 'volumes', len(bad))} {_quoted(bad)})"


def _host_ports(pod: core_pb2.Pod) -> str | None:
    bad: list[str] = []
    ports: list[int] = []
    for c in pod_containers(pod.spec):
        used = [p.host_port for p in c.ports if p.host_port]
        if used:
            bad.append(c.name)
            ports += [p for p in used if p not in ports]
    if not bad:
        return None
    n = len(bad)
    return (
        f"hostPort ({_plural('container', 'containers', n)} {_quoted(bad)} "
        f"{_plural('uses', 'use', n)} {_plural('hostPort', 'hostPorts', len(ports))} "
        f"{', '.join(str(p) for p in sorted(ports))})"
    )


BASELINE_CHECKS: tuple[Callable[[core_pb2.Pod], str | None], ...] = (
    _host_namespaces,
    _privileged,
    _capabilities,
    _host_path_volumes,
    _host_ports,
)


def baseline_violations(pod: core_pb2.Pod) -> list[str]:
    """Each failed baseline check as `reason (detail)`, in the order Kubernetes reports them."""
    return [v for check in BASELINE_CHECKS if (v := check(pod)) is not None]


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
        violations = baseline_violations(pod)
        if violations:
            raise errors.APIError(
                grpc.StatusCode.PERMISSION_DENIED,
                "Forbidden",
                f'pods "{pod.metadata.name}" is forbidden: violates PodSecurity '
                f'"{level}:{version}": {", ".join(violations)}',
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

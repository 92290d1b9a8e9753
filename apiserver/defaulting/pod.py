"""A pod's defaults, as Kubernetes' pkg/apis/core/v1/defaults.go and its admission plugins
(DefaultTolerationSeconds) fill them in."""

from __future__ import annotations

from apiserver.defaulting import volumes
from apiserver.objects import Container, pod_containers
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.images import default_pull_policy

DEFAULT_TOLERATION_SECONDS = 300
NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"


def _http_get(action: core_pb2.HTTPGetAction) -> None:
    action.path = action.path or "/"
    action.scheme = action.scheme or "HTTP"


def _probe(probe: core_pb2.Probe) -> None:
    if not probe.timeout_seconds:
        probe.timeout_seconds = 1
    if not probe.period_seconds:
        probe.period_seconds = 10
    if not probe.success_threshold:
        probe.success_threshold = 1
    if not probe.failure_threshold:
        probe.failure_threshold = 3
    if probe.HasField("http_get"):
        _http_get(probe.http_get)
    if probe.HasField("grpc") and not probe.grpc.HasField("service"):
        probe.grpc.service = ""


def container(c: Container) -> None:
    if not c.image_pull_policy and c.image:
        c.image_pull_policy = default_pull_policy(c.image)
    if not c.termination_message_path:
        c.termination_message_path = "/dev/termination-log"
    if not c.termination_message_policy:
        c.termination_message_policy = "File"
    for port in c.ports:
        if not port.protocol:
            port.protocol = "TCP"
    for env in c.env:
        field_ref = env.value_from.field_ref
        if env.value_from.HasField("field_ref") and not field_ref.api_version:
            field_ref.api_version = "v1"
    for name in ("liveness_probe", "readiness_probe", "startup_probe"):
        if c.HasField(name):
            _probe(getattr(c, name))
    for hook in ("post_start", "pre_stop"):
        if c.lifecycle.HasField(hook) and getattr(c.lifecycle, hook).HasField("http_get"):
            _http_get(getattr(c.lifecycle, hook).http_get)


def pod_spec(spec: core_pb2.PodSpec) -> None:
    # serviceAccount, the deprecated alias: it names the account when serviceAccountName does
    # not, and always reads as serviceAccountName (Kubernetes' v1 conversion).
    if spec.service_account and not spec.service_account_name:
        spec.service_account_name = spec.service_account
    spec.service_account = spec.service_account_name
    if not spec.restart_policy:
        spec.restart_policy = "Always"
    if not spec.dns_policy:
        spec.dns_policy = "ClusterFirst"
    if not spec.HasField("enable_service_links"):
        spec.enable_service_links = True
    if not spec.scheduler_name:
        spec.scheduler_name = "default-scheduler"
    if not spec.HasField("termination_grace_period_seconds"):
        spec.termination_grace_period_seconds = 30
    if not spec.HasField("security_context"):
        spec.security_context.SetInParent()
    for c in pod_containers(spec):
        container(c)
    for v in spec.volumes:
        volumes.pod_volume(v)


def host_network_ports(spec: core_pb2.PodSpec) -> None:
    """A pod on the node's network listens on the node: its hostPorts are its containerPorts
    (Kubernetes' defaultHostNetworkPorts, for pods, not templates)."""
    if not spec.host_network:
        return
    for c in (*spec.init_containers, *spec.containers):
        for port in c.ports:
            if not port.host_port:
                port.host_port = port.container_port


def default_tolerations(spec: core_pb2.PodSpec) -> None:
    """Pods tolerate a not-ready or unreachable node for 300 s before eviction."""
    for key in (NOT_READY_TAINT, UNREACHABLE_TAINT):
        if any(t.key == key and t.effect in ("", "NoExecute") for t in spec.tolerations) or any(
            not t.key and t.operator == "Exists" for t in spec.tolerations
        ):
            continue
        t = spec.tolerations.add()
        t.key, t.operator, t.effect = key, "Exists", "NoExecute"
        t.toleration_seconds = DEFAULT_TOLERATION_SECONDS


def pod(obj: core_pb2.Pod) -> None:
    """A pod's defaults (the not-ready and unreachable tolerations are admission's: the
    strategy adds them when it prepares a create or an update)."""
    pod_spec(obj.spec)
    host_network_ports(obj.spec)

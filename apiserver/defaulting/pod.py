"""A pod's defaults, as Kubernetes' pkg/apis/core/v1/defaults.go and its admission plugins
(DefaultTolerationSeconds) fill them in."""

from __future__ import annotations

from collections.abc import Iterable

from apiserver.objects import Container, pod_containers
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.images import default_pull_policy

DEFAULT_TOLERATION_SECONDS = 300
NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"


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
        probe.http_get.path = probe.http_get.path or "/"
        probe.http_get.scheme = probe.http_get.scheme or "HTTP"


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
    for name in ("liveness_probe", "readiness_probe", "startup_probe"):
        if c.HasField(name):
            _probe(getattr(c, name))


def pod_spec(spec: core_pb2.PodSpec) -> None:
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
        for source in ("config_map", "secret"):
            if v.HasField(source) and not getattr(v, source).HasField("default_mode"):
                getattr(v, source).default_mode = 0o644
        if v.HasField("downward_api"):
            _downward_api(v.downward_api.items)
            if not v.downward_api.HasField("default_mode"):
                v.downward_api.default_mode = 0o644
        if v.HasField("projected"):
            _projected(v.projected)


def _downward_api(items: Iterable[core_pb2.DownwardAPIVolumeFile]) -> None:
    for item in items:
        if item.HasField("field_ref") and not item.field_ref.api_version:
            item.field_ref.api_version = "v1"


def _projected(source: core_pb2.ProjectedVolumeSource) -> None:
    """SetDefaults_ProjectedVolumeSource and SetDefaults_ServiceAccountTokenProjection: mode
    0644, tokens valid for an hour."""
    if not source.HasField("default_mode"):
        source.default_mode = 0o644
    for s in source.sources:
        if s.HasField("service_account_token") and not s.service_account_token.HasField(
            "expiration_seconds"
        ):
            s.service_account_token.expiration_seconds = 3600
        if s.HasField("downward_api"):
            _downward_api(s.downward_api.items)


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


def qos_class(spec: core_pb2.PodSpec) -> str:
    """Guaranteed, Burstable or BestEffort (kubernetes pkg/apis/core/helper/qos)."""
    containers = list(spec.containers) + list(spec.init_containers)
    any_set = False
    guaranteed = True
    for c in containers:
        req, lim = c.resources.requests, c.resources.limits
        if req or lim:
            any_set = True
        for name in ("cpu", "memory"):
            if name not in lim or (name in req and req[name] != lim[name]):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def pod(obj: core_pb2.Pod) -> None:
    pod_spec(obj.spec)
    default_tolerations(obj.spec)

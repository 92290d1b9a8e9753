"""Defaults the server fills in, as Kubernetes' pkg/apis/core/v1/defaults.go and its admission
plugins (DefaultTolerationSeconds) do."""
from __future__ import annotations

from typing import Any

from podplane.apimachinery.images import default_pull_policy

DEFAULT_TOLERATION_SECONDS = 300
NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"


def _probe(probe: Any) -> None:
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


def container(c: Any) -> None:
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


def pod_spec(spec: Any) -> None:
    if not spec.restart_policy:
        spec.restart_policy = "Always"
    if not spec.dns_policy:
        spec.dns_policy = "ClusterFirst"
    if not spec.scheduler_name:
        spec.scheduler_name = "default-scheduler"
    if not spec.HasField("termination_grace_period_seconds"):
        spec.termination_grace_period_seconds = 30
    if not spec.HasField("security_context"):
        spec.security_context.SetInParent()
    for c in [*spec.init_containers, *spec.containers, *spec.ephemeral_containers]:
        container(c)
    for v in spec.volumes:
        for source in ("config_map", "secret"):
            if v.HasField(source) and not getattr(v, source).HasField("default_mode"):
                getattr(v, source).default_mode = 0o644


def default_tolerations(spec: Any) -> None:
    """Pods tolerate a not-ready or unreachable node for 300 s before eviction."""
    for key in (NOT_READY_TAINT, UNREACHABLE_TAINT):
        if any(t.key == key and t.effect in ("", "NoExecute") for t in spec.tolerations) or any(
                not t.key and t.operator == "Exists" for t in spec.tolerations):
            continue
        t = spec.tolerations.add()
        t.key, t.operator, t.effect = key, "Exists", "NoExecute"
        t.toleration_seconds = DEFAULT_TOLERATION_SECONDS


def qos_class(spec: Any) -> str:
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


def pod(obj: Any) -> None:
    pod_spec(obj.spec)
    default_tolerations(obj.spec)


# ---------------------------------------------------------------- workloads
# (pkg/apis/core/v1, pkg/apis/apps/v1 and pkg/apis/batch/v1 defaults.go)

DEFAULT_MAX_UNAVAILABLE = DEFAULT_MAX_SURGE = "25%"
DEFAULT_REVISION_HISTORY_LIMIT = 10
DEFAULT_PROGRESS_DEADLINE_SECONDS = 600
DEFAULT_BACKOFF_LIMIT = 6

# The labels kube-apiserver gives a Job's pods when it generates the Job's selector.
JOB_CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
LEGACY_JOB_CONTROLLER_UID_LABEL = "controller-uid"
LEGACY_JOB_NAME_LABEL = "job-name"


def pod_template(spec: Any) -> None:
    """A controller spec's pod template gets a pod's spec defaults (tolerations are admission's, and
    only pods get them)."""
    if spec.HasField("template"):
        pod_spec(spec.template.spec)


def replication_controller(obj: Any) -> None:
    labels = obj.spec.template.metadata.labels
    if labels:
        if not obj.spec.selector:
            obj.spec.selector.update(labels)
        if not obj.metadata.labels:
            obj.metadata.labels.update(labels)
    if not obj.spec.HasField("replicas"):
        obj.spec.replicas = 1
    pod_template(obj.spec)


def replica_set(obj: Any) -> None:
    if not obj.spec.HasField("replicas"):
        obj.spec.replicas = 1
    pod_template(obj.spec)


def deployment(obj: Any) -> None:
    spec = obj.spec
    if not spec.HasField("replicas"):
        spec.replicas = 1
    strategy = spec.strategy
    strategy.type = strategy.type or "RollingUpdate"
    if strategy.type == "RollingUpdate":
        rolling = strategy.rolling_update
        rolling.max_unavailable = rolling.max_unavailable or DEFAULT_MAX_UNAVAILABLE
        rolling.max_surge = rolling.max_surge or DEFAULT_MAX_SURGE
    if not spec.HasField("revision_history_limit"):
        spec.revision_history_limit = DEFAULT_REVISION_HISTORY_LIMIT
    if not spec.HasField("progress_deadline_seconds"):
        spec.progress_deadline_seconds = DEFAULT_PROGRESS_DEADLINE_SECONDS
    pod_template(spec)


def job(obj: Any) -> None:
    spec = obj.spec
    # A non-parallel job may leave both unset; parallelism alone defaults to 1.
    if not spec.HasField("completions") and not spec.HasField("parallelism"):
        spec.completions = 1
    if not spec.HasField("parallelism"):
        spec.parallelism = 1
    if not spec.HasField("backoff_limit"):
        spec.backoff_limit = DEFAULT_BACKOFF_LIMIT
    spec.completion_mode = spec.completion_mode or "NonIndexed"
    if not spec.HasField("suspend"):
        spec.suspend = False
    if spec.template.metadata.labels and not obj.metadata.labels:
        obj.metadata.labels.update(spec.template.metadata.labels)
    pod_template(spec)


def generate_job_selector(obj: Any) -> None:
    """A Job without manualSelector selects its own pods by its uid: the template gets the uid and
    name labels and the selector matches the uid (kubernetes pkg/registry/batch/job generateSelector;
    metadata.uid must be set). Labels the user set are kept, so a conflict fails validation."""
    if obj.spec.HasField("manual_selector") and obj.spec.manual_selector:
        return
    labels = obj.spec.template.metadata.labels
    for key, value in ((LEGACY_JOB_NAME_LABEL, obj.metadata.name),
                       (JOB_NAME_LABEL, obj.metadata.name),
                       (LEGACY_JOB_CONTROLLER_UID_LABEL, obj.metadata.uid),
                       (JOB_CONTROLLER_UID_LABEL, obj.metadata.uid)):
        labels.setdefault(key, value)
    match_labels = obj.spec.selector.match_labels
    match_labels.setdefault(JOB_CONTROLLER_UID_LABEL, obj.metadata.uid)
    # A Job's labels default to its template's (they are empty only if the template had none).
    if not obj.metadata.labels:
        obj.metadata.labels.update(labels)


# ---------------------------------------------------------------- config


def secret(obj: Any) -> None:
    """stringData is write-only: merged over data (its values win), never stored."""
    for key, value in obj.string_data.items():
        obj.data[key] = value.encode()
    obj.ClearField("string_data")
    obj.type = obj.type or "Opaque"

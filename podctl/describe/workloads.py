"""`describe` for controllers: kubectl's describeReplicationController, describeReplicaSet,
describeDeployment, describeDaemonSet, describeStatefulSet and describeJob layouts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from podctl.describe.common import format_time, write_annotations, write_events, write_labels
from podctl.describe.pod_template import write_pod_template
from podctl.describe.writer import LEVEL_0, LEVEL_1, PrefixWriter
from podctl.workloads.owners import controlled_by, controller_of, template_without_hash
from podplane.api.apps.v1 import apps_pb2
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.timeutil import human_age, parse
from podplane.printers.labels import format_label_selector, format_labels
from podplane.volume import helpers as volume_helpers


class _Condition(Protocol):
    """A controller's status condition (ReplicaSetCondition, DeploymentCondition, ...)."""

    @property
    def type(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def reason(self) -> str: ...


def pods_status(pods: Iterable[core_pb2.Pod], owner_uid: str) -> str:
    """`2 Running / 1 Waiting / 0 Succeeded / 0 Failed` over the pods the controller owns."""
    counts = {"Running": 0, "Pending": 0, "Succeeded": 0, "Failed": 0}
    for pod in pods:
        if controlled_by(pod, owner_uid) and pod.status.phase in counts:
            counts[pod.status.phase] += 1
    return (
        f"{counts['Running']} Running / {counts['Pending']} Waiting / "
        f"{counts['Succeeded']} Succeeded / {counts['Failed']} Failed"
    )


def _write_header(
    w: PrefixWriter,
    obj: core_pb2.ReplicationController | apps_pb2.ReplicaSet | batch_pb2.Job,
    selector: str,
) -> None:
    w.write(LEVEL_0, f"Name:\t{obj.metadata.name}\n")
    w.write(LEVEL_0, f"Namespace:\t{obj.metadata.namespace}\n")
    w.write(LEVEL_0, f"Selector:\t{selector}\n")
    write_labels(w, "Labels", obj.metadata.labels)
    write_annotations(w, "Annotations", obj.metadata.annotations)
    if (ref := controller_of(obj)) is not None:
        w.write(LEVEL_0, f"Controlled By:\t{ref.kind}/{ref.name}\n")


def _write_conditions(w: PrefixWriter, conditions: Sequence[_Condition]) -> None:
    if not conditions:
        return
    w.write(LEVEL_0, "Conditions:\n  Type\tStatus\tReason\n")
    w.write(LEVEL_1, "----\t------\t------\n")
    for c in conditions:
        w.write(LEVEL_1, f"{c.type} \t{c.status}\t{c.reason}\n")


def _describe_replicas(
    obj: core_pb2.ReplicationController | apps_pb2.ReplicaSet,
    selector: str,
    pods: Iterable[core_pb2.Pod],
    events: Iterable[core_pb2.Event] | None,
    now: datetime,
) -> str:
    w = PrefixWriter()
    _write_header(w, obj, selector)
    w.write(LEVEL_0, f"Replicas:\t{obj.status.replicas} current / {obj.spec.replicas} desired\n")
    w.write(LEVEL_0, f"Pods Status:\t{pods_status(pods, obj.metadata.uid)}\n")
    write_pod_template(w, obj.spec.template)
    _write_conditions(w, obj.status.conditions)
    if events is not None:
        write_events(w, events, now)
    return w.text()


def describe_replication_controller(
    rc: core_pb2.ReplicationController,
    pods: Iterable[core_pb2.Pod],
    events: Iterable[core_pb2.Event] | None,
    now: datetime,
) -> str:
    """`pods` are those the selector matches; only the ones it controls are counted."""
    return _describe_replicas(rc, format_labels(rc.spec.selector), pods, events, now)


def describe_replica_set(
    rs: apps_pb2.ReplicaSet,
    pods: Iterable[core_pb2.Pod],
    events: Iterable[core_pb2.Event] | None,
    now: datetime,
) -> str:
    return _describe_replicas(rs, format_label_selector(rs.spec.selector), pods, events, now)


def _replica_sets_text(replica_sets: Sequence[apps_pb2.ReplicaSet]) -> str:
    if not replica_sets:
        return "<none>"
    return ", ".join(
        f"{rs.metadata.name} ({rs.status.replicas}/{rs.spec.replicas} replicas created)"
        for rs in replica_sets
    )


def split_replica_sets(
    deployment: apps_pb2.Deployment, replica_sets: Iterable[apps_pb2.ReplicaSet]
) -> tuple[list[apps_pb2.ReplicaSet], list[apps_pb2.ReplicaSet]]:
    """(old, new) among the replica sets the deployment controls: the new one's template is the
    deployment's, but for the pod-template-hash label (deploymentutil.FindNewReplicaSet)."""
    owned = sorted(
        (rs for rs in replica_sets if controlled_by(rs, deployment.metadata.uid)),
        key=lambda rs: rs.metadata.creation_timestamp,
    )
    wanted = template_without_hash(deployment.spec.template)
    new = [rs for rs in owned if template_without_hash(rs.spec.template) == wanted][:1]
    return [rs for rs in owned if rs not in new], new


def describe_deployment(
    d: apps_pb2.Deployment,
    replica_sets: Iterable[apps_pb2.ReplicaSet],
    events: Iterable[core_pb2.Event] | None,
    now: datetime,
) -> str:
    """`replica_sets` are those of the deployment's namespace its selector matches."""
    w = PrefixWriter()
    spec, status = d.spec, d.status
    w.write(LEVEL_0, f"Name:\t{d.metadata.name}\n")
    w.write(LEVEL_0, f"Namespace:\t{d.metadata.namespace}\n")
    w.write(LEVEL_0, f"CreationTimestamp:\t{format_time(d.metadata.creation_timestamp)}\n")
    write_labels(w, "Labels", d.metadata.labels)
    write_annotations(w, "Annotations", d.metadata.annotations)
    w.write(LEVEL_0, f"Selector:\t{format_label_selector(spec.selector)}\n")
    w.write(
        LEVEL_0,
        f"Replicas:\t{spec.replicas} desired | {status.updated_replicas} updated | "
        f"{status.replicas} total | {status.available_replicas} available | "
        f"{status.unavailable_replicas} unavailable\n",
    )
    w.write(LEVEL_0, f"StrategyType:\t{spec.strategy.type}\n")
    w.write(LEVEL_0, f"MinReadySeconds:\t{spec.min_ready_seconds}\n")
    if spec.strategy.HasField("rolling_update"):
        rolling = spec.strategy.rolling_update
        w.write(
            LEVEL_0,
            f"RollingUpdateStrategy:\t{rolling.max_unavailable} max unavailable, "
            f"{rolling.max_surge} max surge\n",
        )
    write_pod_template(w, spec.template)
    _write_conditions(w, status.conditions)
    old, new = split_replica_sets(d, replica_sets)
    w.write(LEVEL_0, f"OldReplicaSets:\t{_replica_sets_text(old)}\n")
    w.write(LEVEL_0, f"NewReplicaSet:\t{_replica_sets_text(new)}\n")
    if events is not None:
        write_events(w, events, now)
    return w.text()


def describe_daemon_set(
    ds: apps_pb2.DaemonSet,
    pods: Iterable[core_pb2.Pod],
    events: Iterable[core_pb2.Event] | None,
    now: datetime,
) -> str:
    """`pods` are those its selector matches; only the ones it controls are counted."""
    w = PrefixWriter()
    status = ds.status
    w.write(LEVEL_0, f"Name:\t{ds.metadata.name}\n")
    w.write(LEVEL_0, f"Namespace:\t{ds.metadata.namespace}\n")
    w.write(LEVEL_0, f"Selector:\t{format_label_selector(ds.spec.selector)}\n")
    w.write(LEVEL_0, f"Node-Selector:\t{format_labels(ds.spec.template.spec.node_selector)}\n")
    write_labels(w, "Labels", ds.metadata.labels)
    write_annotations(w, "Annotations", ds.metadata.annotations)
    for title, value in (
        ("Desired Number of Nodes Scheduled", status.desired_number_scheduled),
        ("Current Number of Nodes Scheduled", status.current_number_scheduled),
        ("Number of Nodes Scheduled with Up-to-date Pods", status.updated_number_scheduled),
        ("Number of Nodes Scheduled with Available Pods", status.number_available),
        ("Number of Nodes Misscheduled", status.number_misscheduled),
    ):
        w.write(LEVEL_0, f"{title}: {value}\n")
    w.write(LEVEL_0, f"Pods Status:\t{pods_status(pods, ds.metadata.uid)}\n")
    write_pod_template(w, ds.spec.template)
    if events is not None:
        write_events(w, events, now)
    return w.text()


def _write_claim_map(w: PrefixWriter, title: str, values: Mapping[str, str]) -> None:
    """printLabelsMultilineWithIndent with "  " and a tab: a claim template's labels and
    annotations, key=value."""
    w.write(LEVEL_0, f"  {title}:\t")
    if not values:
        w.write_line("<none>")
        return
    for i, key in enumerate(sorted(values)):
        if i:
            w.write(LEVEL_0, "  \t")
        w.write(LEVEL_0, f"{key}={values[key]}\n")


def _write_claim_templates(
    w: PrefixWriter, templates: Sequence[core_pb2.PersistentVolumeClaim]
) -> None:
    """describeVolumeClaimTemplates."""
    if not templates:
        w.write(LEVEL_0, "Volume Claims:\t<none>\n")
        return
    w.write(LEVEL_0, "Volume Claims:\n")
    for claim in templates:
        w.write(LEVEL_1, f"Name:\t{claim.metadata.name}\n")
        w.write(LEVEL_1, f"StorageClass:\t{volume_helpers.claim_class(claim)}\n")
        _write_claim_map(w, "Labels", claim.metadata.labels)
        _write_claim_map(w, "Annotations", claim.metadata.annotations)
        capacity = claim.spec.resources.requests.get("storage", "<default>")
        w.write(LEVEL_1, f"Capacity:\t{capacity}\n")
        # Go's %s of the slice of modes.
        w.write(LEVEL_1, f"Access Modes:\t[{' '.join(claim.spec.access_modes)}]\n")


def describe_stateful_set(
    sts: apps_pb2.StatefulSet,
    pods: Iterable[core_pb2.Pod],
    events: Iterable[core_pb2.Event] | None,
    now: datetime,
) -> str:
    """`pods` are those its selector matches; only the ones it controls are counted."""
    w = PrefixWriter()
    spec = sts.spec
    w.write(LEVEL_0, f"Name:\t{sts.metadata.name}\n")
    w.write(LEVEL_0, f"Namespace:\t{sts.metadata.namespace}\n")
    w.write(LEVEL_0, f"CreationTimestamp:\t{format_time(sts.metadata.creation_timestamp)}\n")
    w.write(LEVEL_0, f"Selector:\t{format_label_selector(spec.selector)}\n")
    write_labels(w, "Labels", sts.metadata.labels)
    write_annotations(w, "Annotations", sts.metadata.annotations)
    w.write(LEVEL_0, f"Replicas:\t{spec.replicas} desired | {sts.status.replicas} total\n")
    w.write(LEVEL_0, f"Update Strategy:\t{spec.update_strategy.type}\n")
    rolling = spec.update_strategy.rolling_update
    if spec.update_strategy.HasField("rolling_update") and rolling.HasField("partition"):
        w.write(LEVEL_1, f"Partition:\t{rolling.partition}\n")
        if rolling.HasField("max_unavailable"):
            w.write(LEVEL_1, f"MaxUnavailable:\t{rolling.max_unavailable}\n")
    w.write(LEVEL_0, f"Pods Status:\t{pods_status(pods, sts.metadata.uid)}\n")
    write_pod_template(w, spec.template)
    _write_claim_templates(w, spec.volume_claim_templates)
    if events is not None:
        write_events(w, events, now)
    return w.text()


def describe_job(job: batch_pb2.Job, events: Iterable[core_pb2.Event] | None, now: datetime) -> str:
    w = PrefixWriter()
    spec, status = job.spec, job.status
    _write_header(w, job, format_label_selector(spec.selector))
    if spec.HasField("parallelism"):
        w.write(LEVEL_0, f"Parallelism:\t{spec.parallelism}\n")
    completions = spec.completions if spec.HasField("completions") else "<unset>"
    w.write(LEVEL_0, f"Completions:\t{completions}\n")
    if spec.completion_mode:
        w.write(LEVEL_0, f"Completion Mode:\t{spec.completion_mode}\n")
    if spec.HasField("suspend"):
        w.write(LEVEL_0, f"Suspend:\t{str(spec.suspend).lower()}\n")
    if spec.HasField("backoff_limit"):
        w.write(LEVEL_0, f"Backoff Limit:\t{spec.backoff_limit}\n")
    if spec.HasField("ttl_seconds_after_finished"):
        w.write(LEVEL_0, f"TTL Seconds After Finished:\t{spec.ttl_seconds_after_finished}\n")
    if status.start_time:
        w.write(LEVEL_0, f"Start Time:\t{format_time(status.start_time)}\n")
    if status.completion_time:
        w.write(LEVEL_0, f"Completed At:\t{format_time(status.completion_time)}\n")
        if status.start_time:
            duration = human_age(status.start_time, parse(status.completion_time))
            w.write(LEVEL_0, f"Duration:\t{duration}\n")
    if spec.HasField("active_deadline_seconds"):
        w.write(LEVEL_0, f"Active Deadline Seconds:\t{spec.active_deadline_seconds}s\n")
    ready = f" ({status.ready} Ready)" if status.HasField("ready") else ""
    w.write(
        LEVEL_0,
        f"Pods Statuses:\t{status.active} Active{ready} / {status.succeeded} "
        f"Succeeded / {status.failed} Failed\n",
    )
    if spec.completion_mode == "Indexed":
        w.write(LEVEL_0, f"Completed Indexes:\t{status.completed_indexes or '<none>'}\n")
    write_pod_template(w, spec.template)
    if events is not None:
        write_events(w, events, now)
    return w.text()

"""`describe pod`: kubectl's describePod layout."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from podctl.describe.common import age, format_time, write_annotations, write_events, write_labels
from podctl.describe.containers import write_containers
from podctl.describe.writer import LEVEL_0, LEVEL_1, LEVEL_2, LEVEL_3, PrefixWriter
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.qos import pod_qos_class


def _write_volume(w: PrefixWriter, volume: core_pb2.Volume, name_indent: str) -> None:
    w.write(LEVEL_1, f"{name_indent}{volume.name}:\n")
    if volume.HasField("host_path"):
        w.write(
            LEVEL_2,
            "Type:\tHostPath (bare host directory volume)\n"
            f"    Path:\t{volume.host_path.path}\n"
            f"    HostPathType:\t{volume.host_path.type}\n",
        )
    elif volume.HasField("empty_dir"):
        size = volume.empty_dir.size_limit or "<unset>"
        w.write(
            LEVEL_2,
            "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n"
            f"    Medium:\t{volume.empty_dir.medium}\n"
            f"    SizeLimit:\t{size}\n",
        )
    elif volume.HasField("secret"):
        optional = "true" if volume.secret.optional else "false"
        w.write(
            LEVEL_2,
            "Type:\tSecret (a volume populated by a Secret)\n"
            f"    SecretName:\t{volume.secret.secret_name}\n"
            f"    Optional:\t{optional}\n",
        )
    elif volume.HasField("config_map"):
        optional = "true" if volume.config_map.optional else "false"
        w.write(
            LEVEL_2,
            "Type:\tConfigMap (a volume populated by a ConfigMap)\n"
            f"    Name:\t{volume.config_map.name}\n"
            f"    Optional:\t{optional}\n",
        )
    elif volume.HasField("persistent_volume_claim"):
        claim = volume.persistent_volume_claim
        w.write(
            LEVEL_2,
            "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same "
            "namespace)\n"
            f"    ClaimName:\t{claim.claim_name}\n"
            f"    ReadOnly:\t{'true' if claim.read_only else 'false'}\n",
        )
    elif volume.HasField("projected"):
        _write_projected(w, volume.projected)
    elif volume.HasField("downward_api"):
        w.write(
            LEVEL_2,
            "Type:\tDownwardAPI (a volume populated by information about the pod)\n    Items:\n",
        )
        for item in volume.downward_api.items:
            if item.HasField("field_ref"):
                w.write(LEVEL_3, f"{item.field_ref.field_path} -> {item.path}\n")
            if item.HasField("resource_field_ref"):
                w.write(LEVEL_3, f"{item.resource_field_ref.resource} -> {item.path}\n")
    else:
        w.write(LEVEL_1, "<unknown>\n")


def _optional(source: core_pb2.SecretProjection | core_pb2.ConfigMapProjection) -> str:
    """A *bool as kubectl prints it."""
    if not source.HasField("optional"):
        return "<nil>"
    return "true" if source.optional else "false"


def _write_projected(w: PrefixWriter, projected: core_pb2.ProjectedVolumeSource) -> None:
    """printProjectedVolumeSource: a line or two per source."""
    w.write(
        LEVEL_2, "Type:\tProjected (a volume that contains injected data from multiple sources)\n"
    )
    for s in projected.sources:
        if s.HasField("secret"):
            w.write(
                LEVEL_2,
                f"SecretName:\t{s.secret.name}\n    SecretOptionalName:\t{_optional(s.secret)}\n",
            )
        elif s.HasField("downward_api"):
            w.write(LEVEL_2, "DownwardAPI:\ttrue\n")
        elif s.HasField("config_map"):
            w.write(
                LEVEL_2,
                f"ConfigMapName:\t{s.config_map.name}\n"
                f"    ConfigMapOptional:\t{_optional(s.config_map)}\n",
            )
        elif s.HasField("service_account_token"):
            seconds = s.service_account_token.expiration_seconds
            w.write(LEVEL_2, f"TokenExpirationSeconds:\t{seconds}\n")


def write_volumes(w: PrefixWriter, volumes: Sequence[core_pb2.Volume], space: str = "") -> None:
    """`space` indents the section inside a pod template, as kubectl's describeVolumes."""
    if not volumes:
        w.write(LEVEL_0, f"{space}Volumes:\t<none>\n")
        return
    w.write(LEVEL_0, f"{space}Volumes:\n")
    for volume in volumes:
        _write_volume(w, volume, " " if space else "")


def _toleration(t: core_pb2.Toleration) -> str:
    text = str(t.key)
    if t.value:
        text += f"={t.value}"
    if t.effect:
        text += f":{t.effect}"
    if t.operator == "Exists" and not t.value:
        text += " op=Exists" if t.key or t.effect else "op=Exists"
    if t.HasField("toleration_seconds"):
        text += f" for {t.toleration_seconds}s"
    return text


def write_tolerations(
    w: PrefixWriter, tolerations: Sequence[core_pb2.Toleration], title: str = "Tolerations"
) -> None:
    w.write(LEVEL_0, f"{title}:\t")
    if not tolerations:
        w.write_line("<none>")
        return
    for i, t in enumerate(sorted(tolerations, key=lambda t: t.key)):
        if i:
            w.write(LEVEL_0, "\t")
        w.write(LEVEL_0, _toleration(t) + "\n")


def _controller(pod: core_pb2.Pod) -> str:
    for ref in pod.metadata.owner_references:
        if ref.controller:
            return f"{ref.kind}/{ref.name}"
    return ""


def _write_status(w: PrefixWriter, pod: core_pb2.Pod, now: datetime) -> None:
    if pod.metadata.deletion_timestamp and pod.status.phase not in ("Failed", "Succeeded"):
        w.write(
            LEVEL_0, f"Status:\tTerminating (lasts {age(pod.metadata.deletion_timestamp, now)})\n"
        )
        w.write(
            LEVEL_0, f"Termination Grace Period:\t{pod.metadata.deletion_grace_period_seconds}s\n"
        )
    else:
        w.write(LEVEL_0, f"Status:\t{pod.status.phase}\n")
    if pod.status.reason:
        w.write(LEVEL_0, f"Reason:\t{pod.status.reason}\n")
    if pod.status.message:
        w.write(LEVEL_0, f"Message:\t{pod.status.message}\n")


def describe_pod(pod: core_pb2.Pod, events: Iterable[core_pb2.Event] | None, now: datetime) -> str:
    w = PrefixWriter()
    meta, spec, status = pod.metadata, pod.spec, pod.status
    w.write(LEVEL_0, f"Name:\t{meta.name}\n")
    w.write(LEVEL_0, f"Namespace:\t{meta.namespace}\n")
    if spec.HasField("priority"):
        w.write(LEVEL_0, f"Priority:\t{spec.priority}\n")
    if spec.priority_class_name:
        w.write(LEVEL_0, f"Priority Class Name:\t{spec.priority_class_name}\n")
    if spec.service_account_name:
        w.write(LEVEL_0, f"Service Account:\t{spec.service_account_name}\n")
    node = f"{spec.node_name}/{status.host_ip}" if spec.node_name else "<none>"
    w.write(LEVEL_0, f"Node:\t{node}\n")
    if status.start_time:
        w.write(LEVEL_0, f"Start Time:\t{format_time(status.start_time)}\n")
    write_labels(w, "Labels", meta.labels)
    write_annotations(w, "Annotations", meta.annotations)
    _write_status(w, pod, now)
    w.write(LEVEL_0, f"IP:\t{status.pod_ip}\n")
    if status.pod_ips:
        w.write(LEVEL_0, "IPs:\n")
        for ip in status.pod_ips:
            w.write(LEVEL_1, f"IP:\t{ip.ip}\n")
    else:
        w.write(LEVEL_0, "IPs:\t<none>\n")
    if controller := _controller(pod):
        w.write(LEVEL_0, f"Controlled By:\t{controller}\n")
    if status.nominated_node_name:
        w.write(LEVEL_0, f"NominatedNodeName:\t{status.nominated_node_name}\n")
    if spec.init_containers:
        write_containers(
            w, "Init Containers", spec.init_containers, status.init_container_statuses, pod
        )
    write_containers(w, "Containers", spec.containers, status.container_statuses, pod)
    if spec.ephemeral_containers:
        write_containers(
            w,
            "Ephemeral Containers",
            spec.ephemeral_containers,
            status.ephemeral_container_statuses,
            pod,
        )
    if status.conditions:
        w.write(LEVEL_0, "Conditions:\n  Type\tStatus\n")
        for c in status.conditions:
            w.write(LEVEL_1, f"{c.type} \t{c.status} \n")
    write_volumes(w, spec.volumes)
    w.write(LEVEL_0, f"QoS Class:\t{pod_qos_class(pod)}\n")
    write_labels(w, "Node-Selectors", spec.node_selector)
    write_tolerations(w, spec.tolerations)
    if events is not None:
        write_events(w, events, now)
    return w.text()

"""downwardAPI files (pkg/volume/downwardapi CollectData): fields of the pod (its name, namespace,
uid, labels, annotations) and resources of its containers, as the files of a downwardAPI volume or
of a projected volume's downwardAPI source. Labels and annotations are written as Kubernetes'
fieldpath.FormatMap writes them: `key="value"` lines in key order."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping

from kubelet.container.env import (
    ContainerConfigError,
    PodContext,
    field_ref_value,
    resource_ref_value,
)
from kubelet.volume.projection import FileProjection, ProjectionError
from podplane.api.core.v1 import core_pb2


def format_map(values: Mapping[str, str]) -> str:
    """Go's `%v=%q` per key, sorted, one a line, no newline after the last."""
    return "\n".join(f"{k}={json.dumps(values[k], ensure_ascii=False)}" for k in sorted(values))


def field_value(pod: core_pb2.Pod, field_path: str) -> str:
    """fieldpath.ExtractFieldPathAsString for what a volume may show."""
    if field_path == "metadata.labels":
        return format_map(pod.metadata.labels)
    if field_path == "metadata.annotations":
        return format_map(pod.metadata.annotations)
    try:
        return field_ref_value(pod, field_path, PodContext())
    except ContainerConfigError as e:
        raise ProjectionError(str(e)) from e


def _container(pod: core_pb2.Pod, name: str) -> core_pb2.Container:
    for c in [*pod.spec.init_containers, *pod.spec.containers]:
        if c.name == name:
            return c
    raise ProjectionError(f"container {name} not found")


def downward_api_payload(
    pod: core_pb2.Pod,
    items: Iterable[core_pb2.DownwardAPIVolumeFile],
    default_mode: int,
    node_allocatable: Mapping[str, str],
) -> dict[str, FileProjection]:
    """Path -> content and mode of each item; ProjectionError naming every item that failed."""
    payload: dict[str, FileProjection] = {}
    failures: list[str] = []
    for item in items:
        mode = item.mode if item.HasField("mode") else default_mode
        try:
            if item.HasField("field_ref"):
                data = field_value(pod, item.field_ref.field_path)
            elif item.HasField("resource_field_ref"):
                ref = item.resource_field_ref
                container = _container(pod, ref.container_name)
                ctx = PodContext(node_allocatable=node_allocatable)
                data = resource_ref_value(container, ref, ctx)
            else:
                data = ""
        except (ProjectionError, ContainerConfigError) as e:
            failures.append(str(e))
            continue
        payload[os.path.normpath(item.path)] = FileProjection(data.encode(), mode)
    if failures:
        raise ProjectionError(failures[0] if len(failures) == 1 else f"[{', '.join(failures)}]")
    return payload

"""The Pod Template section of describe for controllers: kubectl's DescribePodTemplate."""

from __future__ import annotations

from podctl.describe.common import write_annotations, write_labels
from podctl.describe.containers import write_containers
from podctl.describe.pod import write_tolerations, write_volumes
from podctl.describe.writer import LEVEL_0, LEVEL_1, PrefixWriter
from podplane.api.core.v1 import core_pb2

_SPACE = "  "


def write_pod_template(w: PrefixWriter, template: core_pb2.PodTemplateSpec) -> None:
    w.write(LEVEL_0, "Pod Template:\n")
    meta, spec = template.metadata, template.spec
    write_labels(w, f"{_SPACE}Labels", meta.labels)
    if meta.annotations:
        write_annotations(w, f"{_SPACE}Annotations", meta.annotations)
    if spec.service_account_name:
        w.write(LEVEL_1, f"Service Account:\t{spec.service_account_name}\n")
    if spec.init_containers:
        write_containers(w, "Init Containers", spec.init_containers, (), None, _SPACE)
    write_containers(w, "Containers", spec.containers, (), None, _SPACE)
    write_volumes(w, spec.volumes, _SPACE)
    if spec.priority_class_name:
        w.write(LEVEL_1, f"Priority Class Name:\t{spec.priority_class_name}\n")
    write_labels(w, f"{_SPACE}Node-Selectors", spec.node_selector)
    write_tolerations(w, spec.tolerations, f"{_SPACE}Tolerations")

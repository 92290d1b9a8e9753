"""Defaults of PodTemplate and LimitRange (kubernetes pkg/apis/core/v1 defaults.go): a pod
template's pod spec gets a pod's spec defaults; a Container limit item's default limits come
from its max, its default requests from its default limits, else from its min
(SetDefaults_LimitRangeItem)."""

from __future__ import annotations

from apiserver.defaulting.pod import pod_spec
from podplane.api.core.v1 import core_pb2, quota_pb2


def pod_template(obj: core_pb2.PodTemplate) -> None:
    pod_spec(obj.template.spec)


def limit_range(obj: quota_pb2.LimitRange) -> None:
    for item in obj.spec.limits:
        if item.type != "Container":
            continue
        for name, value in item.max.items():
            item.default.setdefault(name, value)
        for name, value in item.default.items():
            item.default_request.setdefault(name, value)
        for name, value in item.min.items():
            item.default_request.setdefault(name, value)

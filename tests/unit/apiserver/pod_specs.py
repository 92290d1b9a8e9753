"""Pods for validation tests: a valid pod from a manifest fragment, defaulted and prepared as the
apiserver does before it validates, and its errors as Kubernetes prints them."""

from __future__ import annotations

import copy
from typing import Any, cast

from apiserver.defaulting import pod as pod_defaulting
from apiserver.defaulting import pod_prepare
from apiserver.validation import pod as pod_validation
from apiserver.validation import pod_update as pod_update_validation
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest

BASE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {"containers": [{"name": "main", "image": "busybox"}]},
}


def merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def make_pod(spec: dict[str, Any] | None = None, **top: Any) -> core_pb2.Pod:
    """BASE with `spec` merged into its spec (a list replaces the base's) and `top` into the
    manifest, defaulted and prepared as a create prepares it."""
    data = merged(BASE, {"spec": spec or {}, **top})
    pod = cast(core_pb2.Pod, manifest.from_dict(data))
    pod_defaulting.pod(pod)
    pod.ClearField("status")
    pod_prepare.prepare_for_create(pod)
    return pod


def container(**fields: Any) -> dict[str, Any]:
    return {"name": "main", "image": "busybox", **fields}


def create_errors(spec: dict[str, Any] | None = None, **top: Any) -> list[str]:
    return [str(e) for e in pod_validation.pod_create(make_pod(spec, **top))]


def update_errors(old: core_pb2.Pod, new: core_pb2.Pod) -> list[str]:
    return [str(e) for e in pod_update_validation.pod_update(new, old)]

"""A custom resource's scale subresource (k8s.io/apiextensions-apiserver/pkg/registry/
customresource/etcd.go ScaleREST): an autoscaling/v1 Scale whose spec.replicas,
status.replicas and status.selector are read at the definition's specReplicasPath,
statusReplicasPath and labelSelectorPath (a missing value reads as 0, or ""), and whose
replicas are written back at specReplicasPath."""

from __future__ import annotations

from google.protobuf.message import Message

from apiserver.registry.customresource.storage import content_of, set_content
from apiserver.registry.scale import M, scale
from podplane.api.apiextensions.v1 import apiextensions_pb2
from podplane.api.apiextensions.v1.custom_objects_pb2 import CustomObject
from podplane.apimachinery import jsonpath
from podplane.apimachinery.json_types import JSONObject, JSONValue


def _path(json_path: str) -> list[str]:
    return [p for p in json_path.split(".") if p]


def _int(found: list[JSONValue]) -> int:
    value = found[0] if found else 0
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class CustomScaler:
    def __init__(self, paths: apiextensions_pb2.CustomResourceSubresourceScale) -> None:
        self.spec_path = paths.spec_replicas_path
        self.status_path = paths.status_replicas_path
        self.selector_path = (
            paths.label_selector_path if paths.HasField("label_selector_path") else ""
        )

    def scale_of(self, obj: Message) -> JSONObject:
        assert isinstance(obj, CustomObject)
        content = content_of(obj)
        selector = jsonpath.find(self.selector_path, content) if self.selector_path else []
        text = selector[0] if selector and isinstance(selector[0], str) else ""
        return scale(
            obj.metadata,
            _int(jsonpath.find(self.spec_path, content)),
            _int(jsonpath.find(self.status_path, content)),
            text,
        )

    def with_replicas(self, obj: M, replicas: int) -> M:
        assert isinstance(obj, CustomObject)
        updated = type(obj)()
        updated.CopyFrom(obj)
        content = content_of(updated)
        *parents, last = _path(self.spec_path)
        node: JSONObject = content
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[last] = replicas
        set_content(updated, content)
        return updated

    def replicas_path(self) -> list[str]:
        return _path(self.spec_path)

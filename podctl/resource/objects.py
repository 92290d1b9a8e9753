"""API objects as kubectl shows and edits them: plain dicts with integers as integers, type meta
filled in, and the `pod/jumpod` names kubectl prints."""

from __future__ import annotations

from typing import TypeVar

from google.protobuf.message import Message

from podplane.apimachinery import manifest
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.meta import accessor
from podplane.apimachinery.resources import Resource

M = TypeVar("M", bound=Message)


def to_plain_dict(msg: Message) -> JSONObject:
    """The object as Kubernetes serializes it (camelCase, empty fields left out, numbers as
    numbers)."""
    return manifest.to_dict(msg)


def from_plain_dict(data: JSONObject, message: type[M]) -> M:
    return manifest.from_dict(data, message)


def with_type_meta(msg: M, resource: Resource) -> M:
    """The object with apiVersion and kind set, as kubectl prints it (the server may leave them
    out)."""
    out = type(msg)()
    out.CopyFrom(msg)
    type_meta = accessor(out)
    if not type_meta.api_version:
        type_meta.api_version = resource.api_version
    if not type_meta.kind:
        type_meta.kind = resource.kind
    return out


def qualified_name(resource: Resource) -> str:
    """`pod`, or `lease.coordination.k8s.io` for a resource outside the core group."""
    group = resource.api_version.rpartition("/")[0]
    return f"{resource.singular}.{group}" if group else resource.singular


def object_name(resource: Resource, name: str) -> str:
    """kubectl's `pod/jumpod`."""
    return f"{qualified_name(resource)}/{name}"

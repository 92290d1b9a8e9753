"""The param objects a binding gives its policy, as Kubernetes collects them
(k8s.io/apiserver/pkg/admission/plugin/policy/generic/policy_dispatcher.go CollectParams): none
without a paramKind or a paramRef (the policy runs once, params null); by name, or every object
a selector selects, in the paramRef's namespace, else the request's, for a namespaced paramKind;
none found is an error under parameterNotFoundAction Deny and no evaluation under Allow. The
objects are read from the watch cache of the paramKind's resource, as Kubernetes reads its
informer, with their apiVersion and kind."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from google.protobuf import json_format

from apiserver.admission.policy.compiled import ParamKind
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.selectors import SelectorError, from_label_selector_message


class ParamError(Exception):
    """The binding cannot be configured: its message is Kubernetes' text."""


class ParamResource(Protocol):
    """The served resource of a paramKind: its scope and its objects as the watch cache has
    them (JSON, with apiVersion and kind)."""

    @property
    def namespaced(self) -> bool: ...

    async def get(self, namespace: str, name: str) -> JSONObject | None: ...

    async def list(self, namespace: str) -> Sequence[JSONObject]: ...


class ParamSource(Protocol):
    def resource(self, kind: ParamKind) -> ParamResource | None: ...


async def collect_params(
    kind: ParamKind | None,
    ref: JSONObject | None,
    namespace: str,
    source: ParamSource,
) -> list[JSONObject | None]:
    """The params to evaluate the policy with, one evaluation each; [None] for no params."""
    if kind is None or ref is None:
        return [None]
    resource = source.resource(kind)
    if resource is None:
        raise ParamError(f"paramKind kind `{kind}` not known")
    ref_namespace = str(ref.get("namespace") or "")
    params_namespace = ""
    if resource.namespaced:
        params_namespace = ref_namespace or namespace
        if not params_namespace:
            raise ParamError(
                "cannot use namespaced paramRef in policy binding that matches cluster-scoped "
                "resources"
            )
    elif ref_namespace:
        raise ParamError("paramRef.namespace must not be provided for a cluster-scoped `paramKind`")
    params: list[JSONObject | None]
    name = str(ref.get("name") or "")
    if name:
        found = await resource.get(params_namespace, name)
        params = [found] if found is not None else []
    elif ref.get("selector") is not None:
        params = [p for p in await resource.list(params_namespace) if _selects(ref["selector"], p)]
    else:
        raise ParamError("one of name or selector must be provided")
    if not params and ref.get("parameterNotFoundAction") == "Deny":
        raise ParamError("no params found for policy binding with `Deny` parameterNotFoundAction")
    return params


def _selects(selector: JSONObject, obj: JSONObject) -> bool:
    try:
        message = json_format.ParseDict(selector, meta_pb2.LabelSelector())
        parsed = from_label_selector_message(message)
    except (json_format.ParseError, SelectorError) as e:
        raise ParamError(str(e)) from e
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return parsed.matches(labels)

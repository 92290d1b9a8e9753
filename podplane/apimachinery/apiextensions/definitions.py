"""Reading a CustomResourceDefinition (k8s.io/apiextensions-apiserver/pkg/apihelpers): its
conditions, its versions (served, storage, deprecated, in discovery's order), each version's
schema, subresources and columns, and the Resource each served version is to the apiserver, the
clients and podctl."""

from __future__ import annotations

import json
import re

from podplane.api.apiextensions.v1 import apiextensions_pb2
from podplane.apimachinery import timeutil
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.resources import CustomResource, custom_resource
from podplane.apimachinery.structural import CustomResourceSchema

CRD = apiextensions_pb2.CustomResourceDefinition
Version = apiextensions_pb2.CustomResourceDefinitionVersion
Condition = apiextensions_pb2.CustomResourceDefinitionCondition

ESTABLISHED = "Established"
NAMES_ACCEPTED = "NamesAccepted"
TERMINATING = "Terminating"
NAMESPACED = "Namespaced"
CLUSTER = "Cluster"
# The finalizer every CustomResourceDefinition gets: its objects are deleted before it goes.
CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"


def condition(crd: CRD, type_: str) -> Condition | None:
    return next((c for c in crd.status.conditions if c.type == type_), None)


def is_true(crd: CRD, type_: str) -> bool:
    found = condition(crd, type_)
    return found is not None and found.status == "True"


def set_condition(crd: CRD, type_: str, status: str, reason: str, message: str) -> bool:
    """Sets a condition of the CRD's status (apihelpers.SetCRDCondition): the transition time
    moves only when the status does. False when nothing changed."""
    wanted = Condition(type=type_, status=status, reason=reason, message=message)
    existing = condition(crd, type_)
    if existing is None:
        wanted.last_transition_time = timeutil.now()
        crd.status.conditions.append(wanted)
        return True
    wanted.last_transition_time = (
        existing.last_transition_time if existing.status == status else timeutil.now()
    )
    if existing == wanted:
        return False
    existing.CopyFrom(wanted)
    return True


def mark_terminating(crd: CRD) -> None:
    """What a first delete of a CRD does (its REST storage's Delete): the cleanup finalizer, and
    the Terminating condition until its objects are gone."""
    if CLEANUP_FINALIZER not in crd.metadata.finalizers:
        crd.metadata.finalizers.append(CLEANUP_FINALIZER)
    set_condition(
        crd,
        TERMINATING,
        "True",
        "InstanceDeletionPending",
        "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon",
    )


def version(crd: CRD, name: str) -> Version | None:
    return next((v for v in crd.spec.versions if v.name == name), None)


def storage_version(crd: CRD) -> str:
    return next((v.name for v in crd.spec.versions if v.storage), "")


def served(crd: CRD) -> bool:
    """Whether the CRD's resources are served: its names accepted (or it established), as
    kube-apiserver's crdHandler decides."""
    return is_true(crd, NAMES_ACCEPTED) or is_true(crd, ESTABLISHED)


_KUBE_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(name: str) -> tuple[int, int, int, str]:
    """A sort key putting versions in discovery's order (version.CompareKubeAwareVersionStrings):
    GA before beta before alpha, higher major then minor first, non-Kubernetes-like names last
    in lexical order."""
    m = _KUBE_VERSION.match(name)
    if m is None:
        return (3, 0, 0, name)
    stability = {None: 0, "beta": 1, "alpha": 2}[m.group(2)]
    return (stability, -int(m.group(1)), -int(m.group(3) or 0), "")


def served_versions(crd: CRD) -> list[Version]:
    """The served versions, in discovery's order (the first is the preferred one)."""
    return sorted(
        (v for v in crd.spec.versions if v.served), key=lambda v: version_priority(v.name)
    )


def schema_json(v: Version) -> JSONObject | None:
    """The version's openAPIV3Schema, as JSON; None when it has none. ValueError for text that
    is not a JSON object (validation refuses it)."""
    text = v.schema.open_apiv3_schema if v.HasField("schema") else ""
    if not text:
        return None
    parsed = json.loads(text)
    if not isinstance(parsed, dict):
        raise ValueError("openAPIV3Schema: not a JSON object")
    schema: JSONObject = parsed
    return schema


def version_schema(v: Version) -> CustomResourceSchema | None:
    """The version's schema, ready to prune, default and validate objects (None: it has none,
    which only a definition validation refused could say)."""
    schema = schema_json(v)
    return CustomResourceSchema.from_json(schema) if schema is not None else None


def has_status(v: Version) -> bool:
    return v.HasField("subresources") and v.subresources.HasField("status")


def scale(v: Version) -> apiextensions_pb2.CustomResourceSubresourceScale | None:
    if v.HasField("subresources") and v.subresources.HasField("scale"):
        return v.subresources.scale
    return None


def deprecation_warning(crd: CRD, v: Version) -> str | None:
    """The Warning a request to a deprecated version is answered with: its own, or Kubernetes'
    default naming the highest served version above it that is not deprecated; None for a
    version not deprecated."""
    if not v.deprecated:
        return None
    if v.HasField("deprecation_warning"):
        return v.deprecation_warning
    group, kind = crd.spec.group, crd.spec.names.kind
    message = f"{group}/{v.name} {kind} is deprecated"
    newer = sorted(
        (*version_priority(o.name)[:3], o.name)
        for o in crd.spec.versions
        if o.served and not o.deprecated and version_priority(o.name) < version_priority(v.name)
    )
    if newer:
        message += f"; use {group}/{newer[0][3]} {kind}"
    return message


def resource(crd: CRD, v: Version) -> CustomResource:
    """The Resource one version of the CRD is served as, by its accepted names."""
    names = crd.status.accepted_names if crd.status.accepted_names.plural else crd.spec.names
    return custom_resource(
        crd.spec.group,
        v.name,
        names.kind,
        names.plural,
        namespaced=crd.spec.scope == NAMESPACED,
        has_status=has_status(v),
        singular=names.singular or names.kind.lower(),
        list_kind=names.list_kind or f"{names.kind}List",
        short_names=tuple(names.short_names),
        categories=tuple(names.categories),
    )

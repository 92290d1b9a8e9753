"""RuntimeClass validation (kubernetes pkg/apis/node/validation: ValidateRuntimeClass and
ValidateRuntimeClassUpdate): the handler a DNS label, fixed once made; the overhead's quantities as
a container's limits are checked; the scheduling's node selector as labels, its tolerations as a
pod's."""

from __future__ import annotations

from collections.abc import Mapping

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import immutable
from apiserver.validation.meta import object_meta
from apiserver.validation.tolerations import tolerations
from podplane.api.node.v1 import node_pb2
from podplane.apimachinery import quantity

# The single-word resources a container may ask for (IsStandardContainerResourceName).
_CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")
_HUGE_PAGES_PREFIX = "hugepages-"
# Other single-word names Kubernetes knows (IsStandardResourceName): not a container's.
_STANDARD_RESOURCES = frozenset(
    {
        "pods",
        "services",
        "replicationcontrollers",
        "resourcequotas",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "storage",
        "requests.cpu",
        "requests.memory",
        "requests.ephemeral-storage",
        "requests.storage",
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
        "services.nodeports",
        "services.loadbalancers",
    }
)


def runtime_class(rc: node_pb2.RuntimeClass) -> list[FieldError]:
    errs = object_meta(rc.metadata, namespaced=False)
    errs += fields.dns1123_label("handler", rc.handler)
    if rc.HasField("overhead"):
        errs += pod_fixed("overhead.limits", rc.overhead.pod_fixed, "overhead")
    if rc.HasField("scheduling"):
        errs += fields.label_map("scheduling.nodeSelector", rc.scheduling.node_selector)
        errs += tolerations("scheduling.tolerations", rc.scheduling.tolerations)
    return errs


def runtime_class_update(
    new: node_pb2.RuntimeClass, old: node_pb2.RuntimeClass
) -> list[FieldError]:
    return runtime_class(new) + immutable("handler", new.handler, old.handler)


def pod_fixed(path: str, resources: Mapping[str, str], whole: str) -> list[FieldError]:
    """Quantities checked as a container's limits (ValidateResourceRequirements): names a
    container may use, values not negative, whole numbers for extended resources; huge pages only
    beside cpu or memory (reported at `whole`)."""
    errs: list[FieldError] = []
    for name, value in sorted(resources.items()):
        p = f"{path}[{name}]"
        errs += _resource_name(p, name)
        try:
            q = quantity.parse(value)
        except quantity.QuantityError as e:
            errs.append(fields.invalid(p, value, str(e)))
            continue
        if q < 0:
            errs.append(fields.invalid(p, value, "must be greater than or equal to 0"))
        elif "/" in name and not _native(name) and q != q.to_integral_value():
            errs.append(fields.invalid(p, value, "must be an integer"))
    huge_pages = any(n.startswith(_HUGE_PAGES_PREFIX) for n in resources)
    if huge_pages and not {"cpu", "memory"} & set(resources):
        errs.append(fields.forbidden(whole, "HugePages require cpu or memory"))
    return errs


def _native(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def _resource_name(path: str, name: str) -> list[FieldError]:
    errs = fields.qualified_name(path, name)
    if errs:
        return errs
    if "/" not in name:
        if name in _CONTAINER_RESOURCES or name.startswith(_HUGE_PAGES_PREFIX):
            return []
        if name not in _STANDARD_RESOURCES:
            detail = "must be a standard resource type or fully qualified"
            return [fields.invalid(path, name, detail)]
        return [fields.invalid(path, name, "must be a standard resource for containers")]
    if not _native(name) and (
        name.startswith("requests.") or fields.qualified_name(path, f"requests.{name}")
    ):
        return [fields.invalid(path, name, "doesn't follow extended resource name standard")]
    return []

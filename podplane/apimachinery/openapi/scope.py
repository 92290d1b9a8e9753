"""One resource's place in the REST API: its path prefix, its definitions, its subresources
and how its operations are named (Kubernetes' operation ids and tags)."""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.message import Message

from podplane.apimachinery.openapi.parameters import NAMESPACE, GroupVersionKind, Parameter
from podplane.apimachinery.openapi.schemas import message_name
from podplane.apimachinery.resources import ComputedResource, CreateOnlyResource, Resource

# The subresources each resource serves, as apiserver/endpoints/rest/discovery.py's SUBRESOURCES
# lists them (machinery cannot import a service; a unit test holds the two tables equal).
SUBRESOURCES: dict[str, tuple[str, ...]] = {
    "pods": (
        "status",
        "binding",
        "log",
        "exec",
        "attach",
        "portforward",
        "ephemeralcontainers",
        "eviction",
    ),
    "nodes": ("proxy", "status"),
    "namespaces": ("status",),
    "replicationcontrollers": ("status", "scale"),
    "replicasets": ("status", "scale"),
    "deployments": ("status", "scale"),
    "statefulsets": ("status", "scale"),
    "jobs": ("status",),
    "persistentvolumes": ("status",),
    "persistentvolumeclaims": ("status",),
    "services": ("status",),
    "serviceaccounts": ("token",),
    "poddisruptionbudgets": ("status",),
    "resourcequotas": ("status",),
    "horizontalpodautoscalers": ("status",),
    "ingresses": ("status",),
    "volumeattachments": ("status",),
    "flowschemas": ("status",),
    "prioritylevelconfigurations": ("status",),
    "certificatesigningrequests": ("approval", "status"),
    "apiservices": ("status",),
    "validatingadmissionpolicies": ("status",),
}


def capitalized(word: str, first: bool = True) -> str:
    """Kubernetes' ToValidOperationID: letters, digits and _ kept (a leading digit dropped), the
    first of each run after another character capitalized; the very first only if `first`."""
    out, upper = [], first
    for i, ch in enumerate(word):
        if ch.isalpha() or ch == "_" or (i and ch.isdigit()):
            out.append(ch.upper() if upper else ch)
            upper = False
        else:
            upper = True
    return "".join(out)


@dataclass(frozen=True)
class Scope:
    """One resource's place in the API: its path prefix and how its operations are named."""

    resource: Resource | CreateOnlyResource | ComputedResource
    group: str
    version: str
    # A custom resource's: its definitions' names and its subresources (a built-in kind's come
    # from its messages and SUBRESOURCES).
    definition_name: str = ""
    list_definition_name: str = ""
    subresources: tuple[str, ...] | None = None

    @property
    def definition(self) -> str:
        return self.definition_name or message_name(self.resource.message)

    @property
    def list_definition(self) -> str:
        return self.list_definition_name or message_name(list_message(self.resource))

    @property
    def served_subresources(self) -> tuple[str, ...]:
        if self.subresources is not None:
            return self.subresources
        return SUBRESOURCES.get(self.resource.plural, ())

    @property
    def prefix(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    @property
    def id_infix(self) -> str:  # CoreV1, AppsV1, CoordinationV1
        group = self.group.removesuffix(".k8s.io") or "core"
        return capitalized(group) + capitalized(self.version)

    @property
    def tag(self) -> str:  # core_v1, coordination_v1
        group = self.group.removesuffix(".k8s.io") or "core"
        return f"{capitalized(group, first=False)}_{capitalized(self.version, first=False)}"

    @property
    def kind(self) -> GroupVersionKind:
        return GroupVersionKind(self.group, self.version, self.resource.kind)

    @property
    def namespaced(self) -> str:
        return "Namespaced" if self.resource.namespaced else ""

    @property
    def path_parameters(self) -> tuple[Parameter, ...]:
        return (NAMESPACE,) if self.resource.namespaced else ()

    @property
    def name(self) -> Parameter:
        return Parameter("name", "path", "string", f"The name of the {self.resource.kind}.")

    def op_id(
        self,
        verb: str,
        subresource: str = "",
        *,
        collection: bool = False,
        all_namespaces: bool = False,
    ) -> str:
        """Kubernetes' operation id: readCoreV1NamespacedPodStatus,
        deleteAppsV1CollectionNamespacedDeployment, listCoreV1PodForAllNamespaces."""
        return (
            f"{verb}{self.id_infix}{'Collection' if collection else ''}"
            f"{'' if all_namespaces else self.namespaced}{self.resource.kind}"
            f"{capitalized(subresource)}{'ForAllNamespaces' if all_namespaces else ''}"
        )


def list_message(r: Resource | CreateOnlyResource | ComputedResource) -> type[Message]:
    if isinstance(r, CreateOnlyResource):
        raise ValueError(f"{r.kind} is created only: it has no list")
    return r.list_message

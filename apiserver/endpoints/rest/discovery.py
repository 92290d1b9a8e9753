"""Discovery documents (k8s.io/apiserver/pkg/endpoints/discovery): /version, /api, /api/v1,
/apis and /apis/<group>/<version>, built from the table of kinds and the established
CustomResourceDefinitions (apiserver/registry/served.py; k8s.io/apiextensions-apiserver's
discovery controller), so `kubectl api-resources`, kubectl's REST mapper and every client-go
program find what the server serves.

kubectl asks for aggregated discovery (apidiscovery.k8s.io/v2) first, which is built from these
documents (aggregated_discovery.py)."""

from __future__ import annotations

import base64
import hashlib
import platform
from collections.abc import Iterable
from dataclasses import dataclass

from apiserver.aggregator.backends import Backend
from apiserver.aggregator.discovery import merged_group_versions
from apiserver.registry.served import CustomResourceVersion, ServedResources
from podplane.apimachinery import resources
from podplane.apimachinery.apiextensions.definitions import version_priority
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.openapi.parameters import NO_DELETE_COLLECTION
from podplane.apimachinery.resources import CreateOnlyResource, Resource

# The Kubernetes release whose API podplane serves.
KUBERNETES_VERSION = "v1.31.0"

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


@dataclass(frozen=True)
class Subresource:
    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str = ""
    version: str = ""


_STATUS = ("get", "patch", "update")
_SCALE = Subresource("scale", "Scale", _STATUS, "autoscaling", "v1")
SUBRESOURCES: dict[str, tuple[Subresource, ...]] = {
    "pods": (
        Subresource("status", "Pod", _STATUS),
        Subresource("binding", "Binding", ("create",)),
        Subresource("log", "Pod", ("get",)),
        Subresource("exec", "PodExecOptions", ("create", "get")),
        Subresource("attach", "PodAttachOptions", ("create", "get")),
        Subresource("portforward", "PodPortForwardOptions", ("create", "get")),
        Subresource("ephemeralcontainers", "Pod", _STATUS),
        # kubectl drain evicts (rather than deletes) when it finds this, in the version it names.
        Subresource("eviction", "Eviction", ("create",), "policy", "v1"),
    ),
    "nodes": (
        Subresource("proxy", "NodeProxyOptions", ("create", "delete", "get", "patch", "update")),
        Subresource("status", "Node", _STATUS),
    ),
    "namespaces": (Subresource("status", "Namespace", _STATUS),),
    "replicationcontrollers": (Subresource("status", "ReplicationController", _STATUS), _SCALE),
    "replicasets": (Subresource("status", "ReplicaSet", _STATUS), _SCALE),
    "deployments": (Subresource("status", "Deployment", _STATUS), _SCALE),
    "statefulsets": (Subresource("status", "StatefulSet", _STATUS), _SCALE),
    "jobs": (Subresource("status", "Job", _STATUS),),
    "persistentvolumes": (Subresource("status", "PersistentVolume", _STATUS),),
    "persistentvolumeclaims": (Subresource("status", "PersistentVolumeClaim", _STATUS),),
    "services": (Subresource("status", "Service", _STATUS),),
    "serviceaccounts": (
        Subresource("token", "TokenRequest", ("create",), "authentication.k8s.io", "v1"),
    ),
    "poddisruptionbudgets": (Subresource("status", "PodDisruptionBudget", _STATUS),),
    "resourcequotas": (Subresource("status", "ResourceQuota", _STATUS),),
    "horizontalpodautoscalers": (Subresource("status", "HorizontalPodAutoscaler", _STATUS),),
    "ingresses": (Subresource("status", "Ingress", _STATUS),),
    "volumeattachments": (Subresource("status", "VolumeAttachment", _STATUS),),
    "flowschemas": (Subresource("status", "FlowSchema", _STATUS),),
    "prioritylevelconfigurations": (Subresource("status", "PriorityLevelConfiguration", _STATUS),),
    "certificatesigningrequests": (
        Subresource("approval", "CertificateSigningRequest", _STATUS),
        Subresource("status", "CertificateSigningRequest", _STATUS),
    ),
    "apiservices": (Subresource("status", "APIService", _STATUS),),
    "validatingadmissionpolicies": (Subresource("status", "ValidatingAdmissionPolicy", _STATUS),),
}


def group_of(r: Resource | CreateOnlyResource) -> str:
    """ "" for the core group (apiVersion v1), else the group (apps for apps/v1)."""
    return r.api_version.rpartition("/")[0]


def version_of(r: Resource | CreateOnlyResource) -> str:
    return r.api_version.rpartition("/")[2]


def _discovered(served: ServedResources) -> list[CustomResourceVersion]:
    """The custom resource versions discovery lists: those of established definitions."""
    return [c for c in served.custom.values() if c.established]


def group_versions(served: ServedResources) -> dict[str, list[str]]:
    """Each named group's versions (the core group, "", is served at /api), the preferred
    first: the built-in groups in the table's order, then the custom resources' groups, their
    versions in Kubernetes' version order."""
    out: dict[str, list[str]] = {}
    for r in resources.IN_TABLE_ORDER:
        versions = out.setdefault(group_of(r), [])
        if version_of(r) not in versions:
            versions.append(version_of(r))
    custom: dict[str, set[str]] = {}
    for c in _discovered(served):
        custom.setdefault(c.resource.group, set()).add(c.resource.version)
    for group in sorted(custom):
        known = out.setdefault(group, [])
        known.extend(sorted(custom[group] - set(known), key=version_priority))
    return out


def storage_version_hash(r: Resource) -> str:
    """An opaque hash of the kind's storage version, as Kubernetes publishes for storage
    migrators: the same for as long as the kind is stored in the same version, whichever version
    it is served at."""
    if r in resources.OTHER_VERSIONS:  # stored as its kind's storage version (events: core v1)
        r = next(s for s in resources.ALL if (s.plural, s.kind) == (r.plural, r.kind))
    digest = hashlib.sha256(f"{group_of(r)}/{version_of(r)}/{r.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


# platform.machine()'s names for what Go calls GOARCH, the architecture /version names.
_GOARCH = {
    "x86_64": "amd64",
    "aarch64": "arm64",
    "armv7l": "arm",
    "i686": "386",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
}


def version_info() -> dict[str, str]:
    major, minor = KUBERNETES_VERSION.lstrip("v").split(".")[:2]
    machine = platform.machine().lower()
    return {
        "major": major,
        "minor": minor,
        "gitVersion": KUBERNETES_VERSION + "+podplane",
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": "",
        "goVersion": "python" + platform.python_version(),
        "compiler": "cpython",
        "platform": f"{platform.system().lower()}/{_GOARCH.get(machine, machine)}",
    }


def api_versions() -> JSONObject:
    """/api: the core group's versions."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}],
    }


def _group(name: str, versions: Iterable[str]) -> JSONObject:
    listed = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": listed, "preferredVersion": listed[0]}


def _all_group_versions(
    served: ServedResources, aggregated: Iterable[Backend]
) -> dict[str, list[str]]:
    return merged_group_versions(group_versions(served), aggregated)


def api_group_list(served: ServedResources, aggregated: Iterable[Backend] = ()) -> JSONObject:
    """/apis: every named group with its versions, the aggregated APIs' included."""
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group(g, vs) for g, vs in _all_group_versions(served, aggregated).items() if g],
    }


def api_group(
    served: ServedResources, name: str, aggregated: Iterable[Backend] = ()
) -> JSONObject | None:
    """/apis/<group>: one group, or None when it is not served."""
    versions = _all_group_versions(served, aggregated).get(name)
    if not name or versions is None:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def _custom_entries(c: CustomResourceVersion) -> list[JSONObject]:
    """A custom resource's entry and its subresources' (the discovery controller's)."""
    r = c.resource
    entry: JSONObject = {
        "name": r.plural,
        "singularName": r.singular,
        "namespaced": r.namespaced,
        "kind": r.kind,
        "verbs": VERBS,
    }
    if r.short_names:
        entry["shortNames"] = list(r.short_names)
    if r.categories:
        entry["categories"] = list(r.categories)
    entry["storageVersionHash"] = storage_version_hash(r)
    out = [entry]
    for sub in c.subresources:
        item: JSONObject = {
            "name": f"{r.plural}/{sub}",
            "singularName": "",
            "namespaced": r.namespaced,
            "kind": r.kind if sub == "status" else "Scale",
            "verbs": list(_STATUS),
        }
        if sub == "scale":
            item.update(group="autoscaling", version="v1")
        out.append(item)
    return out


def api_resource_list(served: ServedResources, group: str, version: str) -> JSONObject | None:
    """/api/v1 or /apis/<group>/<version>: the resources of a group version, with their
    subresources, verbs, short names and categories; None when the version is not served."""
    builtin = [
        r for r in resources.ALL_VERSIONS if group_of(r) == group and version_of(r) == version
    ]
    create_only = [
        r for r in resources.CREATE_ONLY if group_of(r) == group and version_of(r) == version
    ]
    custom = [
        c for c in _discovered(served) if (c.resource.group, c.resource.version) == (group, version)
    ]
    if not builtin and not create_only and not custom:
        return None
    listed: list[JSONObject] = [
        {
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": ["create"],
        }
        for r in create_only
    ]
    for c in custom:
        listed.extend(_custom_entries(c))
    for r in builtin:
        entry: JSONObject = {
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": [v for v in VERBS if v != "deletecollection"]
            if r.plural in NO_DELETE_COLLECTION
            else VERBS,
        }
        if r.short_names:
            entry["shortNames"] = list(r.short_names)
        if r.categories:
            entry["categories"] = list(r.categories)
        entry["storageVersionHash"] = storage_version_hash(r)
        listed.append(entry)
        for sub in SUBRESOURCES.get(r.plural, ()):
            item: JSONObject = {
                "name": f"{r.plural}/{sub.name}",
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": sub.kind,
                "verbs": list(sub.verbs),
            }
            if sub.group:
                item.update(group=sub.group, version=sub.version)
            listed.append(item)
    if group == "" and version == "v1":  # pods/binding's kind, also served on its own
        listed.append(
            {
                "name": "bindings",
                "singularName": "binding",
                "namespaced": True,
                "kind": "Binding",
                "verbs": ["create"],
            }
        )
    for computed in resources.COMPUTED:  # computed on each read: get and list, no storage
        if (computed.group, computed.version) == (group, version):
            listed.append(
                {
                    "name": computed.plural,
                    "singularName": computed.singular,
                    "namespaced": computed.namespaced,
                    "kind": computed.kind,
                    "verbs": ["get", "list"],
                    "shortNames": list(computed.short_names),
                }
            )
    listed.sort(key=lambda e: e["name"])
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": listed,
    }

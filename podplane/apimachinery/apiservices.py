"""The APIServices of the groups this apiserver serves itself (kube-aggregator's autoregister and
crdregistration controllers, kubernetes pkg/controlplane/apiserver/aggregator.go): one per
built-in group/version, `<version>.<group>` ("v1." for the core group), with the group's place
in Kubernetes' table of priorities, and one per served version of a CustomResourceDefinition;
each local (no service) and Available "Local"."""

from __future__ import annotations

from podplane.api.apiextensions.v1 import apiextensions_pb2
from podplane.api.apiregistration.v1 import apiregistration_pb2
from podplane.apimachinery import resources, timeutil

APIService = apiregistration_pb2.APIService

# Who keeps an APIService, and how: "onstart" (a built-in group's: its spec set when the server
# starts) or "true" (a custom resource's: kept while its definition serves the version).
AUTOMANAGED_LABEL = "kube-aggregator.kubernetes.io/automanaged"
MANAGE_ON_START = "onstart"
MANAGE_CONTINUOUSLY = "true"

AVAILABLE = "Available"
LOCAL_REASON = "Local"
LOCAL_MESSAGE = "Local APIServices are always available"

# Kubernetes' apiVersionPriorities (group, version) -> (groupPriorityMinimum, versionPriority),
# the rows of the groups' served versions: a group/version missing from it gets no APIService
# ("it could result in a CRD group version being permanently stuck in the APIServices list").
PRIORITIES: dict[tuple[str, str], tuple[int, int]] = {
    ("", "v1"): (18000, 1),
    ("apps", "v1"): (17800, 15),
    ("events.k8s.io", "v1"): (17750, 15),
    ("authentication.k8s.io", "v1"): (17700, 15),
    ("authorization.k8s.io", "v1"): (17600, 15),
    ("autoscaling", "v1"): (17500, 15),
    ("autoscaling", "v2"): (17500, 30),
    ("batch", "v1"): (17400, 15),
    ("certificates.k8s.io", "v1"): (17300, 15),
    ("networking.k8s.io", "v1"): (17200, 15),
    ("policy", "v1"): (17100, 15),
    ("rbac.authorization.k8s.io", "v1"): (17000, 15),
    ("storage.k8s.io", "v1"): (16800, 15),
    ("apiextensions.k8s.io", "v1"): (16700, 15),
    ("admissionregistration.k8s.io", "v1"): (16700, 15),
    ("scheduling.k8s.io", "v1"): (16600, 15),
    ("coordination.k8s.io", "v1"): (16500, 15),
    ("node.k8s.io", "v1"): (16300, 15),
    ("discovery.k8s.io", "v1"): (16200, 15),
    ("flowcontrol.apiserver.k8s.io", "v1"): (16100, 21),
}
# A custom resource's (crdregistration): low, its versions ordered as any other's.
CUSTOM_RESOURCE_PRIORITIES = (1000, 100)


def name_of(group: str, version: str) -> str:
    return f"{version}.{group}"


def local(group: str, version: str, priorities: tuple[int, int], managed: str) -> APIService:
    """The local APIService of a group/version, labelled as kept by `managed`."""
    obj = APIService(api_version=resources.API_SERVICE.api_version, kind="APIService")
    obj.metadata.name = name_of(group, version)
    obj.metadata.labels[AUTOMANAGED_LABEL] = managed
    obj.spec.group, obj.spec.version = group, version
    obj.spec.group_priority_minimum, obj.spec.version_priority = priorities
    return obj


def built_in() -> dict[str, APIService]:
    """The APIServices of the built-in group/versions this server serves that Kubernetes' table
    has, by name."""
    out: dict[str, APIService] = {}
    for r in resources.SERVED:
        group, _, version = r.api_version.rpartition("/")
        priorities = PRIORITIES.get((group, version))
        if priorities is not None:
            out[name_of(group, version)] = local(group, version, priorities, MANAGE_ON_START)
    return out


def of_definitions(
    definitions: list[apiextensions_pb2.CustomResourceDefinition],
) -> dict[str, APIService]:
    """The APIServices of the definitions' served versions, by name."""
    out: dict[str, APIService] = {}
    for crd in definitions:
        for v in crd.spec.versions:
            if v.served:
                out[name_of(crd.spec.group, v.name)] = local(
                    crd.spec.group, v.name, CUSTOM_RESOURCE_PRIORITIES, MANAGE_CONTINUOUSLY
                )
    return out


def set_local_available(obj: APIService) -> None:
    """NewLocalAvailableAPIServiceCondition, set as SetAPIServiceCondition sets it (the
    transition time kept while the status stays)."""
    for c in obj.status.conditions:
        if c.type == AVAILABLE:
            if c.status != "True":
                c.status, c.last_transition_time = "True", timeutil.now()
            c.reason, c.message = LOCAL_REASON, LOCAL_MESSAGE
            return
    obj.status.conditions.add(
        type=AVAILABLE,
        status="True",
        last_transition_time=timeutil.now(),
        reason=LOCAL_REASON,
        message=LOCAL_MESSAGE,
    )

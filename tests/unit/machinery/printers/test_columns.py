"""Each kind's column definitions are Kubernetes' (pkg/printers/internalversion/printers.go,
v1.32): the same names in the same order, types, formats and priorities, so that kubectl prints
podplane's tables as it prints a Kubernetes cluster's, -o wide included."""

from __future__ import annotations

import pytest

from podplane.apimachinery import resources
from podplane.apimachinery.resources import Resource
from podplane.printers.registry import table_for
from podplane.printers.spec import CREATION_TIMESTAMP_DOC, OBJECT_NAME_DOC

NAME = ("Name", "string", "name", 0)
AGE = ("Age", "string", "", 0)
WIDE_TEMPLATE = (
    ("Containers", "string", "", 1),
    ("Images", "string", "", 1),
    ("Selector", "string", "", 1),
)
BINDING = (
    NAME,
    ("Role", "string", "", 0),
    AGE,
    ("Users", "string", "", 1),
    ("Groups", "string", "", 1),
    ("ServiceAccounts", "string", "", 1),
)

# (name, type, format, priority) of every column, as AddHandlers declares them.
KUBERNETES_COLUMNS: dict[str, tuple[tuple[str, str, str, int], ...]] = {
    "daemonsets": (
        NAME,
        ("Desired", "integer", "", 0),
        ("Current", "integer", "", 0),
        ("Ready", "integer", "", 0),
        ("Up-to-date", "integer", "", 0),
        ("Available", "integer", "", 0),
        ("Node Selector", "string", "", 0),
        AGE,
        *WIDE_TEMPLATE,
    ),
    "statefulsets": (
        NAME,
        ("Ready", "string", "", 0),
        AGE,
        ("Containers", "string", "", 1),
        ("Images", "string", "", 1),
    ),
    "controllerrevisions": (
        NAME,
        ("Controller", "string", "", 0),
        ("Revision", "string", "", 0),
        AGE,
    ),
    "cronjobs": (
        NAME,
        ("Schedule", "string", "", 0),
        ("Timezone", "string", "", 0),
        ("Suspend", "boolean", "", 0),
        ("Active", "integer", "", 0),
        ("Last Schedule", "string", "", 0),
        AGE,
        *WIDE_TEMPLATE,
    ),
    "poddisruptionbudgets": (
        NAME,
        ("Min Available", "string", "", 0),
        ("Max Unavailable", "string", "", 0),
        ("Allowed Disruptions", "integer", "", 0),
        AGE,
    ),
    "priorityclasses": (
        NAME,
        ("Value", "integer", "", 0),
        ("Global-Default", "boolean", "", 0),
        AGE,
        ("PreemptionPolicy", "string", "", 0),
    ),
    "runtimeclasses": (NAME, ("Handler", "string", "", 0), AGE),
    "certificatesigningrequests": (
        NAME,
        ("Age", "date", "", 0),
        ("SignerName", "string", "", 0),
        ("Requestor", "string", "", 0),
        ("RequestedDuration", "string", "", 0),
        ("Condition", "string", "", 0),
    ),
    "customresourcedefinitions": (NAME, ("Created At", "date", "", 0)),
    "apiservices": (NAME, ("Service", "string", "", 0), ("Available", "string", "", 0), AGE),
    "mutatingwebhookconfigurations": (NAME, ("Webhooks", "integer", "", 0), AGE),
    "validatingwebhookconfigurations": (NAME, ("Webhooks", "integer", "", 0), AGE),
    "validatingadmissionpolicies": (
        NAME,
        ("Validations", "integer", "", 0),
        ("ParamKind", "string", "", 0),
        AGE,
    ),
    "validatingadmissionpolicybindings": (
        NAME,
        ("PolicyName", "string", "", 0),
        ("ParamRef", "string", "", 0),
        AGE,
    ),
    "pods": (
        NAME,
        ("Ready", "string", "", 0),
        ("Status", "string", "", 0),
        ("Restarts", "string", "", 0),
        AGE,
        ("IP", "string", "", 1),
        ("Node", "string", "", 1),
        ("Nominated Node", "string", "", 1),
        ("Readiness Gates", "string", "", 1),
    ),
    "nodes": (
        NAME,
        ("Status", "string", "", 0),
        ("Roles", "string", "", 0),
        AGE,
        ("Version", "string", "", 0),
        ("Internal-IP", "string", "", 1),
        ("External-IP", "string", "", 1),
        ("OS-Image", "string", "", 1),
        ("Kernel-Version", "string", "", 1),
        ("Container-Runtime", "string", "", 1),
    ),
    "namespaces": (NAME, ("Status", "string", "", 0), AGE),
    "events": (
        ("Last Seen", "string", "", 0),
        ("Type", "string", "", 0),
        ("Reason", "string", "", 0),
        ("Object", "string", "", 0),
        ("Subobject", "string", "", 1),
        ("Source", "string", "", 1),
        ("Message", "string", "", 0),
        ("First Seen", "string", "", 1),
        ("Count", "string", "", 1),
        ("Name", "string", "name", 1),
    ),
    "leases": (NAME, ("Holder", "string", "", 0), AGE),
    "configmaps": (NAME, ("Data", "string", "", 0), AGE),
    "podtemplates": (
        NAME,
        ("Containers", "string", "", 0),
        ("Images", "string", "", 0),
        ("Pod Labels", "string", "", 0),
    ),
    "limitranges": (NAME, ("Created At", "date", "", 0)),
    "resourcequotas": (NAME, AGE, ("Request", "string", "", 0), ("Limit", "string", "", 0)),
    "horizontalpodautoscalers": (
        NAME,
        ("Reference", "string", "", 0),
        ("Targets", "string", "", 0),
        ("MinPods", "string", "", 0),
        ("MaxPods", "integer", "", 0),
        ("Replicas", "integer", "", 0),
        AGE,
    ),
    "ingresses": (
        NAME,
        ("Class", "string", "", 0),
        ("Hosts", "string", "", 0),
        ("Address", "string", "", 0),
        ("Ports", "string", "", 0),
        AGE,
    ),
    "ingressclasses": (
        NAME,
        ("Controller", "string", "", 0),
        ("Parameters", "string", "", 0),
        AGE,
    ),
    "networkpolicies": (NAME, ("Pod-Selector", "string", "", 0), AGE),
    "flowschemas": (
        NAME,
        ("PriorityLevel", "string", "", 0),
        ("MatchingPrecedence", "string", "", 0),
        ("DistinguisherMethod", "string", "", 0),
        AGE,
        ("MissingPL", "string", "", 0),
    ),
    "prioritylevelconfigurations": (
        NAME,
        ("Type", "string", "", 0),
        ("NominalConcurrencyShares", "string", "", 0),
        ("Queues", "string", "", 0),
        ("HandSize", "string", "", 0),
        ("QueueLengthLimit", "string", "", 0),
        AGE,
    ),
    "secrets": (NAME, ("Type", "string", "", 0), ("Data", "string", "", 0), AGE),
    "serviceaccounts": (NAME, ("Secrets", "string", "", 0), AGE),
    "replicationcontrollers": (
        NAME,
        ("Desired", "integer", "", 0),
        ("Current", "integer", "", 0),
        ("Ready", "integer", "", 0),
        AGE,
        *WIDE_TEMPLATE,
    ),
    "replicasets": (
        NAME,
        ("Desired", "integer", "", 0),
        ("Current", "integer", "", 0),
        ("Ready", "integer", "", 0),
        AGE,
        *WIDE_TEMPLATE,
    ),
    "deployments": (
        NAME,
        ("Ready", "string", "", 0),
        ("Up-to-date", "string", "", 0),
        ("Available", "string", "", 0),
        AGE,
        *WIDE_TEMPLATE,
    ),
    "jobs": (
        NAME,
        ("Status", "string", "", 0),
        ("Completions", "string", "", 0),
        ("Duration", "string", "", 0),
        AGE,
        *WIDE_TEMPLATE,
    ),
    "persistentvolumes": (
        NAME,
        ("Capacity", "string", "", 0),
        ("Access Modes", "string", "", 0),
        ("Reclaim Policy", "string", "", 0),
        ("Status", "string", "", 0),
        ("Claim", "string", "", 0),
        ("StorageClass", "string", "", 0),
        ("VolumeAttributesClass", "string", "", 0),
        ("Reason", "string", "", 0),
        AGE,
        ("VolumeMode", "string", "", 1),
    ),
    "persistentvolumeclaims": (
        NAME,
        ("Status", "string", "", 0),
        ("Volume", "string", "", 0),
        ("Capacity", "string", "", 0),
        ("Access Modes", "string", "", 0),
        ("StorageClass", "string", "", 0),
        ("VolumeAttributesClass", "string", "", 0),
        AGE,
        ("VolumeMode", "string", "", 1),
    ),
    "storageclasses": (
        NAME,
        ("Provisioner", "string", "", 0),
        ("ReclaimPolicy", "string", "", 0),
        ("VolumeBindingMode", "string", "", 0),
        ("AllowVolumeExpansion", "string", "", 0),
        AGE,
    ),
    "csidrivers": (
        NAME,
        ("AttachRequired", "boolean", "", 0),
        ("PodInfoOnMount", "boolean", "", 0),
        ("StorageCapacity", "boolean", "", 0),
        ("TokenRequests", "string", "", 0),
        ("RequiresRepublish", "boolean", "", 0),
        ("Modes", "string", "", 0),
        AGE,
    ),
    "csinodes": (NAME, ("Drivers", "integer", "", 0), AGE),
    "csistoragecapacities": (
        NAME,
        ("StorageClassName", "string", "", 0),
        ("Capacity", "string", "", 0),
    ),
    "volumeattachments": (
        NAME,
        ("Attacher", "string", "name", 0),
        ("PV", "string", "", 0),
        ("Node", "string", "", 0),
        ("Attached", "boolean", "", 0),
        AGE,
    ),
    "services": (
        NAME,
        ("Type", "string", "", 0),
        ("Cluster-IP", "string", "", 0),
        ("External-IP", "string", "", 0),
        ("Port(s)", "string", "", 0),
        AGE,
        ("Selector", "string", "", 1),
    ),
    "endpoints": (NAME, ("Endpoints", "string", "", 0), AGE),
    "endpointslices": (
        NAME,
        ("AddressType", "string", "", 0),
        ("Ports", "string", "", 0),
        ("Endpoints", "string", "", 0),
        AGE,
    ),
    "roles": (NAME, ("Created At", "date", "", 0)),
    "clusterroles": (NAME, ("Created At", "date", "", 0)),
    "rolebindings": BINDING,
    "clusterrolebindings": BINDING,
}

# A few descriptions, word for word (the rest are k8s.io/api's swagger docs likewise).
KUBERNETES_DESCRIPTIONS = [
    ("rolebindings", "Users", "Users in the roleBinding"),
    ("clusterrolebindings", "ServiceAccounts", "ServiceAccounts in the clusterRoleBinding"),
    (
        "pods",
        "Restarts",
        "The number of times the containers in this pod have been restarted "
        "and when the last container in this pod has restarted.",
    ),
    (
        "pods",
        "IP",
        "podIP address allocated to the pod. Routable at least within the cluster. "
        "Empty if not yet allocated.",
    ),
    ("nodes", "Status", "The status of the node"),
    ("events", "Count", "The number of times this event has occurred."),
    ("replicasets", "Ready", "The number of ready replicas for this replica set."),
    ("deployments", "Ready", "Number of the pod with ready state"),
    ("jobs", "Status", "Status of the job."),
    ("jobs", "Duration", "Time required to complete the job."),
    (
        "services",
        "Port(s)",
        "The list of ports that are exposed by this service. More info: "
        "https://kubernetes.io/docs/concepts/services-networking/service/"
        "#virtual-ips-and-service-proxies",
    ),
    (
        "endpointslices",
        "Endpoints",
        "endpoints is a list of unique endpoints in this slice. Each slice may include a "
        "maximum of 1000 endpoints.",
    ),
    ("persistentvolumes", "StorageClass", "StorageClass of the pv"),
    ("persistentvolumeclaims", "StorageClass", "StorageClass of the pvc"),
    ("storageclasses", "Provisioner", "provisioner indicates the type of the provisioner."),
    (
        "replicationcontrollers",
        "Desired",
        "Replicas is the number of desired replicas. This is a pointer to distinguish between "
        "explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/"
        "concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller",
    ),
    (
        "replicasets",
        "Desired",
        "Replicas is the number of desired replicas. This is a pointer to distinguish between "
        "explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/"
        "concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller",
    ),
]


def test_every_kind_served_has_a_table() -> None:
    assert sorted(KUBERNETES_COLUMNS) == sorted(r.plural for r in resources.ALL)


@pytest.mark.parametrize("resource", resources.ALL, ids=lambda r: r.plural)
def test_columns_are_kubernetes(resource: Resource) -> None:
    columns = table_for(resource).columns
    assert [(c.name, c.type, c.format, c.priority) for c in columns] == list(
        KUBERNETES_COLUMNS[resource.plural]
    )


@pytest.mark.parametrize("resource", resources.ALL, ids=lambda r: r.plural)
def test_every_column_is_described_and_name_and_age_as_object_meta(resource: Resource) -> None:
    columns = table_for(resource).columns
    assert all(c.description for c in columns)
    assert {c.description for c in columns if c.name == "Name"} == {OBJECT_NAME_DOC}
    assert {c.description for c in columns if c.name == "Age"} <= {CREATION_TIMESTAMP_DOC}


@pytest.mark.parametrize(("plural", "column", "description"), KUBERNETES_DESCRIPTIONS)
def test_descriptions_are_kubernetes(plural: str, column: str, description: str) -> None:
    columns = table_for(resources.by_name(plural)).columns
    assert [c.description for c in columns if c.name == column] == [description]

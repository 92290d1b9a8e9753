"""One object of every kind the API serves, as a cluster would hold it, and the moment their
tables are printed at."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from google.protobuf.message import Message

from podplane.api.admissionregistration.v1 import admissionregistration_pb2 as admreg_pb2
from podplane.api.apps.v1 import apps_pb2
from podplane.api.autoscaling.v2 import autoscaling_pb2
from podplane.api.batch.v1 import batch_pb2
from podplane.api.coordination.v1 import lease_pb2
from podplane.api.core.v1 import core_pb2, quota_pb2, service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.api.storage.v1 import storage_pb2
from podplane.apimachinery import manifest, resources
from podplane.apimachinery.resources import Resource

M = TypeVar("M", bound=Message)

NOW = datetime(2026, 11, 21, 15, 10, 0, tzinfo=UTC)
# Five minutes before NOW.
CREATED = "2026-11-21T15:05:00Z"
TEMPLATE = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {
        "containers": [{"name": "web", "image": "nginx:1.27"}, {"name": "log", "image": "busybox"}]
    },
}


def meta(name: str, namespace: str = "default", **more: Any) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": namespace,
        "creationTimestamp": CREATED,
        "resourceVersion": "42",
        "uid": f"uid-{name}",
        **more,
    }


def obj(message: type[M], data: dict[str, Any]) -> M:
    return manifest.from_dict(data, message)


POD = obj(
    core_pb2.Pod,
    {
        "metadata": meta("web-1", labels={"app": "web"}),
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}], "nodeName": "node-1"},
        "status": {
            "phase": "Running",
            "podIPs": [{"ip": "10.244.1.5"}],
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                {
                    "name": "web",
                    "ready": True,
                    "restartCount": 2,
                    "state": {"running": {"startedAt": "2026-11-21T15:06:00Z"}},
                    "lastState": {
                        "terminated": {
                            "exitCode": 1,
                            "reason": "Error",
                            "finishedAt": "2026-11-21T15:05:30Z",
                        }
                    },
                }
            ],
        },
    },
)
COMPLETED_POD = obj(
    core_pb2.Pod,
    {
        "metadata": meta("once"),
        "spec": {"containers": [{"name": "once", "image": "busybox"}]},
        "status": {
            "phase": "Succeeded",
            "containerStatuses": [
                {"name": "once", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
            ],
        },
    },
)
NODE = obj(
    core_pb2.Node,
    {
        "metadata": {
            **meta("node-1", namespace=""),
            "labels": {"node-role.kubernetes.io/control-plane": ""},
        },
        "status": {
            "conditions": [{"type": "Ready", "status": "True"}],
            "addresses": [{"type": "InternalIP", "address": "172.18.0.2"}],
            "nodeInfo": {
                "kubeletVersion": "v1.32.0",
                "osImage": "Debian GNU/Linux 12",
                "kernelVersion": "6.8.0",
                "containerRuntimeVersion": "docker://27.3.1",
            },
        },
    },
)
NAMESPACE = obj(
    core_pb2.Namespace, {"metadata": meta("team-a", namespace=""), "status": {"phase": "Active"}}
)
EVENT = obj(
    core_pb2.Event,
    {
        "metadata": meta("web-1.181f"),
        "involvedObject": {
            "kind": "Pod",
            "name": "web-1",
            "namespace": "default",
            "fieldPath": "spec.containers{web}",
        },
        "reason": "Pulled",
        "message": 'Successfully pulled image "nginx:1.27"\n',
        "type": "Normal",
        "source": {"component": "kubelet", "host": "node-1"},
        "count": 3,
        "firstTimestamp": "2026-11-21T15:06:00Z",
        "lastTimestamp": "2026-11-21T15:09:30Z",
    },
)
LEASE = obj(
    lease_pb2.Lease,
    {
        "metadata": meta("kube-scheduler", namespace="kube-system"),
        "spec": {"holderIdentity": "scheduler-0_5f2c"},
    },
)
CONFIG_MAP = obj(
    core_pb2.ConfigMap,
    {"metadata": meta("settings"), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}},
)
SECRET = obj(
    core_pb2.Secret, {"metadata": meta("creds"), "type": "Opaque", "data": {"password": "czNjcjN0"}}
)
POD_TEMPLATE = obj(
    core_pb2.PodTemplate,
    {"metadata": meta("web-template"), "template": TEMPLATE},
)
LIMIT_RANGE = obj(
    quota_pb2.LimitRange,
    {
        "metadata": meta("limits"),
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "max": {"cpu": "1", "memory": "1Gi"},
                    "default": {"cpu": "500m"},
                    "defaultRequest": {"cpu": "250m"},
                    "maxLimitRequestRatio": {"cpu": "4"},
                },
                {"type": "PersistentVolumeClaim", "min": {"storage": "1Gi"}},
            ]
        },
    },
)
HORIZONTAL_POD_AUTOSCALER = obj(
    autoscaling_pb2.HorizontalPodAutoscaler,
    {
        "metadata": meta("web"),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 1,
            "maxReplicas": 5,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 50},
                    },
                },
                {
                    "type": "Resource",
                    "resource": {
                        "name": "memory",
                        "target": {"type": "AverageValue", "averageValue": "500Mi"},
                    },
                },
                {
                    "type": "Pods",
                    "pods": {
                        "metric": {"name": "qps"},
                        "target": {"type": "AverageValue", "averageValue": "10"},
                    },
                },
            ],
        },
        "status": {
            "currentReplicas": 2,
            "desiredReplicas": 2,
            "currentMetrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "current": {"averageUtilization": 40}},
                }
            ],
        },
    },
)
RESOURCE_QUOTA = obj(
    quota_pb2.ResourceQuota,
    {
        "metadata": meta("compute"),
        "spec": {
            "hard": {"pods": "10", "requests.cpu": "4", "limits.memory": "8Gi"},
            "scopeSelector": {
                "matchExpressions": [
                    {"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}
                ]
            },
        },
        "status": {
            "hard": {"pods": "10", "requests.cpu": "4", "limits.memory": "8Gi"},
            "used": {"pods": "2", "requests.cpu": "500m", "limits.memory": "256Mi"},
        },
    },
)
REPLICATION_CONTROLLER = obj(
    core_pb2.ReplicationController,
    {
        "metadata": meta("legacy"),
        "spec": {"replicas": 3, "selector": {"app": "web"}, "template": TEMPLATE},
        "status": {"replicas": 3, "readyReplicas": 2},
    },
)
REPLICA_SET = obj(
    apps_pb2.ReplicaSet,
    {
        "metadata": meta("web-5d8f"),
        "spec": {
            "replicas": 2,
            "template": TEMPLATE,
            "selector": {
                "matchLabels": {"app": "web"},
                "matchExpressions": [
                    {"key": "tier", "operator": "In", "values": ["front", "back"]}
                ],
            },
        },
        "status": {"replicas": 2, "readyReplicas": 1},
    },
)
DEPLOYMENT = obj(
    apps_pb2.Deployment,
    {
        "metadata": meta("web"),
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE},
        "status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    },
)
JOB = obj(
    batch_pb2.Job,
    {
        "metadata": meta("pi"),
        "spec": {
            "completions": 3,
            "parallelism": 1,
            "template": TEMPLATE,
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "uid-pi"}},
        },
        "status": {
            "startTime": CREATED,
            "completionTime": "2026-11-21T15:05:42Z",
            "succeeded": 3,
            "conditions": [{"type": "Complete", "status": "True"}],
        },
    },
)
SERVICE = obj(
    service_pb2.Service,
    {
        "metadata": meta("web"),
        "spec": {
            "type": "NodePort",
            "selector": {"app": "web", "tier": "front"},
            "clusterIP": "10.96.12.34",
            "clusterIPs": ["10.96.12.34"],
            "ports": [
                {
                    "name": "http",
                    "port": 80,
                    "targetPort": 8080,
                    "nodePort": 30080,
                    "protocol": "TCP",
                },
                {"name": "dns", "port": 53, "targetPort": 53, "protocol": "UDP", "nodePort": 30053},
            ],
        },
    },
)
ENDPOINTS = obj(
    service_pb2.Endpoints,
    {
        "metadata": meta("web"),
        "subsets": [
            {
                "addresses": [{"ip": "10.244.1.5"}, {"ip": "10.244.2.7"}],
                "notReadyAddresses": [{"ip": "10.244.3.9"}],
                "ports": [
                    {"name": "http", "port": 8080, "protocol": "TCP"},
                    {"name": "dns", "port": 53, "protocol": "UDP"},
                ],
            }
        ],
    },
)
ENDPOINT_SLICE = obj(
    discovery_pb2.EndpointSlice,
    {
        "metadata": meta("web-x7k2p", labels={"kubernetes.io/service-name": "web"}),
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        "endpoints": [
            {"addresses": ["10.244.1.5"], "conditions": {"ready": True}},
            {"addresses": ["10.244.2.7"], "conditions": {"ready": True}},
            {"addresses": ["10.244.3.9"], "conditions": {"ready": False}},
            {"addresses": ["10.244.4.2"], "conditions": {"ready": True}},
        ],
    },
)

PERSISTENT_VOLUME = obj(
    core_pb2.PersistentVolume,
    {
        "metadata": {
            **meta("pvc-1a2b", namespace=""),
            "finalizers": ["kubernetes.io/pv-protection"],
        },
        "spec": {
            "capacity": {"storage": "2Gi"},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": "standard",
            "volumeMode": "Filesystem",
            "claimRef": {"namespace": "default", "name": "data", "uid": "uid-data"},
            "hostPath": {
                "path": "/var/local-path-provisioner/pvc-1a2b_default_data",
                "type": "DirectoryOrCreate",
            },
            "nodeAffinity": {
                "required": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {
                                    "key": "kubernetes.io/hostname",
                                    "operator": "In",
                                    "values": ["node-1"],
                                }
                            ]
                        }
                    ]
                }
            },
        },
        "status": {"phase": "Bound"},
    },
)
PERSISTENT_VOLUME_CLAIM = obj(
    core_pb2.PersistentVolumeClaim,
    {
        "metadata": {
            **meta("data"),
            "finalizers": ["kubernetes.io/pvc-protection"],
            "annotations": {"volume.kubernetes.io/selected-node": "node-1"},
        },
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
            "storageClassName": "standard",
            "volumeMode": "Filesystem",
            "volumeName": "pvc-1a2b",
        },
        "status": {
            "phase": "Bound",
            "accessModes": ["ReadWriteOnce"],
            "capacity": {"storage": "2Gi"},
        },
    },
)
STORAGE_CLASS = obj(
    storage_pb2.StorageClass,
    {
        "metadata": {
            **meta("standard", namespace=""),
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": "rancher.io/local-path",
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
    },
)
_HOOK = {
    "clientConfig": {"url": "https://hooks.example.com"},
    "sideEffects": "None",
    "admissionReviewVersions": ["v1"],
}
MUTATING_WEBHOOK_CONFIGURATION = obj(
    admreg_pb2.MutatingWebhookConfiguration,
    {
        "metadata": meta("sidecars", namespace=""),
        "webhooks": [
            {"name": "inject.sidecars.example.com", **_HOOK},
            {"name": "label.sidecars.example.com", **_HOOK},
        ],
    },
)
VALIDATING_ADMISSION_POLICY = obj(
    admreg_pb2.ValidatingAdmissionPolicy,
    {
        "metadata": meta("replicas", namespace=""),
        "spec": {
            "paramKind": {"apiVersion": "limits.example.com/v1", "kind": "ReplicaLimit"},
            "validations": [{"expression": "true"}, {"expression": "false"}],
        },
    },
)
VALIDATING_ADMISSION_POLICY_BINDING = obj(
    admreg_pb2.ValidatingAdmissionPolicyBinding,
    {
        "metadata": meta("replicas-binding", namespace=""),
        "spec": {
            "policyName": "replicas",
            "paramRef": {"name": "default-limit", "parameterNotFoundAction": "Deny"},
            "validationActions": ["Deny"],
        },
    },
)

# Each kind the API serves, with its sample.
SAMPLES: dict[str, tuple[Resource, Message]] = {
    resources.POD.plural: (resources.POD, POD),
    resources.NODE.plural: (resources.NODE, NODE),
    resources.NAMESPACE.plural: (resources.NAMESPACE, NAMESPACE),
    resources.EVENT.plural: (resources.EVENT, EVENT),
    resources.LEASE.plural: (resources.LEASE, LEASE),
    resources.CONFIG_MAP.plural: (resources.CONFIG_MAP, CONFIG_MAP),
    resources.SECRET.plural: (resources.SECRET, SECRET),
    resources.POD_TEMPLATE.plural: (resources.POD_TEMPLATE, POD_TEMPLATE),
    resources.LIMIT_RANGE.plural: (resources.LIMIT_RANGE, LIMIT_RANGE),
    resources.RESOURCE_QUOTA.plural: (resources.RESOURCE_QUOTA, RESOURCE_QUOTA),
    resources.HORIZONTAL_POD_AUTOSCALER.plural: (
        resources.HORIZONTAL_POD_AUTOSCALER,
        HORIZONTAL_POD_AUTOSCALER,
    ),
    resources.REPLICATION_CONTROLLER.plural: (
        resources.REPLICATION_CONTROLLER,
        REPLICATION_CONTROLLER,
    ),
    resources.REPLICA_SET.plural: (resources.REPLICA_SET, REPLICA_SET),
    resources.DEPLOYMENT.plural: (resources.DEPLOYMENT, DEPLOYMENT),
    resources.JOB.plural: (resources.JOB, JOB),
    resources.PERSISTENT_VOLUME.plural: (resources.PERSISTENT_VOLUME, PERSISTENT_VOLUME),
    resources.PERSISTENT_VOLUME_CLAIM.plural: (
        resources.PERSISTENT_VOLUME_CLAIM,
        PERSISTENT_VOLUME_CLAIM,
    ),
    resources.STORAGE_CLASS.plural: (resources.STORAGE_CLASS, STORAGE_CLASS),
    resources.SERVICE.plural: (resources.SERVICE, SERVICE),
    resources.ENDPOINTS.plural: (resources.ENDPOINTS, ENDPOINTS),
    resources.ENDPOINT_SLICE.plural: (resources.ENDPOINT_SLICE, ENDPOINT_SLICE),
    resources.MUTATING_WEBHOOK_CONFIGURATION.plural: (
        resources.MUTATING_WEBHOOK_CONFIGURATION,
        MUTATING_WEBHOOK_CONFIGURATION,
    ),
    resources.VALIDATING_ADMISSION_POLICY.plural: (
        resources.VALIDATING_ADMISSION_POLICY,
        VALIDATING_ADMISSION_POLICY,
    ),
    resources.VALIDATING_ADMISSION_POLICY_BINDING.plural: (
        resources.VALIDATING_ADMISSION_POLICY_BINDING,
        VALIDATING_ADMISSION_POLICY_BINDING,
    ),
}

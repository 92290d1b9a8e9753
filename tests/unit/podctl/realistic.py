"""A realistic running pod, its node and events, as the cluster would report them."""

from __future__ import annotations

from typing import Any

from podplane.api.core.v1 import core_pb2
from tests.unit.podctl.fakes import obj

POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "web-7d4b9",
        "namespace": "shop",
        "uid": "5f1c",
        "creationTimestamp": "2026-11-21T15:00:00Z",
        "labels": {"app": "web", "tier": "frontend"},
        "annotations": {"team": "storefront"},
        "ownerReferences": [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "web-7d4",
                "uid": "r1",
                "controller": True,
            }
        ],
    },
    "spec": {
        "nodeName": "node-1",
        "serviceAccountName": "default",
        "priority": 0,
        "restartPolicy": "Always",
        "initContainers": [{"name": "migrate", "image": "shop/migrate:2", "command": ["/migrate"]}],
        "containers": [
            {
                "name": "web",
                "image": "nginx:1.27",
                "ports": [{"containerPort": 80, "protocol": "TCP", "name": "http"}],
                "args": ["-g", "daemon off;"],
                "env": [
                    {"name": "MODE", "value": "production"},
                    {
                        "name": "POD_NAME",
                        "valueFrom": {
                            "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}
                        },
                    },
                ],
                "resources": {
                    "limits": {"cpu": "500m", "memory": "128Mi"},
                    "requests": {"cpu": "250m", "memory": "64Mi"},
                },
                "readinessProbe": {
                    "httpGet": {"path": "/healthz", "port": "80", "scheme": "HTTP"},
                    "timeoutSeconds": 1,
                    "periodSeconds": 10,
                    "successThreshold": 1,
                    "failureThreshold": 3,
                },
                "volumeMounts": [
                    {"name": "cache", "mountPath": "/var/cache/nginx"},
                    {"name": "config", "mountPath": "/etc/nginx/conf.d", "readOnly": True},
                ],
            }
        ],
        "volumes": [
            {"name": "cache", "emptyDir": {}},
            {"name": "config", "configMap": {"name": "web-config"}},
        ],
        "nodeSelector": {"disktype": "ssd"},
        "tolerations": [
            {
                "key": "node.kubernetes.io/not-ready",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            }
        ],
    },
    "status": {
        "phase": "Running",
        "hostIP": "172.18.0.3",
        "podIP": "10.244.1.7",
        "podIPs": [{"ip": "10.244.1.7"}],
        "startTime": "2026-11-21T15:00:01Z",
        "conditions": [
            {"type": "Initialized", "status": "True"},
            {"type": "Ready", "status": "True"},
            {"type": "ContainersReady", "status": "True"},
            {"type": "PodScheduled", "status": "True"},
        ],
        "initContainerStatuses": [
            {
                "name": "migrate",
                "ready": True,
                "restartCount": 0,
                "image": "shop/migrate:2",
                "imageID": "docker-pullable://shop/migrate@sha256:aa",
                "containerID": "docker://111",
                "state": {
                    "terminated": {
                        "exitCode": 0,
                        "reason": "Completed",
                        "startedAt": "2026-11-21T15:00:02Z",
                        "finishedAt": "2026-11-21T15:00:04Z",
                    }
                },
            }
        ],
        "containerStatuses": [
            {
                "name": "web",
                "ready": True,
                "restartCount": 1,
                "image": "nginx:1.27",
                "imageID": "docker-pullable://nginx@sha256:bb",
                "containerID": "docker://222",
                "state": {"running": {"startedAt": "2026-11-21T15:02:00Z"}},
                "lastState": {
                    "terminated": {
                        "exitCode": 137,
                        "reason": "OOMKilled",
                        "startedAt": "2026-11-21T15:00:05Z",
                        "finishedAt": "2026-11-21T15:01:59Z",
                    }
                },
            }
        ],
    },
}

EVENTS: list[dict[str, Any]] = [
    {
        "metadata": {"name": "web-7d4b9.2", "namespace": "shop"},
        "involvedObject": {
            "kind": "Pod",
            "name": "web-7d4b9",
            "namespace": "shop",
            "fieldPath": "spec.containers{web}",
        },
        "reason": "Pulled",
        "message": 'Container image "nginx:1.27" already present on machine',
        "source": {"component": "kubelet", "host": "node-1"},
        "type": "Normal",
        "count": 2,
        "firstTimestamp": "2026-11-21T15:00:05Z",
        "lastTimestamp": "2026-11-21T15:02:00Z",
    },
    {
        "metadata": {"name": "web-7d4b9.1", "namespace": "shop"},
        "involvedObject": {"kind": "Pod", "name": "web-7d4b9", "namespace": "shop"},
        "reason": "Scheduled",
        "message": "Successfully assigned shop/web-7d4b9 to node-1",
        "source": {"component": "default-scheduler"},
        "type": "Normal",
        "count": 1,
        "firstTimestamp": "2026-11-21T15:00:00Z",
        "lastTimestamp": "2026-11-21T15:00:00Z",
    },
]

NODE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {
        "name": "node-1",
        "creationTimestamp": "2026-11-21T14:00:00Z",
        "labels": {"kubernetes.io/hostname": "node-1", "node-role.kubernetes.io/worker": ""},
    },
    "spec": {
        "podCIDR": "10.244.1.0/24",
        "podCIDRs": ["10.244.1.0/24"],
        "taints": [{"key": "dedicated", "value": "shop", "effect": "NoSchedule"}],
    },
    "status": {
        "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
        "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "KubeletReady",
                "message": "kubelet is posting ready status",
                "lastHeartbeatTime": "2026-11-21T15:09:50Z",
                "lastTransitionTime": "2026-11-21T14:00:10Z",
            }
        ],
        "addresses": [
            {"type": "InternalIP", "address": "172.18.0.3"},
            {"type": "Hostname", "address": "node-1"},
        ],
        "nodeInfo": {
            "machineID": "m1",
            "systemUUID": "s1",
            "bootID": "b1",
            "kernelVersion": "6.8.0",
            "osImage": "Debian GNU/Linux 12 (bookworm)",
            "operatingSystem": "linux",
            "architecture": "amd64",
            "containerRuntimeVersion": "docker://27.3.1",
            "kubeletVersion": "v0.1.0",
        },
    },
}


def pod() -> Any:
    return obj(core_pb2.Pod, POD)


def events() -> list[Any]:
    return [obj(core_pb2.Event, e) for e in EVENTS]


def node() -> Any:
    return obj(core_pb2.Node, NODE)

"""`describe` of replication controllers, replica sets, deployments, daemon sets and jobs:
kubectl's layouts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from podctl.describe.workloads import (
    describe_daemon_set,
    describe_deployment,
    describe_job,
    describe_replica_set,
    describe_replication_controller,
    pods_status,
    split_replica_sets,
)
from podctl.workloads.owners import label_query
from podplane.api.apps.v1 import apps_pb2
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2
from tests.unit.podctl.fakes import obj

NOW = datetime(2026, 11, 21, 15, 10, 0, tzinfo=UTC)
TEMPLATE = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {
        "containers": [
            {
                "name": "web",
                "image": "nginx:1.27",
                "ports": [{"containerPort": 80, "protocol": "TCP"}],
            }
        ]
    },
}
EVENT = {
    "metadata": {"name": "e1", "namespace": "shop"},
    "involvedObject": {"kind": "ReplicaSet", "name": "web"},
    "type": "Normal",
    "reason": "SuccessfulCreate",
    "message": "Created pod: web-abcde",
    "source": {"component": "replicaset-controller"},
    "count": 1,
    "firstTimestamp": "2026-11-21T15:09:00Z",
    "lastTimestamp": "2026-11-21T15:09:00Z",
}


@pytest.fixture(autouse=True)
def utc_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def owned_pod(name: str, phase: str, owner_uid: str) -> Any:
    return obj(
        core_pb2.Pod,
        {
            "metadata": {
                "name": name,
                "namespace": "shop",
                "labels": {"app": "web"},
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "ReplicaSet",
                        "name": "web",
                        "uid": owner_uid,
                        "controller": True,
                    }
                ],
            },
            "status": {"phase": phase},
        },
    )


def replica_set() -> Any:
    return obj(
        apps_pb2.ReplicaSet,
        {
            "metadata": {
                "name": "web",
                "namespace": "shop",
                "uid": "rs-uid",
                "labels": {"app": "web"},
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": "web",
                        "uid": "d-uid",
                        "controller": True,
                    }
                ],
            },
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "web"}},
                "template": TEMPLATE,
            },
            "status": {
                "replicas": 2,
                "conditions": [
                    {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate"}
                ],
            },
        },
    )


def test_replica_set() -> None:
    pods = [
        owned_pod("a", "Running", "rs-uid"),
        owned_pod("b", "Pending", "rs-uid"),
        owned_pod("c", "Running", "other-uid"),
    ]
    text = describe_replica_set(replica_set(), pods, [obj(core_pb2.Event, EVENT)], NOW)
    assert text == (
        "Name:           web\n"
        "Namespace:      shop\n"
        "Selector:       app=web\n"
        "Labels:         app=web\n"
        "Annotations:    <none>\n"
        "Controlled By:  Deployment/web\n"
        "Replicas:       2 current / 3 desired\n"
        "Pods Status:    1 Running / 1 Waiting / 0 Succeeded / 0 Failed\n"
        "Pod Template:\n"
        "  Labels:  app=web\n"
        "  Containers:\n"
        "   web:\n"
        "    Image:         nginx:1.27\n"
        "    Port:          80/TCP\n"
        "    Host Port:     0/TCP\n"
        "    Environment:   <none>\n"
        "    Mounts:        <none>\n"
        "  Volumes:         <none>\n"
        "  Node-Selectors:  <none>\n"
        "  Tolerations:     <none>\n"
        "Conditions:\n"
        "  Type             Status  Reason\n"
        "  ----             ------  ------\n"
        "  ReplicaFailure   True    FailedCreate\n"
        "Events:\n"
        "  Type    Reason            Age   From                   Message\n"
        "  ----    ------            ----  ----                   -------\n"
        "  Normal  SuccessfulCreate  60s   replicaset-controller  Created pod: web-abcde\n"
    )


def test_pods_status_counts_only_controlled_pods() -> None:
    pods = [
        owned_pod("a", "Succeeded", "u"),
        owned_pod("b", "Failed", "u"),
        owned_pod("c", "Failed", "x"),
    ]
    assert pods_status(pods, "u") == "0 Running / 0 Waiting / 1 Succeeded / 1 Failed"


def test_replication_controller() -> None:
    rc = obj(
        core_pb2.ReplicationController,
        {
            "metadata": {"name": "legacy", "namespace": "shop", "uid": "rc-uid"},
            "spec": {"replicas": 1, "selector": {"app": "web"}, "template": TEMPLATE},
            "status": {"replicas": 1},
        },
    )
    lines = describe_replication_controller(rc, [], None, NOW).splitlines()
    assert lines[:7] == [
        "Name:         legacy",
        "Namespace:    shop",
        "Selector:     app=web",
        "Labels:       <none>",
        "Annotations:  <none>",
        "Replicas:     1 current / 1 desired",
        "Pods Status:  0 Running / 0 Waiting / 0 Succeeded / 0 Failed",
    ]
    assert "Events" not in "\n".join(lines)  # --show-events=false


def deployment() -> Any:
    return obj(
        apps_pb2.Deployment,
        {
            "metadata": {
                "name": "web",
                "namespace": "shop",
                "uid": "d-uid",
                "creationTimestamp": "2026-11-21T15:00:00Z",
            },
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "web"}},
                "template": TEMPLATE,
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "1"},
                },
            },
            "status": {
                "replicas": 3,
                "updatedReplicas": 3,
                "availableReplicas": 2,
                "unavailableReplicas": 1,
                "conditions": [
                    {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable"}
                ],
            },
        },
    )


def test_deployment() -> None:
    new = replica_set()
    new.metadata.name = "web-7d4b9"
    new.spec.template.metadata.labels["pod-template-hash"] = "7d4b9"
    old = replica_set()
    old.metadata.name = "web-5c6d7"
    old.spec.template.spec.containers[0].image = "nginx:1.26"
    old.spec.replicas = old.status.replicas = 0
    text = describe_deployment(deployment(), [new, old], [], NOW)
    assert text.splitlines()[:10] == [
        "Name:                   web",
        "Namespace:              shop",
        "CreationTimestamp:      Sat, 21 Nov 2026 15:00:00 +0000",
        "Labels:                 <none>",
        "Annotations:            <none>",
        "Selector:               app=web",
        "Replicas:               3 desired | 3 updated | 3 total | 2 available | 1 unavailable",
        "StrategyType:           RollingUpdate",
        "MinReadySeconds:        0",
        "RollingUpdateStrategy:  25% max unavailable, 1 max surge",
    ]
    assert (
        "Conditions:\n"
        "  Type           Status  Reason\n"
        "  ----           ------  ------\n"
        "  Available      False   MinimumReplicasUnavailable\n"
    ) in text
    assert "OldReplicaSets:  web-5c6d7 (0/0 replicas created)\n" in text
    assert "NewReplicaSet:   web-7d4b9 (2/3 replicas created)\n" in text
    assert text.endswith("Events:          <none>\n")


def test_replica_sets_of_other_owners_are_neither_old_nor_new() -> None:
    foreign = replica_set()
    foreign.metadata.owner_references[0].uid = "someone-else"
    assert split_replica_sets(deployment(), [foreign]) == ([], [])


def test_job() -> None:
    job = obj(
        batch_pb2.Job,
        {
            "metadata": {"name": "pi", "namespace": "shop", "labels": {"job-name": "pi"}},
            "spec": {
                "parallelism": 1,
                "completions": 1,
                "backoffLimit": 6,
                "completionMode": "NonIndexed",
                "suspend": False,
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u1"}},
                "template": {
                    "metadata": {"labels": {"job-name": "pi"}},
                    "spec": {
                        "containers": [
                            {
                                "name": "pi",
                                "image": "perl:5.34",
                                "command": ["perl", "-Mbignum=bpi"],
                            }
                        ],
                        "restartPolicy": "Never",
                    },
                },
            },
            "status": {
                "startTime": "2026-11-21T15:00:00Z",
                "completionTime": "2026-11-21T15:00:42Z",
                "succeeded": 1,
                "ready": 0,
            },
        },
    )
    text = describe_job(job, [], NOW)
    assert text.splitlines()[:15] == [
        "Name:             pi",
        "Namespace:        shop",
        "Selector:         batch.kubernetes.io/controller-uid=u1",
        "Labels:           job-name=pi",
        "Annotations:      <none>",
        "Parallelism:      1",
        "Completions:      1",
        "Completion Mode:  NonIndexed",
        "Suspend:          false",
        "Backoff Limit:    6",
        "Start Time:       Sat, 21 Nov 2026 15:00:00 +0000",
        "Completed At:     Sat, 21 Nov 2026 15:00:42 +0000",
        "Duration:         42s",
        "Pods Statuses:    0 Active (0 Ready) / 1 Succeeded / 0 Failed",
        "Pod Template:",
    ]
    assert "    Command:\n      perl\n      -Mbignum=bpi\n" in text


def test_label_query_lists_what_the_controller_selects() -> None:
    assert label_query(replica_set()) == "app=web"
    rc = obj(core_pb2.ReplicationController, {"spec": {"selector": {"b": "2", "a": "1"}}})
    assert label_query(rc) == "a=1,b=2"
    assert label_query(obj(batch_pb2.Job, {})) == ""


def test_daemon_set() -> None:
    ds = obj(
        apps_pb2.DaemonSet,
        {
            "metadata": {
                "name": "agent",
                "namespace": "shop",
                "uid": "ds-uid",
                "annotations": {"deprecated.daemonset.template.generation": "2"},
            },
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "nodeSelector": {"disk": "ssd"},
                        "containers": [{"name": "web", "image": "nginx:1.27"}],
                    },
                },
            },
            "status": {
                "desiredNumberScheduled": 3,
                "currentNumberScheduled": 3,
                "updatedNumberScheduled": 2,
                "numberAvailable": 2,
                "numberMisscheduled": 1,
            },
        },
    )
    owned = {"ownerReferences": [{"uid": "ds-uid", "controller": True, "kind": "DaemonSet"}]}
    pods = [
        obj(core_pb2.Pod, {"metadata": {"name": f"p{i}", **owned}, "status": {"phase": phase}})
        for i, phase in enumerate(("Running", "Running", "Pending"))
    ]
    text = describe_daemon_set(ds, pods, None, NOW)
    assert text.splitlines()[:12] == [
        "Name:           agent",
        "Namespace:      shop",
        "Selector:       app=web",
        "Node-Selector:  disk=ssd",
        "Labels:         <none>",
        "Annotations:    deprecated.daemonset.template.generation: 2",
        "Desired Number of Nodes Scheduled: 3",
        "Current Number of Nodes Scheduled: 3",
        "Number of Nodes Scheduled with Up-to-date Pods: 2",
        "Number of Nodes Scheduled with Available Pods: 2",
        "Number of Nodes Misscheduled: 1",
        "Pods Status:  2 Running / 1 Waiting / 0 Succeeded / 0 Failed",
    ]
    assert any(line.split() == ["Image:", "nginx:1.27"] for line in text.splitlines())

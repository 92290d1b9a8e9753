"""`get` tables for controllers, config maps, secrets and events, with kubectl's columns and
cells."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from podctl.printers.table import TableOptions, TablePrinter
from podplane.api.apps.v1 import apps_pb2
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.resources import Resource
from podplane.printers.registry import table_for
from tests.unit.podctl.fakes import obj

NOW = datetime(2026, 11, 21, 15, 10, 0, tzinfo=UTC)
META = {"name": "web", "namespace": "default", "creationTimestamp": "2026-11-21T15:05:00Z"}
TEMPLATE = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {
        "containers": [{"name": "web", "image": "nginx:1.27"}, {"name": "log", "image": "busybox"}]
    },
}


def table(resource: Resource, objects: list[Any], wide: bool = False) -> list[str]:
    out = io.StringIO()
    TablePrinter(
        out, table_for(resource), TableOptions(wide=wide), clock=lambda: NOW
    ).print_objects(objects)
    return out.getvalue().splitlines()


def test_replication_controllers() -> None:
    rc = obj(
        core_pb2.ReplicationController,
        {
            "metadata": META,
            "spec": {"replicas": 3, "selector": {"app": "web"}, "template": TEMPLATE},
            "status": {"replicas": 3, "readyReplicas": 2},
        },
    )
    assert table(resources.REPLICATION_CONTROLLER, [rc]) == [
        "NAME   DESIRED   CURRENT   READY   AGE",
        "web    3         3         2       5m",
    ]
    assert table(resources.REPLICATION_CONTROLLER, [rc], wide=True)[1].split() == [
        "web",
        "3",
        "3",
        "2",
        "5m",
        "web,log",
        "nginx:1.27,busybox",
        "app=web",
    ]


def test_replica_sets() -> None:
    rs = obj(
        apps_pb2.ReplicaSet,
        {
            "metadata": META,
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": TEMPLATE,
            },
            "status": {"replicas": 1},
        },
    )
    assert table(resources.REPLICA_SET, [rs]) == [
        "NAME   DESIRED   CURRENT   READY   AGE",
        "web    2         1         0       5m",
    ]
    assert table(resources.REPLICA_SET, [rs], wide=True)[0].split() == [
        "NAME",
        "DESIRED",
        "CURRENT",
        "READY",
        "AGE",
        "CONTAINERS",
        "IMAGES",
        "SELECTOR",
    ]


def test_deployments() -> None:
    d = obj(
        apps_pb2.Deployment,
        {
            "metadata": META,
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "web"}},
                "template": TEMPLATE,
            },
            "status": {
                "replicas": 3,
                "readyReplicas": 2,
                "updatedReplicas": 3,
                "availableReplicas": 2,
            },
        },
    )
    assert table(resources.DEPLOYMENT, [d]) == [
        "NAME   READY   UP-TO-DATE   AVAILABLE   AGE",
        "web    2/3     3            2           5m",
    ]
    assert table(resources.DEPLOYMENT, [d], wide=True)[1].split()[-3:] == [
        "web,log",
        "nginx:1.27,busybox",
        "app=web",
    ]


def job(spec: dict[str, Any], status: dict[str, Any]) -> Any:
    return obj(
        batch_pb2.Job,
        {
            "metadata": {**META, "name": "pi"},
            "spec": {"template": TEMPLATE, **spec},
            "status": status,
        },
    )


def test_jobs() -> None:
    running = job({"completions": 1, "parallelism": 1}, {"startTime": "2026-11-21T15:06:00Z"})
    done = job(
        {"completions": 3},
        {
            "startTime": "2026-11-21T15:05:00Z",
            "completionTime": "2026-11-21T15:05:42Z",
            "succeeded": 3,
            "conditions": [{"type": "Complete", "status": "True"}],
        },
    )
    pending = job({"completions": 1}, {})
    assert table(resources.JOB, [running, done, pending]) == [
        "NAME   STATUS     COMPLETIONS   DURATION   AGE",
        "pi     Running    0/1           4m         5m",
        "pi     Complete   3/3           42s        5m",
        "pi     Running    0/1                      5m",
    ]


def test_config_maps_count_data_and_binary_data() -> None:
    cm = obj(
        core_pb2.ConfigMap,
        {"metadata": META, "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}},
    )
    assert table(resources.CONFIG_MAP, [cm]) == [
        "NAME   DATA   AGE",
        "web    3      5m",
    ]


def test_secrets() -> None:
    s = obj(
        core_pb2.Secret,
        {
            "metadata": META,
            "type": "kubernetes.io/tls",
            "data": {"tls.crt": "eA==", "tls.key": "eQ=="},
        },
    )
    assert table(resources.SECRET, [s]) == [
        "NAME   TYPE                DATA   AGE",
        "web    kubernetes.io/tls   2      5m",
    ]


def test_events_show_last_seen_type_reason_object_message() -> None:
    event = obj(
        core_pb2.Event,
        {
            "metadata": {"name": "pi-x.1", "namespace": "default"},
            "involvedObject": {"kind": "Job", "name": "pi", "namespace": "default"},
            "reason": "SuccessfulCreate",
            "message": "Created pod: pi-x",
            "type": "Normal",
            "source": {"component": "job-controller"},
            "count": 1,
            "firstTimestamp": "2026-11-21T15:09:30Z",
            "lastTimestamp": "2026-11-21T15:09:30Z",
        },
    )
    assert table(resources.EVENT, [event]) == [
        "LAST SEEN   TYPE     REASON             OBJECT   MESSAGE",
        "30s         Normal   SuccessfulCreate   job/pi   Created pod: pi-x",
    ]

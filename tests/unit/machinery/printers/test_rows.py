"""Each kind's row: every column's cell (wide ones included, as the apiserver prints with Wide:
true), of the JSON type Kubernetes' printer gives it: strings, and int64 where printers.go puts
one (DESIRED, UP-TO-DATE, DATA, COUNT, ...) whatever the column's declared type."""

from __future__ import annotations

from typing import Any

import pytest

from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.apimachinery import resources
from podplane.printers.events import event_sort_key, event_source
from podplane.printers.registry import table_for
from podplane.printers.spec import Cell
from podplane.printers.workloads import job_completions, job_status
from tests.unit.machinery.printers.samples import CREATED, NOW, SAMPLES, TEMPLATE, meta, obj

ROWS: dict[str, list[Cell]] = {
    "pods": [
        "web-1",
        "1/1",
        "Running",
        "2 (4m30s ago)",
        "5m",
        "10.244.1.5",
        "node-1",
        "<none>",
        "<none>",
    ],
    "nodes": [
        "node-1",
        "Ready",
        "control-plane",
        "5m",
        "v1.32.0",
        "172.18.0.2",
        "<none>",
        "Debian GNU/Linux 12",
        "6.8.0",
        "docker://27.3.1",
    ],
    "namespaces": ["team-a", "Active", "5m"],
    "events": [
        "30s",
        "Normal",
        "Pulled",
        "pod/web-1",
        "spec.containers{web}",
        "kubelet, node-1",
        'Successfully pulled image "nginx:1.27"',
        "4m",
        3,
        "web-1.181f",
    ],
    "leases": ["kube-scheduler", "scheduler-0_5f2c", "5m"],
    "configmaps": ["settings", 3, "5m"],
    "podtemplates": ["web-template", "web,log", "nginx:1.27,busybox", "app=web"],
    "limitranges": ["limits", "2026-11-21T15:05:00Z"],
    # printResourceQuota: used/hard of status.hard, limits.* apart.
    # formatHPAMetrics: the first two metrics, `<unknown>` until the controller reads one.
    "horizontalpodautoscalers": [
        "web",
        "Deployment/web",
        "cpu: 40%/50%, memory: <unknown>/500Mi + 1 more...",
        "1",
        5,
        2,
        "5m",
    ],
    "resourcequotas": [
        "compute",
        "5m",
        "pods: 2/10, requests.cpu: 500m/4",
        "limits.memory: 256Mi/8Gi",
    ],
    "secrets": ["creds", "Opaque", 1, "5m"],
    "replicationcontrollers": ["legacy", 3, 3, 2, "5m", "web,log", "nginx:1.27,busybox", "app=web"],
    "services": [
        "web",
        "NodePort",
        "10.96.12.34",
        "<none>",
        "80:30080/TCP,53:30053/UDP",
        "5m",
        "app=web,tier=front",
    ],
    "endpoints": ["web", "10.244.1.5:8080,10.244.2.7:8080,10.244.1.5:53 + 1 more...", "5m"],
    "endpointslices": [
        "web-x7k2p",
        "IPv4",
        "8080",
        "10.244.1.5,10.244.2.7,10.244.3.9 + 1 more...",
        "5m",
    ],
    "replicasets": [
        "web-5d8f",
        2,
        2,
        1,
        "5m",
        "web,log",
        "nginx:1.27,busybox",
        "app=web,tier in (back,front)",
    ],
    "deployments": ["web", "2/3", 3, 2, "5m", "web,log", "nginx:1.27,busybox", "app=web"],
    "jobs": [
        "pi",
        "Complete",
        "3/3",
        "42s",
        "5m",
        "web,log",
        "nginx:1.27,busybox",
        "batch.kubernetes.io/controller-uid=uid-pi",
    ],
    "persistentvolumes": [
        "pvc-1a2b",
        "2Gi",
        "RWO",
        "Delete",
        "Bound",
        "default/data",
        "standard",
        "<unset>",
        "",
        "5m",
        "Filesystem",
    ],
    "persistentvolumeclaims": [
        "data",
        "Bound",
        "pvc-1a2b",
        "2Gi",
        "RWO",
        "standard",
        "<unset>",
        "5m",
        "Filesystem",
    ],
    "mutatingwebhookconfigurations": ["sidecars", 2, "5m"],
    "validatingadmissionpolicies": ["replicas", 2, "limits.example.com/v1/ReplicaLimit", "5m"],
    "validatingadmissionpolicybindings": ["replicas-binding", "replicas", "*/default-limit", "5m"],
    "storageclasses": [
        "standard (default)",
        "rancher.io/local-path",
        "Delete",
        "WaitForFirstConsumer",
        False,
        "5m",
    ],
}


@pytest.mark.parametrize("plural", sorted(SAMPLES))
def test_sample_row(plural: str) -> None:
    resource, sample = SAMPLES[plural]
    cells = table_for(resource).row(sample, NOW)
    assert cells == ROWS[plural]
    # Types too: 3 and "3" are equal to no one, but a bool would pass for an int.
    assert [type(c) for c in cells] == [type(c) for c in ROWS[plural]]
    assert len(cells) == len(table_for(resource).columns)


def test_an_unset_timestamp_is_unknown_and_a_future_one_invalid() -> None:
    never = obj(core_pb2.Namespace, {"metadata": {"name": "a"}})
    future = obj(
        core_pb2.Namespace, {"metadata": {"name": "b", "creationTimestamp": "2026-11-21T16:00:00Z"}}
    )
    rows = [table_for(resources.NAMESPACE).row(n, NOW) for n in (never, future)]
    assert [r[2] for r in rows] == ["<unknown>", "<invalid>"]


def event(**fields: Any) -> core_pb2.Event:
    return obj(core_pb2.Event, {"metadata": meta("e"), **fields})


@pytest.mark.parametrize(
    ("fields", "source"),
    [
        ({"source": {"component": "kubelet", "host": "node-1"}}, "kubelet, node-1"),
        ({"source": {"component": "kubelet"}}, "kubelet"),
        ({"reportingComponent": "job-controller"}, "job-controller"),
        ({"reportingComponent": "kubelet", "reportingInstance": "node-2"}, "kubelet, node-2"),
        ({"source": {"host": "node-1"}}, ", node-1"),
        ({}, ""),
    ],
    ids=[
        "component and host",
        "component",
        "reporting controller",
        "reporting instance",
        "host alone",
        "none",
    ],
)
def test_event_source(fields: dict[str, Any], source: str) -> None:
    assert event_source(event(**fields)) == source


def test_an_event_never_seen_again_is_last_seen_when_first_seen_and_counted_once() -> None:
    cells = table_for(resources.EVENT).row(
        event(firstTimestamp="2026-11-21T15:08:00Z", involvedObject={"kind": "Node"}), NOW
    )
    assert (cells[0], cells[3], cells[7], cells[8]) == ("2m", "node", "2m", 1)


def job(spec: dict[str, Any], status: dict[str, Any], **metadata: Any) -> batch_pb2.Job:
    return obj(
        batch_pb2.Job,
        {
            "metadata": meta("pi", **metadata),
            "spec": {"template": TEMPLATE, **spec},
            "status": status,
        },
    )


@pytest.mark.parametrize(
    ("spec", "succeeded", "cell"),
    [
        ({"completions": 5}, 2, "2/5"),
        ({"parallelism": 3}, 1, "1/1 of 3"),
        ({"parallelism": 1}, 0, "0/1"),
        ({}, 0, "0/1"),
    ],
)
def test_job_completions(spec: dict[str, Any], succeeded: int, cell: str) -> None:
    assert job_completions(job(spec, {"succeeded": succeeded})) == cell


def condition(kind: str, status: str = "True") -> dict[str, str]:
    return {"type": kind, "status": status}


@pytest.mark.parametrize(
    ("conditions", "deleting", "status"),
    [
        ([], False, "Running"),
        ([condition("Complete")], False, "Complete"),
        ([condition("Failed")], False, "Failed"),
        ([condition("FailureTarget"), condition("Failed")], False, "Failed"),
        ([condition("FailureTarget")], False, "FailureTarget"),
        ([condition("Suspended")], False, "Suspended"),
        ([condition("Suspended", "False")], False, "Running"),
        ([condition("Suspended")], True, "Terminating"),
        ([condition("Complete")], True, "Complete"),
        # The first condition of a type is the one that counts.
        ([condition("Complete", "False"), condition("Complete")], False, "Running"),
    ],
)
def test_job_status(conditions: list[dict[str, str]], deleting: bool, status: str) -> None:
    deletion = {"deletionTimestamp": CREATED} if deleting else {}
    assert job_status(job({}, {"conditions": conditions}, **deletion)) == status


def test_a_job_not_started_has_no_duration_and_a_running_one_runs_until_now() -> None:
    rows = [
        table_for(resources.JOB).row(j, NOW)
        for j in (job({}, {}), job({}, {"startTime": "2026-11-21T15:07:00Z"}))
    ]
    assert [r[3] for r in rows] == ["", "3m"]


@pytest.mark.parametrize(
    ("spec", "status", "cluster_ip", "external_ip", "ports"),
    [
        (
            {
                "type": "ClusterIP",
                "clusterIPs": ["10.96.0.9"],
                "ports": [{"port": 80, "protocol": "TCP"}],
            },
            {},
            "10.96.0.9",
            "<none>",
            "80/TCP",
        ),
        ({"type": "ClusterIP", "clusterIPs": ["None"]}, {}, "None", "<none>", "<none>"),
        (
            {"type": "ClusterIP", "externalIPs": ["192.0.2.9", "192.0.2.8"]},
            {},
            "<none>",
            "192.0.2.9,192.0.2.8",
            "<none>",
        ),
        (
            {"type": "ExternalName", "externalName": "db.example.com"},
            {},
            "<none>",
            "db.example.com",
            "<none>",
        ),
        ({"type": "LoadBalancer"}, {}, "<none>", "<pending>", "<none>"),
        (
            {"type": "LoadBalancer", "externalIPs": ["192.0.2.1"]},
            {
                "loadBalancer": {
                    "ingress": [
                        {"ip": "203.0.113.9"},
                        {"hostname": "lb.example.com"},
                        {"ip": "203.0.113.2"},
                    ]
                }
            },
            "<none>",
            "203.0.113.2,203.0.113.9,lb.example.com,192.0.2.1",
            "<none>",
        ),
    ],
)
def test_service_cells(
    spec: dict[str, Any], status: dict[str, Any], cluster_ip: str, external_ip: str, ports: str
) -> None:
    svc = obj(service_pb2.Service, {"metadata": meta("s"), "spec": spec, "status": status})
    row = table_for(resources.SERVICE).row(svc, NOW)
    assert row[2:5] == [cluster_ip, external_ip, ports]


@pytest.mark.parametrize(
    ("subsets", "cell"),
    [
        ([], "<none>"),
        ([{"addresses": [{"ip": "10.0.0.1"}]}], "10.0.0.1"),
        ([{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}]}], "[fd00::1]:80"),
        ([{"notReadyAddresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}], ""),
        (
            [{"addresses": [{"ip": f"10.0.0.{i}"} for i in range(1, 5)], "ports": [{"port": 80}]}],
            "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more...",
        ),
    ],
)
def test_endpoints_cell(subsets: list[dict[str, Any]], cell: str) -> None:
    ep = obj(service_pb2.Endpoints, {"metadata": meta("e"), "subsets": subsets})
    assert table_for(resources.ENDPOINTS).row(ep, NOW)[1] == cell


@pytest.mark.parametrize(
    ("ports", "endpoints", "cells"),
    [
        ([], [], ["<unset>", "<unset>"]),
        ([{"name": "http"}, {}], [{"addresses": ["10.0.0.1"]}], ["http,*", "10.0.0.1"]),
        ([{"port": p} for p in (1, 2, 3, 4, 5)], [], ["1,2,3 + 2 more...", "<unset>"]),
    ],
)
def test_endpoint_slice_cells(
    ports: list[dict[str, Any]], endpoints: list[dict[str, Any]], cells: list[str]
) -> None:
    eps = obj(
        discovery_pb2.EndpointSlice,
        {"metadata": meta("e"), "addressType": "IPv4", "ports": ports, "endpoints": endpoints},
    )
    assert table_for(resources.ENDPOINT_SLICE).row(eps, NOW)[2:4] == cells


def test_events_sort_by_when_last_seen_whichever_api_wrote_them() -> None:
    """kubectl's SortableEvents: a series' last observation, else lastTimestamp, else eventTime
    (the scheduler's events.k8s.io events set no lastTimestamp), compared as times, not text."""
    legacy = core_pb2.Event(last_timestamp="2026-11-28T01:00:02Z")
    singleton = core_pb2.Event(event_time="2026-11-28T01:00:01.500000Z")
    series = core_pb2.Event(
        event_time="2026-11-28T00:59:00.000000Z",
        series=core_pb2.EventSeries(count=3, last_observed_time="2026-11-28T01:00:02.250000Z"),
    )
    same_second = core_pb2.Event(event_time="2026-11-28T01:00:02.100000Z")
    ordered = sorted([series, legacy, same_second, singleton], key=event_sort_key)
    assert ordered == [singleton, legacy, same_second, series]

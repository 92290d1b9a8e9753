"""The EndpointSlice controller's plan (reconciler.py) from cached objects: endpoint conditions
from pod state, named target ports resolved per pod, slices of at most max endpoints changed as
little as possible, the placeholder of a Service without endpoints, reuse of a slice to delete
for one to create. Tables of cases."""

from __future__ import annotations

from typing import Any

import pytest

from controller.endpointslice.reconciler import (
    CONTROLLER_NAME,
    MANAGED_BY_LABEL,
    SlicePlan,
    plan_slices,
)
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest
from podplane.apimachinery.service import SERVICE_NAME_LABEL

NODES = {
    "node-1": core_pb2.Node(
        metadata=meta_pb2.ObjectMeta(name="node-1", labels={"topology.kubernetes.io/zone": "z1"})
    )
}


def service(**spec: Any) -> service_pb2.Service:
    spec.setdefault("selector", {"app": "web"})
    spec.setdefault("ports", [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}])
    spec.setdefault("clusterIP", "10.96.0.20")
    spec.setdefault("ipFamilies", ["IPv4"])
    obj: Any = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": "web",
                "namespace": "ns",
                "uid": "svc-uid",
                "labels": {"team": "a"},
            },
            "spec": spec,
        }
    )
    return obj  # type: ignore[no-any-return]


def pod(
    i: int,
    *,
    ready: bool = True,
    deleting: bool = False,
    phase: str = "Running",
    node: str = "node-1",
    port_name: str = "http",
    port: int = 8080,
    ip: str | None = None,
) -> core_pb2.Pod:
    obj: Any = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"p{i:03d}",
                "namespace": "ns",
                "uid": f"uid-{i}",
                "labels": {"app": "web"},
                **({"deletionTimestamp": "2026-11-21T15:00:00Z"} if deleting else {}),
            },
            "spec": {
                "nodeName": node,
                "containers": [
                    {
                        "name": "c",
                        "image": "x",
                        "ports": [{"name": port_name, "containerPort": port}],
                    }
                ],
            },
            "status": {
                "phase": phase,
                "podIP": ip or f"10.244.{i // 250}.{i % 250 + 1}",
                "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            },
        }
    )
    return obj  # type: ignore[no-any-return]


def sizes(plan: SlicePlan) -> tuple[list[int], list[int], list[str]]:
    return (
        sorted(len(s.endpoints) for s in plan.create),
        sorted(len(s.endpoints) for s in plan.update),
        sorted(s.metadata.name for s in plan.delete),
    )


def stored(plan: SlicePlan, *, start: int = 0) -> list[discovery_pb2.EndpointSlice]:
    """The plan's slices as the apiserver would store them (names given to creates)."""
    out = []
    for i, s in enumerate([*plan.update, *plan.create]):
        copy = discovery_pb2.EndpointSlice()
        copy.CopyFrom(s)
        copy.metadata.name = copy.metadata.name or f"web-{start + i}"
        out.append(copy)
    return out


def conditions(plan: SlicePlan) -> dict[str, tuple[bool, bool, bool]]:
    return {
        e.target_ref.name: (e.conditions.ready, e.conditions.serving, e.conditions.terminating)
        for s in [*plan.create, *plan.update]
        for e in s.endpoints
    }


@pytest.mark.parametrize(
    ("pod_args", "publish", "expected"),
    [
        ({}, False, (True, True, False)),
        ({"ready": False}, False, (False, False, False)),
        ({"deleting": True}, False, (False, True, True)),
        ({"ready": False, "deleting": True}, False, (False, False, True)),
        ({"ready": False}, True, (True, False, False)),
        ({"deleting": True}, True, (True, True, True)),
    ],
)
def test_endpoint_conditions(
    pod_args: dict[str, Any], publish: bool, expected: tuple[bool, ...]
) -> None:
    plan, problems = plan_slices(
        service(publishNotReadyAddresses=publish), [pod(1, **pod_args)], NODES, []
    )
    assert problems == [] and conditions(plan) == {"p001": expected}


def test_an_endpoint_names_its_pod_node_and_zone() -> None:
    plan, _ = plan_slices(service(), [pod(1)], NODES, [])
    (eps,) = plan.create
    (ep,) = eps.endpoints
    assert list(ep.addresses) == ["10.244.0.2"]
    assert (ep.node_name, ep.zone) == ("node-1", "z1")
    assert (ep.target_ref.kind, ep.target_ref.name, ep.target_ref.uid) == ("Pod", "p001", "uid-1")
    assert eps.metadata.generate_name == "web-" and eps.address_type == "IPv4"
    assert dict(eps.metadata.labels) == {
        "team": "a",
        SERVICE_NAME_LABEL: "web",
        MANAGED_BY_LABEL: CONTROLLER_NAME,
    }
    (owner,) = eps.metadata.owner_references
    assert (owner.kind, owner.name, owner.uid, owner.controller) == (
        "Service",
        "web",
        "svc-uid",
        True,
    )
    assert [(p.name, p.port, p.protocol) for p in eps.ports] == [("http", 8080, "TCP")]


@pytest.mark.parametrize(
    ("pods", "skipped"),
    [
        ([pod(1, phase="Succeeded")], "finished"),
        ([pod(1, ip="")], "no IP yet"),
    ],
)
def test_pods_that_are_no_endpoints(pods: list[core_pb2.Pod], skipped: str) -> None:
    pods[0].status.pod_ip = pods[0].status.pod_ip if skipped != "no IP yet" else ""
    plan, _ = plan_slices(service(), pods, NODES, [])
    assert conditions(plan) == {}, skipped
    assert sizes(plan) == ([0], [], [])  # the placeholder


def test_a_pod_on_an_unknown_node_is_retried_unless_published() -> None:
    plan, problems = plan_slices(service(), [pod(1, node="node-9")], NODES, [])
    assert conditions(plan) == {}
    assert problems == ["skipping Pod p001 for Service ns/web: Node node-9 Not Found"]
    plan, problems = plan_slices(
        service(publishNotReadyAddresses=True), [pod(1, node="node-9")], NODES, []
    )
    assert problems == [] and list(conditions(plan)) == ["p001"]


def test_named_target_ports_are_resolved_per_pod() -> None:
    svc = service(ports=[{"name": "http", "port": 80, "targetPort": "web", "protocol": "TCP"}])
    pods = [
        pod(1, port_name="web", port=8080),
        pod(2, port_name="web", port=9090),
        pod(3, port_name="other"),
    ]
    plan, _ = plan_slices(svc, pods, NODES, [])
    by_port = {
        s.ports[0].port if s.ports else None: [e.target_ref.name for e in s.endpoints]
        for s in plan.create
    }
    # The pod without a port of that name is an endpoint of no port.
    assert by_port == {8080: ["p001"], 9090: ["p002"], None: ["p003"]}


@pytest.mark.parametrize(
    ("existing", "wanted", "max_endpoints", "expected"),
    [
        # (sizes of the existing slices, endpoints wanted) -> (created, updated, deleted)
        ([], 0, 100, ([0], [], [])),  # a placeholder
        ([], 250, 100, ([50, 100, 100], [], [])),
        ([100], 100, 100, ([], [], [])),  # nothing to do
        ([100], 130, 100, ([30], [], [])),  # a full slice is left alone
        ([60], 100, 100, ([], [100], [])),  # a slice with room is filled
        ([100, 40], 120, 100, ([], [20], [])),  # shrinks where endpoints went
        ([100, 100], 90, 100, ([], [90], ["web-1"])),  # an emptied slice goes
        ([50, 50], 0, 100, ([], [0], ["web-1"])),  # its last endpoints gone: the placeholder
        ([10], 25, 10, ([5, 10], [], [])),
    ],
)
def test_slices_of_at_most_max_endpoints(
    existing: list[int], wanted: int, max_endpoints: int, expected: tuple[Any, ...]
) -> None:
    svc = service()
    pods = [pod(i) for i in range(max(wanted, sum(existing)))]
    slices: list[discovery_pb2.EndpointSlice] = []
    start = 0
    for n, size in enumerate(existing):
        plan, _ = plan_slices(svc, pods[start : start + size], NODES, [], max_endpoints)
        (eps,) = plan.create
        eps.metadata.name = f"web-{n}"
        slices.append(eps)
        start += size
    plan, _ = plan_slices(svc, pods[:wanted], NODES, slices, max_endpoints)
    assert sizes(plan) == expected
    held = [e.target_ref.name for s in stored(plan, start=len(existing)) for e in s.endpoints]
    untouched = {s.metadata.name for s in slices} - {
        s.metadata.name for s in [*plan.update, *plan.delete]
    }
    held += [e.target_ref.name for s in slices if s.metadata.name in untouched for e in s.endpoints]
    assert sorted(held) == sorted(p.metadata.name for p in pods[:wanted])


def test_the_placeholder_is_kept_and_replaced() -> None:
    svc = service()
    plan, _ = plan_slices(svc, [], NODES, [])
    (placeholder,) = stored(plan)
    again, _ = plan_slices(svc, [], NODES, [placeholder])
    assert sizes(again) == ([], [], [])
    # Endpoints arrive: the placeholder is reused (an update of it, not a create and delete).
    filled, _ = plan_slices(svc, [pod(1)], NODES, [placeholder])
    assert sizes(filled) == ([], [1], [])
    assert filled.update[0].metadata.name == placeholder.metadata.name


def test_labels_follow_the_service_and_headless_services_are_marked() -> None:
    svc = service()
    plan, _ = plan_slices(svc, [pod(1)], NODES, [])
    (eps,) = stored(plan)
    svc.metadata.labels["team"] = "b"
    relabelled, _ = plan_slices(svc, [pod(1)], NODES, [eps])
    assert sizes(relabelled) == ([], [1], [])
    assert relabelled.update[0].metadata.labels["team"] == "b"
    headless, _ = plan_slices(service(clusterIP="None"), [pod(1)], NODES, [])
    assert headless.create[0].metadata.labels["service.kubernetes.io/headless"] == ""


def test_slices_of_another_owner_or_family_are_deleted() -> None:
    plan, _ = plan_slices(service(), [pod(1)], NODES, [])
    (eps,) = stored(plan)
    other = discovery_pb2.EndpointSlice()
    other.CopyFrom(eps)
    other.metadata.name = "web-old"
    other.metadata.owner_references[0].uid = "an-older-service"
    v6 = discovery_pb2.EndpointSlice()
    v6.CopyFrom(eps)
    v6.metadata.name = "web-v6"
    v6.address_type = "IPv6"
    again, _ = plan_slices(service(), [pod(1)], NODES, [eps, other, v6])
    assert sizes(again) == ([], [], ["web-old", "web-v6"])


def test_nothing_is_created_for_a_service_being_deleted() -> None:
    svc = service()
    svc.metadata.deletion_timestamp = "2026-11-21T15:00:00Z"
    plan, _ = plan_slices(svc, [pod(1)], NODES, [])
    assert plan.create == []

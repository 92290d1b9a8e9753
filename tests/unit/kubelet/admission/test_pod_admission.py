"""The kubelet's admission of the pods bound to its node: a pod that does not fit beside the pods
already taken is rejected (Failed, OutOf<resource>, with Kubernetes' message), never run; the
requests counted are the whole pod's, sidecars included."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelet.admission.admitter import PodAdmitter, rejected_status
from kubelet.admission.resources import Rejection, insufficient_resource
from podplane.api.core.v1 import core_pb2
from tests.unit.kubelet.podbuild import container, pod
from tests.unit.kubelet.synctest import SyncHarness

NODE = {"cpu": "1", "memory": "1Gi", "pods": "3"}


def requesting(
    name: str, cpu: str = "", memory: str = "", sidecar: bool = False
) -> core_pb2.Container:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    c = container(name, resources=core_pb2.ResourceRequirements(requests=requests))
    if sidecar:
        c.restart_policy = "Always"
    return c


def a_pod(
    uid: str, *containers: core_pb2.Container, init: tuple[core_pb2.Container, ...] = ()
) -> core_pb2.Pod:
    return pod(*containers, init=init, uid=uid, name=uid)


@pytest.mark.parametrize(
    ("the_pod", "others", "expected"),
    [
        (a_pod("p", requesting("a", "500m")), [a_pod("o", requesting("a", "400m"))], None),
        (
            a_pod("p", requesting("a", "700m")),
            [a_pod("o", requesting("a", "400m"))],
            Rejection(
                "OutOfcpu",
                "Node didn't have enough resource: cpu, requested: 700, used: 400, capacity: 1000",
            ),
        ),
        (
            # 500m of app, and a 300m sidecar beside it: 800m, which does not fit beside 400m.
            a_pod("p", requesting("a", "500m"), init=(requesting("s", "300m", sidecar=True),)),
            [a_pod("o", requesting("a", "400m"))],
            Rejection(
                "OutOfcpu",
                "Node didn't have enough resource: cpu, requested: 800, used: 400, capacity: 1000",
            ),
        ),
        (
            # The same 300m as a regular init container runs alone: 500m.
            a_pod("p", requesting("a", "500m"), init=(requesting("i", "300m"),)),
            [a_pod("o", requesting("a", "400m"))],
            None,
        ),
        (
            a_pod("p", requesting("a", memory="2Gi")),
            [],
            Rejection(
                "OutOfmemory",
                f"Node didn't have enough resource: memory, requested: {2 * 2**30}, used: 0, "
                f"capacity: {2**30}",
            ),
        ),
        (
            a_pod("p", requesting("a")),
            [a_pod(f"o{i}", requesting("a")) for i in range(3)],
            Rejection(
                "OutOfpods",
                "Node didn't have enough resource: pods, requested: 1, used: 3, capacity: 3",
            ),
        ),
        (
            a_pod(
                "p",
                container(
                    "a", resources=core_pb2.ResourceRequirements(requests={"example.com/gpu": "1"})
                ),
            ),
            [],
            None,  # an extended resource the node does not advertise is not admission's matter
        ),
    ],
    ids=["fits", "cpu", "sidecar-adds", "init-alone", "memory", "pods", "unknown-extended"],
)
def test_fit(the_pod: core_pb2.Pod, others: list[core_pb2.Pod], expected: Rejection | None) -> None:
    assert insufficient_resource(the_pod, others, NODE) == expected


def test_the_second_of_two_pods_that_do_not_both_fit_is_rejected() -> None:
    first, second = a_pod("p1", requesting("a", "600m")), a_pod("p2", requesting("a", "600m"))
    admitter = PodAdmitter(NODE, lambda: [first, second])
    assert admitter.admit(first, started=False) is None
    rejection = admitter.admit(second, started=False)
    assert rejection is not None and rejection.reason == "OutOfcpu"
    admitter.forget("p1")  # the first pod is gone: room again
    assert admitter.admit(second, started=False) is None


def test_pods_that_already_run_are_taken_and_counted() -> None:
    running = a_pod("old", requesting("a", "600m"))
    running.status.start_time = "2026-01-01T00:00:00Z"
    running.status.phase = "Running"
    finished = a_pod("done", requesting("a", "900m"))
    finished.status.start_time = "2026-01-01T00:00:00Z"
    finished.status.phase = "Succeeded"
    new = a_pod("new", requesting("a", "600m"))
    admitter = PodAdmitter(NODE, lambda: [running, finished, new])
    assert admitter.admit(new, started=False) is not None  # the running pod counts, not the done
    assert admitter.admit(running, started=True) is None


def test_a_rejected_pod_fails_with_the_reason_and_keeps_its_scheduled_condition() -> None:
    p = a_pod("p", requesting("a", "2"))
    p.status.conditions.add(type="PodScheduled", status="True")
    p.status.qos_class = "Burstable"
    status = rejected_status(p, Rejection("OutOfcpu", "Node didn't have enough resource: cpu"))
    assert (status.phase, status.reason, status.qos_class) == ("Failed", "OutOfcpu", "Burstable")
    assert status.message == "Pod was rejected: Node didn't have enough resource: cpu"
    assert [c.type for c in status.conditions] == ["PodScheduled"]


async def test_the_kubelet_never_runs_a_pod_it_rejected(tmp_path: Path) -> None:
    h = SyncHarness(tmp_path)
    p = pod(requesting("a", "3"))
    h.syncer.admitter = PodAdmitter(NODE, lambda: [p])
    assert await h.sync(p) is None
    assert h.runtime.calls == [] and p.status.phase == "Failed"
    assert p.status.reason == "OutOfcpu"
    assert p.status.message == (
        "Pod was rejected: Node didn't have enough resource: cpu, requested: 3000, used: 0, "
        "capacity: 1000"
    )
    await h.sync(p)
    assert h.runtime.calls == []

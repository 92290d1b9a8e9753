"""RuntimeClass admission: a pod's overhead set from its class, the class's node selector merged
and its tolerations added; Kubernetes' refusals of an unknown class, a conflicting node selector,
and an overhead the pod sets itself; and the toleration merge it shares with Kubernetes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from apiserver import errors
from apiserver.admission.runtime_class import RuntimeClassAdmission
from apiserver.admission.tolerations import merge_tolerations
from podplane.api.core.v1 import core_pb2
from podplane.api.node.v1 import node_pb2
from podplane.apimachinery import manifest
from tests.unit.apiserver.admission_calls import admit_create, admit_update


class Classes:
    def __init__(self, *classes: node_pb2.RuntimeClass) -> None:
        self._by_name = {c.metadata.name: c for c in classes}

    async def lookup(self, name: str) -> node_pb2.RuntimeClass | None:
        return self._by_name.get(name)

    def cached(self) -> Sequence[node_pb2.RuntimeClass]:
        return list(self._by_name.values())


def rc(name: str, **fields: Any) -> node_pb2.RuntimeClass:
    obj = manifest.from_dict(
        {
            "apiVersion": "node.k8s.io/v1",
            "kind": "RuntimeClass",
            "metadata": {"name": name},
            "handler": "runc",
            **fields,
        }
    )
    assert isinstance(obj, node_pb2.RuntimeClass)
    return obj


def pod(**spec: Any) -> core_pb2.Pod:
    obj = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "namespace": "team"},
            "spec": {"containers": [{"name": "main", "image": "busybox"}], **spec},
        }
    )
    assert isinstance(obj, core_pb2.Pod)
    return obj


KATA = rc(
    "kata",
    overhead={"podFixed": {"cpu": "250m", "memory": "120Mi"}},
    scheduling={
        "nodeSelector": {"runtime": "kata"},
        "tolerations": [{"key": "kata", "operator": "Exists", "effect": "NoSchedule"}],
    },
)
PLAIN = rc("plain")
SCHEDULED = rc("scheduled", scheduling={"nodeSelector": {"runtime": "gvisor"}})


async def admit(p: core_pb2.Pod) -> dict[str, Any]:
    await admit_create(RuntimeClassAdmission(Classes(KATA, PLAIN, SCHEDULED)), p)
    spec = manifest.to_dict(p)["spec"]
    return {k: spec[k] for k in ("overhead", "nodeSelector", "tolerations") if k in spec}


@pytest.mark.parametrize(
    "spec, want",
    [
        ({}, {}),
        ({"runtimeClassName": "plain"}, {}),
        (
            {"runtimeClassName": "kata", "nodeSelector": {"disk": "ssd"}},
            {
                "overhead": {"cpu": "250m", "memory": "120Mi"},
                "nodeSelector": {"disk": "ssd", "runtime": "kata"},
                "tolerations": [{"key": "kata", "operator": "Exists", "effect": "NoSchedule"}],
            },
        ),
        # The pod's own overhead may say the same, in other words.
        (
            {"runtimeClassName": "kata", "overhead": {"cpu": "0.25", "memory": "120Mi"}},
            {
                "overhead": {"cpu": "250m", "memory": "120Mi"},
                "nodeSelector": {"runtime": "kata"},
                "tolerations": [{"key": "kata", "operator": "Exists", "effect": "NoSchedule"}],
            },
        ),
        # The same key and value on both sides is no conflict; a toleration of every taint
        # already covers the class's.
        (
            {
                "runtimeClassName": "kata",
                "nodeSelector": {"runtime": "kata"},
                "tolerations": [{"operator": "Exists"}],
            },
            {
                "overhead": {"cpu": "250m", "memory": "120Mi"},
                "nodeSelector": {"runtime": "kata"},
                "tolerations": [{"operator": "Exists"}],
            },
        ),
        ({"runtimeClassName": "scheduled"}, {"nodeSelector": {"runtime": "gvisor"}}),
    ],
)
async def test_a_pod_gets_its_class_overhead_and_scheduling(
    spec: dict[str, Any], want: dict[str, Any]
) -> None:
    assert await admit(pod(**spec)) == want


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"runtimeClassName": "missing"}, 'pod rejected: RuntimeClass "missing" not found'),
        (
            {"runtimeClassName": "kata", "overhead": {"cpu": "1"}},
            "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead",
        ),
        (
            {"runtimeClassName": "plain", "overhead": {"cpu": "1"}},
            "pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead",
        ),
        (
            {"overhead": {"cpu": "1"}},
            "pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead",
        ),
        (
            {"runtimeClassName": "kata", "nodeSelector": {"runtime": "runc"}},
            "conflict: runtimeClass.scheduling.nodeSelector[runtime] = kata; "
            "pod.spec.nodeSelector[runtime] = runc",
        ),
    ],
)
async def test_refusals(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(errors.APIError) as caught:
        await admit(pod(**spec))
    assert caught.value.reason == "Forbidden"
    assert caught.value.message == f'pods "web" is forbidden: {message}'


async def test_updates_are_left_alone() -> None:
    p = pod(runtimeClassName="missing", overhead={"cpu": "1"})
    await admit_update(RuntimeClassAdmission(Classes()), "", p, p)


EXISTS_ALL = core_pb2.Toleration(operator="Exists")
NOT_READY = core_pb2.Toleration(key="not-ready", operator="Exists", effect="NoExecute")
NOT_READY_300 = core_pb2.Toleration(
    key="not-ready", operator="Exists", effect="NoExecute", toleration_seconds=300
)
NOT_READY_60 = core_pb2.Toleration(
    key="not-ready", operator="Exists", effect="NoExecute", toleration_seconds=60
)
GPU_EQUAL = core_pb2.Toleration(key="gpu", operator="Equal", value="yes", effect="NoSchedule")
GPU_ANY_EFFECT = core_pb2.Toleration(key="gpu", operator="Equal", value="yes")
GPU_OTHER = core_pb2.Toleration(key="gpu", operator="Equal", value="no", effect="NoSchedule")


@pytest.mark.parametrize(
    "first, second, want",
    [
        ([GPU_EQUAL], [GPU_OTHER], [GPU_EQUAL, GPU_OTHER]),
        ([GPU_EQUAL], [GPU_EQUAL], [GPU_EQUAL]),
        # A toleration of every taint makes the others redundant.
        ([GPU_EQUAL, NOT_READY], [EXISTS_ALL], [EXISTS_ALL]),
        # An empty effect tolerates every effect.
        ([GPU_EQUAL], [GPU_ANY_EFFECT], [GPU_ANY_EFFECT]),
        # Without seconds, NoExecute is tolerated longer than with.
        ([NOT_READY_300], [NOT_READY], [NOT_READY]),
        ([NOT_READY_60], [NOT_READY_300], [NOT_READY_300]),
        ([NOT_READY_300], [NOT_READY_60], [NOT_READY_300]),
    ],
)
def test_merge_tolerations(
    first: list[core_pb2.Toleration],
    second: list[core_pb2.Toleration],
    want: list[core_pb2.Toleration],
) -> None:
    assert merge_tolerations(first, second) == want

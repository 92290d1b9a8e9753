"""Priority admission: a pod's priority and preemption policy from its class, from the global
default (whose name it takes) or 0 and PreemptLowerPriority; Kubernetes' refusals of an unknown
class and of a priority or policy the pod sets against its class; one global default at most;
an update keeps what the pod was admitted with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from apiserver import errors
from apiserver.admission.priority import PriorityAdmission
from apiserver.defaulting import scheduling as defaulting
from podplane.api.core.v1 import core_pb2
from podplane.api.scheduling.v1 import scheduling_pb2
from podplane.apimachinery import manifest, priority
from tests.unit.apiserver.admission_calls import admit_create, admit_update


class Classes:
    """The watch cache's classes, and storage's (which may have one the cache has not yet)."""

    def __init__(
        self,
        cached: Sequence[scheduling_pb2.PriorityClass],
        stored: Sequence[scheduling_pb2.PriorityClass] = (),
    ) -> None:
        self._cached = list(cached)
        self._stored = {c.metadata.name: c for c in [*cached, *stored]}

    async def lookup(self, name: str) -> scheduling_pb2.PriorityClass | None:
        return self._stored.get(name)

    def cached(self) -> Sequence[scheduling_pb2.PriorityClass]:
        return self._cached


def pc(
    name: str, value: int, policy: str | None = "PreemptLowerPriority", default: bool = False
) -> scheduling_pb2.PriorityClass:
    obj = scheduling_pb2.PriorityClass(value=value, global_default=default)
    obj.metadata.name = name
    if policy is not None:
        obj.preemption_policy = policy
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


SYSTEM = priority.system_priority_classes()
for _stored in SYSTEM:  # as the server stores them
    defaulting.priority_class(_stored)
HIGH = pc("high", 1000)
BATCH = pc("batch", -10, "Never")
LEGACY = pc("legacy", 7, policy=None)  # stored before classes were defaulted


async def admit(
    p: core_pb2.Pod, cached: Sequence[scheduling_pb2.PriorityClass], **kw: Any
) -> tuple[str, int, str | None]:
    await admit_create(PriorityAdmission(Classes([*SYSTEM, *cached], **kw)), p)
    spec = p.spec
    policy = spec.preemption_policy if spec.HasField("preemption_policy") else None
    return spec.priority_class_name, spec.priority, policy


@pytest.mark.parametrize(
    "spec, classes, want",
    [
        ({}, [HIGH], ("", 0, "PreemptLowerPriority")),
        ({"priorityClassName": "high"}, [HIGH], ("high", 1000, "PreemptLowerPriority")),
        ({"priorityClassName": "batch"}, [BATCH], ("batch", -10, "Never")),
        (
            {"priorityClassName": "system-node-critical"},
            [],
            ("system-node-critical", 2000001000, "PreemptLowerPriority"),
        ),
        # The global default names itself in the pod.
        ({}, [HIGH, pc("everyday", 50, "Never", default=True)], ("everyday", 50, "Never")),
        # Of two defaults (made at once), the lower.
        (
            {},
            [pc("d1", 60, default=True), pc("d2", 40, default=True)],
            ("d2", 40, "PreemptLowerPriority"),
        ),
        # A class named takes precedence over the default.
        (
            {"priorityClassName": "high"},
            [pc("everyday", 50, default=True), HIGH],
            ("high", 1000, "PreemptLowerPriority"),
        ),
        # The same values as the class's may be given.
        (
            {
                "priorityClassName": "high",
                "priority": 1000,
                "preemptionPolicy": "PreemptLowerPriority",
            },
            [HIGH],
            ("high", 1000, "PreemptLowerPriority"),
        ),
        ({"priority": 0}, [], ("", 0, "PreemptLowerPriority")),
        # A class without a policy leaves the pod's as it is.
        (
            {"priorityClassName": "legacy", "preemptionPolicy": "Never"},
            [LEGACY],
            ("legacy", 7, "Never"),
        ),
        ({"priorityClassName": "legacy"}, [LEGACY], ("legacy", 7, None)),
    ],
)
async def test_a_pod_gets_its_class_priority(
    spec: dict[str, Any], classes: list[scheduling_pb2.PriorityClass], want: tuple[Any, ...]
) -> None:
    assert await admit(pod(**spec), classes) == want


async def test_system_classes_are_admitted_in_any_namespace() -> None:
    """Kubernetes 1.17 and later: no namespace rule in the plugin (ResourceQuota's to make)."""
    p = pod(priorityClassName="system-cluster-critical")
    p.metadata.namespace = "team"
    assert (await admit(p, []))[1] == priority.SYSTEM_CRITICAL_PRIORITY


async def test_a_class_made_a_moment_ago_is_found_in_storage() -> None:
    assert (await admit(pod(priorityClassName="high"), [], stored=[HIGH]))[1] == 1000


@pytest.mark.parametrize(
    "spec, message",
    [
        (
            {"priorityClassName": "missing"},
            'pods "web" is forbidden: no PriorityClass with name missing was found',
        ),
        (
            {"priorityClassName": "high", "priority": 5},
            'pods "web" is forbidden: the integer value of priority (5) must not be provided in '
            "pod spec; priority admission controller computed 1000 from the given PriorityClass "
            "name",
        ),
        (
            {"priority": 100},
            'pods "web" is forbidden: the integer value of priority (100) must not be provided '
            "in pod spec; priority admission controller computed 0 from the given PriorityClass "
            "name",
        ),
        (
            {"priorityClassName": "batch", "preemptionPolicy": "PreemptLowerPriority"},
            'pods "web" is forbidden: the string value of PreemptionPolicy (PreemptLowerPriority) '
            "must not be provided in pod spec; priority admission controller computed Never from "
            "the given PriorityClass name",
        ),
        (
            {"preemptionPolicy": "Never"},
            'pods "web" is forbidden: the string value of PreemptionPolicy (Never) must not be '
            "provided in pod spec; priority admission controller computed PreemptLowerPriority "
            "from the given PriorityClass name",
        ),
    ],
)
async def test_refusals(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(errors.APIError) as caught:
        await admit(pod(**spec), [HIGH, BATCH])
    assert caught.value.reason == "Forbidden"
    assert caught.value.message == message


async def test_one_global_default_at_most() -> None:
    plugin = PriorityAdmission(Classes([*SYSTEM, HIGH, pc("everyday", 50, default=True)]))
    second = pc("other", 10, default=True)
    with pytest.raises(errors.APIError) as caught:
        await admit_create(plugin, second)
    assert caught.value.message == (
        'priorityclasses.scheduling.k8s.io "other" is forbidden: PriorityClass everyday is '
        "already marked as default. Only one default can exist"
    )
    with pytest.raises(errors.APIError):
        await admit_update(plugin, "", pc("high", 1000, default=True), HIGH)
    # The default itself may be updated, and classes that are no default made.
    await admit_update(
        plugin, "", pc("everyday", 50, default=True), pc("everyday", 50, default=True)
    )
    await admit_create(plugin, pc("plain", 5))
    # Without a default, one may be made.
    await admit_create(PriorityAdmission(Classes([HIGH])), second)


@pytest.mark.parametrize(
    "new, old, want",
    [
        ({}, {"priority": 1000, "preemptionPolicy": "Never"}, (1000, "Never")),
        ({"priority": 1000}, {"priority": 1000, "preemptionPolicy": "Never"}, (1000, "Never")),
        # A change is kept, for validation to refuse.
        ({"priority": 3}, {"priority": 1000}, (3, None)),
        ({}, {}, (None, None)),
    ],
)
async def test_an_update_keeps_the_admitted_priority(
    new: dict[str, Any], old: dict[str, Any], want: tuple[Any, ...]
) -> None:
    updated = pod(**new)
    await admit_update(PriorityAdmission(Classes([HIGH])), "", updated, pod(**old))
    spec = updated.spec
    assert (
        spec.priority if spec.HasField("priority") else None,
        spec.preemption_policy if spec.HasField("preemption_policy") else None,
    ) == want


async def test_a_pod_refused_before_its_name_is_generated_is_named_by_its_generate_name() -> None:
    # Mutating admission runs before the store generates the name (Kubernetes' create handler
    # admits, then BeforeCreate names): admission.NewForbidden names the object by generateName.
    p = pod(priorityClassName="nope")
    p.metadata.name, p.metadata.generate_name = "", "web-"
    with pytest.raises(errors.APIError) as caught:
        await admit(p, [HIGH])
    assert caught.value.message == (
        'pods "web-" is forbidden: no PriorityClass with name nope was found'
    )

"""What a pod requests: containers and sidecars add up, init containers raise it to their own
maximum (with the sidecars started before them), and limits stand in for missing requests
(kubernetes PodRequests)."""

from __future__ import annotations

import pytest

from podplane.api.core.v1 import core_pb2
from scheduler.framework.resources import Resource, pod_requests, pod_requests_pair
from tests.unit.scheduler.schedtest import container, pod


@pytest.mark.parametrize(
    "the_pod, cpu, memory",
    [
        (pod(), 0, 0),
        (pod(cpu="500m", memory="64Mi"), 500, 64 * 2**20),
        (
            pod(
                containers=[
                    container("a", requests={"cpu": "1"}),
                    container("b", requests={"cpu": "250m", "memory": "1G"}),
                ]
            ),
            1250,
            10**9,
        ),
        # Kubernetes' example: init 2/1G and 2/3G, containers 2/1G + 1/1G -> 3 cpu, 3G.
        (
            pod(
                init_containers=[
                    container("i1", requests={"cpu": "2", "memory": "1G"}),
                    container("i2", requests={"cpu": "2", "memory": "3G"}),
                ],
                containers=[
                    container("c1", requests={"cpu": "2", "memory": "1G"}),
                    container("c2", requests={"cpu": "1", "memory": "1G"}),
                ],
            ),
            3000,
            3 * 10**9,
        ),
        (pod(containers=[container(limits={"cpu": "2", "memory": "1Gi"})]), 2000, 2**30),
        (
            pod(
                containers=[container(requests={"cpu": "1"}, limits={"cpu": "2", "memory": "1Gi"})]
            ),
            1000,
            2**30,
        ),
        (pod(containers=[container(requests={"cpu": "0.1"})]), 100, 0),
        (pod(containers=[container(requests={"cpu": "bogus"})]), 0, 0),
    ],
    ids=["empty", "one", "sum", "init-max", "limits", "limits-fill-gaps", "decimal", "invalid"],
)
def test_pod_requests(the_pod: core_pb2.Pod, cpu: int, memory: int) -> None:
    r = pod_requests(the_pod)
    assert (r.milli_cpu, r.memory) == (cpu, memory)


def test_non_zero_requests_use_scoring_defaults_per_container() -> None:
    the_pod = pod(containers=[container("a"), container("b", requests={"cpu": "1"})])
    r = pod_requests(the_pod, non_zero=True)
    assert (r.milli_cpu, r.memory) == (1100, 2 * 200 * 2**20)


DEFAULT_MEMORY = 200 * 2**20


@pytest.mark.parametrize(
    "containers, requests, non_zero",
    [
        ([container()], (0, 0, {}), (100, DEFAULT_MEMORY, {})),
        (
            [container(limits={"cpu": "2", "memory": "1Gi"})],
            (2000, 2**30, {}),
            (2000, 2**30, {}),
        ),
        # An explicit zero is a request: no default stands in for it.
        ([container(requests={"cpu": "0"})], (0, 0, {}), (0, DEFAULT_MEMORY, {})),
        (
            [
                container("a", requests={"memory": "1Gi", "example.com/gpu": "1"}),
                container("b", limits={"cpu": "250m", "ephemeral-storage": "1Gi"}),
                container("c"),
            ],
            (250, 2**30, {"example.com/gpu": 1}),
            (450, 2**30 + 2 * DEFAULT_MEMORY, {"example.com/gpu": 1}),
        ),
    ],
    ids=["nothing", "limits", "zero-cpu", "three"],
)
def test_requests_and_non_zero_requests_are_worked_out_together(
    containers: list[core_pb2.Container],
    requests: tuple[int, int, dict[str, int]],
    non_zero: tuple[int, int, dict[str, int]],
) -> None:
    plain, scoring = pod_requests_pair(pod(containers=containers))
    assert (plain.milli_cpu, plain.memory, plain.scalar) == requests
    assert (scoring.milli_cpu, scoring.memory, scoring.scalar) == non_zero
    assert plain.ephemeral_storage == scoring.ephemeral_storage
    assert pod_requests(pod(containers=containers)) == plain


def test_an_apiserver_pod_is_worked_out_once_per_generation() -> None:
    first = pod(cpu="1")
    first.metadata.generation = 1
    assert pod_requests_pair(first) is pod_requests_pair(first)
    resized = pod(cpu="2", uid=first.metadata.uid)
    resized.metadata.generation = 2
    assert pod_requests_pair(resized)[0].milli_cpu == 2000
    # A pod not from the apiserver (no generation) has nothing to key it by: worked out anew.
    local = pod(cpu="1")
    assert pod_requests_pair(local) is not pod_requests_pair(local)


def sidecar(name: str, **requests: str) -> core_pb2.Container:
    c = container(name, requests=requests)
    c.restart_policy = "Always"
    return c


def test_sidecars_add_to_the_app_containers_and_to_later_init_containers() -> None:
    the_pod = pod(
        init_containers=[
            container("setup", requests={"cpu": "3"}),
            sidecar("proxy", cpu="500m", memory="64Mi"),
            container("migrate", requests={"cpu": "2"}),
        ],
        containers=[container("app", requests={"cpu": "1", "memory": "1Gi"})],
    )
    r = pod_requests(the_pod)
    # max(app + proxy = 1.5, setup = 3, migrate + proxy = 2.5) cpu; app + proxy memory.
    assert (r.milli_cpu, r.memory) == (3000, 2**30 + 64 * 2**20)


def test_a_sidecar_without_requests_counts_the_scoring_defaults() -> None:
    r = pod_requests(
        pod(init_containers=[sidecar("proxy")], containers=[container("app")]), non_zero=True
    )
    assert (r.milli_cpu, r.memory) == (200, 2 * 200 * 2**20)


def test_resource_list_arithmetic() -> None:
    r = Resource.from_list(
        {
            "cpu": "1",
            "memory": "1Ki",
            "pods": "3",
            "example.com/gpu": "2",
            "hugepages-2Mi": "4Mi",
            "unknown": "7",
        }
    )
    assert (r.milli_cpu, r.memory, r.allowed_pod_number) == (1000, 1024, 3)
    assert r.scalar == {"example.com/gpu": 2, "hugepages-2Mi": 4 * 2**20}
    r.add(Resource.from_list({"cpu": "500m", "example.com/gpu": "1"}))
    assert (r.milli_cpu, r.get("example.com/gpu")) == (1500, 3)
    r.subtract(Resource.from_list({"cpu": "1500m", "example.com/gpu": "3"}))
    assert r.milli_cpu == 0 and r.get("example.com/gpu") == 0

"""A pod's requests and limits as a whole, with sidecars (component-helpers resource.PodRequests,
KEP-753): app containers and sidecars add up; while initializing, init container i needs its own
requests plus those of the sidecars started before it; the pod needs the larger of the two."""

from __future__ import annotations

from typing import Any

import pytest

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import pod_resources

Gi = 2**30


def c(
    name: str,
    cpu: str = "",
    memory: str = "",
    sidecar: bool = False,
    limits: dict[str, str] | None = None,
) -> Any:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    container = core_pb2.Container(
        name=name,
        image="busybox",
        resources=core_pb2.ResourceRequirements(requests=requests, limits=limits or {}),
    )
    if sidecar:
        container.restart_policy = "Always"
    return container


def pod(inits: list[Any], apps: list[Any]) -> core_pb2.Pod:
    return core_pb2.Pod(spec=core_pb2.PodSpec(init_containers=inits, containers=apps))


@pytest.mark.parametrize(
    ("inits", "apps", "cpu", "memory"),
    [
        ([], [c("a", "1", "1Gi"), c("b", "500m")], 1500, Gi),
        # A regular init container runs alone: the pod needs the larger of it and the apps.
        ([c("i", "2", "3Gi")], [c("a", "1", "1Gi")], 2000, 3 * Gi),
        # A sidecar runs beside the app containers: it adds up.
        ([c("s", "250m", "64Mi", sidecar=True)], [c("a", "1", "1Gi")], 1250, Gi + 64 * 2**20),
        # An init container started before the sidecar runs without it...
        ([c("i", "4"), c("s", "1", sidecar=True)], [c("a", "1")], 4000, 0),
        # ...and one started after it runs beside it.
        ([c("s", "1", sidecar=True), c("i", "4")], [c("a", "1")], 5000, 0),
        # KEP-753's walk: s1 | i1 + s1 | s1 + s2 | i2 + s1 + s2, against app + s1 + s2.
        (
            [
                c("s1", "1", sidecar=True),
                c("i1", "2"),
                c("s2", "1", sidecar=True),
                c("i2", "3"),
            ],
            [c("a", "1")],
            5000,
            0,
        ),
        # Limits stand in for missing requests, in sidecars as elsewhere.
        ([c("s", sidecar=True, limits={"cpu": "300m"})], [c("a", "1")], 1300, 0),
    ],
    ids=[
        "apps-only",
        "init-alone",
        "sidecar-adds",
        "init-before-sidecar",
        "init-after-sidecar",
        "kep-example",
        "sidecar-limits",
    ],
)
def test_pod_requests(inits: list[Any], apps: list[Any], cpu: int, memory: int) -> None:
    totals = pod_resources.pod_requests(pod(inits, apps))
    assert (totals.get("cpu", 0), totals.get("memory", 0)) == (cpu, memory)


def test_pod_limits_follow_the_same_rule() -> None:
    p = pod(
        [c("s", sidecar=True, limits={"cpu": "500m"}), c("i", limits={"cpu": "2"})],
        [c("a", limits={"cpu": "1", "memory": "1Gi"})],
    )
    assert pod_resources.pod_limits(p) == {"cpu": 2500, "memory": Gi}


def test_a_regular_init_container_with_restart_policy_unset_is_no_sidecar() -> None:
    regular = c("i", "2")
    assert not regular.HasField("restart_policy")
    assert pod_resources.pod_requests(pod([regular], [c("a", "1")])) == {"cpu": 2000}

"""The LimitRanger admission plugin: a new pod's containers and init containers get the
namespace's defaults, noted in kubernetes.io/limit-ranger; min, max and maxLimitRequestRatio are
enforced for containers, pods and claims with Kubernetes' words; pod updates are not limited."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from apiserver import errors
from apiserver.admission.limit_ranger import LimitRanger
from apiserver.defaulting import quota as quota_defaulting
from podplane.api.core.v1 import quota_pb2
from podplane.apimachinery import manifest
from tests.unit.apiserver.admission_calls import admit_create, admit_update


def _limit_range(*limits: dict[str, Any]) -> quota_pb2.LimitRange:
    lr: quota_pb2.LimitRange = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "LimitRange",
            "metadata": {"name": "limits", "namespace": "default"},
            "spec": {"limits": list(limits)},
        },
        quota_pb2.LimitRange,
    )
    quota_defaulting.limit_range(lr)
    return lr


def _plugin(*ranges: quota_pb2.LimitRange) -> LimitRanger:
    async def stored(namespace: str) -> Sequence[quota_pb2.LimitRange]:
        return list(ranges)

    return LimitRanger(lambda ns: list(ranges), stored)


def _pod(*containers: dict[str, Any], init: Sequence[dict[str, Any]] = ()) -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "x", "namespace": "default"},
            "spec": {"containers": list(containers), "initContainers": list(init)},
        }
    )


def _c(
    name: str, requests: dict[str, str] | None = None, limits: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "name": name,
        "image": "busybox",
        "resources": {"requests": requests or {}, "limits": limits or {}},
    }


async def test_defaults_fill_what_containers_leave_out_and_are_noted() -> None:
    lr = _limit_range(
        {
            "type": "Container",
            "default": {"cpu": "500m", "memory": "128Mi"},
            "defaultRequest": {"cpu": "250m"},
        }
    )
    pod = _pod(_c("app", requests={"memory": "64Mi"}), init=[_c("setup")])
    await admit_create(_plugin(lr), pod)
    app, setup = pod.spec.containers[0], pod.spec.init_containers[0]
    assert dict(app.resources.requests) == {"cpu": "250m", "memory": "64Mi"}
    assert dict(app.resources.limits) == {"cpu": "500m", "memory": "128Mi"}
    assert dict(setup.resources.requests) == {"cpu": "250m", "memory": "128Mi"}
    assert pod.metadata.annotations["kubernetes.io/limit-ranger"] == (
        "LimitRanger plugin set: cpu request for container app; cpu, memory limit for container "
        "app; cpu, memory request for init container setup; cpu, memory limit for init "
        "container setup"
    )


@pytest.mark.parametrize(
    "limit, container, message",
    [
        (
            {"type": "Container", "max": {"cpu": "500m"}},
            _c("c", {"cpu": "100m"}, {"cpu": "1"}),
            "maximum cpu usage per Container is 500m, but limit is 1",
        ),
        (
            {"type": "Container", "min": {"memory": "64Mi"}},
            _c("c", {"memory": "32Mi"}, {"memory": "128Mi"}),
            "minimum memory usage per Container is 64Mi, but request is 32Mi",
        ),
        (
            {"type": "Container", "maxLimitRequestRatio": {"cpu": "2"}},
            _c("c", {"cpu": "250m"}, {"cpu": "1"}),
            "cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000",
        ),
        (
            {"type": "Pod", "max": {"memory": "100Mi"}},
            _c("c", {"memory": "64Mi"}, {"memory": "128Mi"}),
            "maximum memory usage per Pod is 100Mi, but limit is 128Mi",
        ),
    ],
)
async def test_bounds_are_refused_in_kubernetes_words(
    limit: dict[str, Any], container: dict[str, Any], message: str
) -> None:
    lr = _limit_range(limit)
    # A Container item's max is its default limit too: the container states its own.
    with pytest.raises(errors.APIError) as refused:
        await admit_create(_plugin(lr), _pod(container))
    assert refused.value.code.name == "PERMISSION_DENIED"
    assert refused.value.message == f'pods "x" is forbidden: {message}'


async def test_several_refusals_are_one_bracketed_list() -> None:
    lr = _limit_range({"type": "Container", "min": {"cpu": "1"}})
    with pytest.raises(errors.APIError) as refused:
        await admit_create(_plugin(lr), _pod(_c("a", {"cpu": "100m"}), _c("b", {"cpu": "200m"})))
    assert refused.value.message == (
        'pods "x" is forbidden: [minimum cpu usage per Container is 1, but request is 100m, '
        "minimum cpu usage per Container is 1, but request is 200m]"
    )


async def test_a_claims_storage_is_bounded_by_its_request() -> None:
    lr = _limit_range({"type": "PersistentVolumeClaim", "max": {"storage": "1Gi"}})
    pvc = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": "default"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "2Gi"}},
            },
        }
    )
    with pytest.raises(errors.APIError) as refused:
        await admit_create(_plugin(lr), pvc)
    assert refused.value.message == (
        'persistentvolumeclaims "data" is forbidden: maximum storage usage per '
        "PersistentVolumeClaim is 1Gi, but request is 2Gi"
    )


async def test_pod_updates_are_not_limited() -> None:
    lr = _limit_range({"type": "Container", "min": {"cpu": "1"}})
    pod = _pod(_c("a", {"cpu": "100m"}))
    await admit_update(_plugin(lr), "", pod, pod)
    assert not pod.metadata.annotations

"""Property tests: well-formed messages with bad values, sent to the real apiserver over real etcd.

Each property takes a valid Pod, breaks one field with generated values (unknown enum strings,
invalid names, huge strings, out-of-range numbers, wide affinity terms) and checks that the create
or update is refused with INVALID_ARGUMENT naming that field, Kubernetes' way
(`Pod "x" is invalid: spec.containers[0].image: Required value`), and that a refused update
leaves the stored object and its resourceVersion unchanged."""

from __future__ import annotations

import string
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest_asyncio
from hypothesis import given
from hypothesis import strategies as st

from apiserver.server import APIServer
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.client.clientset import Client
from tests.integration.bad_input import (
    BAD_INPUT,
    Rejection,
    assert_invalid_field,
    assert_serving,
    method,
    raw_call,
    stored_objects,
)
from tests.support import new_namespace

Mutation = Callable[[core_pb2.Pod, Any], object]
_DNS_LABEL_CHARS = string.ascii_lowercase + string.digits + "-"


def _not_in(*valid: str) -> st.SearchStrategy[str]:
    return st.text(min_size=1, max_size=30).filter(lambda s: s not in valid)


def _not_dns_label() -> st.SearchStrategy[str]:
    def invalid(s: str) -> bool:
        return (
            len(s) > 63 or any(c not in _DNS_LABEL_CHARS for c in s) or s[0] == "-" or s[-1] == "-"
        )

    return st.text(min_size=1, max_size=80).filter(invalid) | st.integers(64, 300_000).map(
        lambda n: "a" * n
    )


def _set(attr: str) -> Mutation:
    def mutate(pod: core_pb2.Pod, value: Any) -> None:
        target: Any = pod
        *parents, last = attr.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else getattr(target, part)
        setattr(target, last, value)

    return mutate


def _node_affinity_operator(pod: core_pb2.Pod, value: tuple[int, str]) -> None:
    terms, operator = value
    selector = pod.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution
    for i in range(terms):
        selector.node_selector_terms.add().match_expressions.add(
            key="zone", operator="In" if i < terms - 1 else operator, values=["a"]
        )


def _pod_anti_affinity_operator(pod: core_pb2.Pod, value: tuple[int, str]) -> None:
    terms, operator = value
    anti = pod.spec.affinity.pod_anti_affinity
    for i in range(terms):
        term = anti.required_during_scheduling_ignored_during_execution.add(
            topology_key="kubernetes.io/hostname"
        )
        term.label_selector.match_expressions.add(
            key="app", operator="In" if i < terms - 1 else operator, values=["web"]
        )


def _label(pod: core_pb2.Pod, key: str) -> None:
    pod.metadata.labels[key] = "v"


def _request(pod: core_pb2.Pod, amount: str) -> None:
    pod.spec.containers[0].resources.requests["cpu"] = amount


# (field path the error must name, how to break the pod, the bad values)
CASES: list[tuple[str, Mutation, st.SearchStrategy[Any]]] = [
    ("spec.restartPolicy", _set("spec.restart_policy"), _not_in("Always", "OnFailure", "Never")),
    (
        "spec.dnsPolicy",
        _set("spec.dns_policy"),
        _not_in("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"),
    ),
    (
        "spec.containers[0].imagePullPolicy",
        _set("spec.containers.0.image_pull_policy"),
        _not_in("Always", "IfNotPresent", "Never"),
    ),
    ("spec.containers[0].name", _set("spec.containers.0.name"), _not_dns_label()),
    (
        "metadata.name",
        _set("metadata.name"),
        st.text(min_size=1, max_size=40).filter(
            lambda s: not s.isascii() or s != s.lower() or any(c in " _/\\:@!" for c in s)
        )
        | st.integers(254, 300_000).map(lambda n: "a" * n),
    ),
    (
        "metadata.labels",
        _label,
        st.text(min_size=1, max_size=30).filter(
            lambda s: any(c in " !@#$%^&*(){}[]<>,;:'\"" for c in s)
        )
        | st.integers(64, 5000).map(lambda n: "k" * n),
    ),
    (
        "spec.containers[0].ports[0].containerPort",
        lambda pod, v: pod.spec.containers[0].ports.add(container_port=v),
        st.integers(-(2**31), 0) | st.integers(65536, 2**31 - 1),
    ),
    (
        "spec.containers[0].ports[0].protocol",
        lambda pod, v: pod.spec.containers[0].ports.add(container_port=80, protocol=v),
        _not_in("TCP", "UDP", "SCTP"),
    ),
    (
        "spec.terminationGracePeriodSeconds",
        _set("spec.termination_grace_period_seconds"),
        st.integers(-(2**63), -1),
    ),
    ("spec.activeDeadlineSeconds", _set("spec.active_deadline_seconds"), st.integers(-(2**63), 0)),
    (
        "spec.containers[0].resources.requests",
        _request,
        st.text(min_size=1, max_size=20).filter(lambda s: not s.strip().isdigit()),
    ),
    (
        "spec.affinity.nodeAffinity",
        _node_affinity_operator,
        st.tuples(
            st.integers(1, 300), _not_in("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
        ),
    ),
    (
        "spec.affinity.podAntiAffinity",
        _pod_anti_affinity_operator,
        st.tuples(st.integers(1, 300), _not_in("In", "NotIn", "Exists", "DoesNotExist")),
    ),
    (
        "spec.tolerations[0].operator",
        lambda pod, v: pod.spec.tolerations.add(key="k", operator=v, value="v"),
        _not_in("Equal", "Exists"),
    ),
    ("spec.containers[0].image", _set("spec.containers.0.image"), st.just("")),
]


def _pod(namespace: str, name: str = "broken") -> core_pb2.Pod:
    pod = core_pb2.Pod(metadata=meta_pb2.ObjectMeta(name=name, namespace=namespace))
    pod.spec.containers.add(name="web", image="nginx")
    return pod


@pytest_asyncio.fixture(scope="module")
async def seeded(client: Client) -> AsyncIterator[str]:
    namespace = await new_namespace(client, "bad-objects-")
    await client.pods.create(_pod(namespace, "web-0"))
    yield namespace


@pytest_asyncio.fixture
async def channel(apiserver: APIServer) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{apiserver.port}") as ch:
        yield ch


@pytest_asyncio.fixture
async def unchanged(client: Client, seeded: str, channel: grpc.aio.Channel) -> AsyncIterator[str]:
    before = await stored_objects(client, seeded)
    yield seeded
    await assert_serving(channel, client, seeded)
    assert await stored_objects(client, seeded) == before


@pytest_asyncio.fixture(scope="module")
async def status_target(client: Client) -> AsyncIterator[str]:
    """A pod of its own whose status the status property may change."""
    namespace = await new_namespace(client, "bad-status-")
    await client.pods.create(_pod(namespace, "status-target"))
    yield namespace


@st.composite
def broken_field(draw: st.DrawFn) -> tuple[str, Mutation, Any]:
    path, mutate, values = draw(st.sampled_from(CASES))
    return path, mutate, draw(values)


@given(case=broken_field())
@BAD_INPUT
async def test_a_create_with_a_bad_field_names_it(
    channel: grpc.aio.Channel, unchanged: str, case: tuple[str, Mutation, Any]
) -> None:
    path, mutate, value = case
    pod = _pod(unchanged)
    mutate(pod, value)
    rejection = await raw_call(channel, method(resources.POD, "Create"), pod.SerializeToString())
    assert_invalid_field(rejection, path)


@given(case=broken_field())
@BAD_INPUT
async def test_a_refused_update_leaves_the_stored_pod_alone(
    channel: grpc.aio.Channel, client: Client, unchanged: str, case: tuple[str, Mutation, Any]
) -> None:
    path, mutate, value = case
    stored = await client.pods.get("web-0", unchanged)
    pod = core_pb2.Pod()
    pod.CopyFrom(stored)
    if path == "metadata.name":  # a rename is another object: NOT_FOUND, nothing to compare
        return
    if path == "spec.tolerations[0].operator":  # added after the tolerations the pod has
        path = f"spec.tolerations[{len(stored.spec.tolerations)}].operator"
    mutate(pod, value)
    rejection = await raw_call(channel, method(resources.POD, "Update"), pod.SerializeToString())
    # Most pod spec fields are immutable: either their own error or "spec: Forbidden".
    if path.startswith("spec.") and "spec: Forbidden" in rejection.message:
        assert_invalid_field(rejection, "spec")
    else:
        assert_invalid_field(rejection, path)
    after = await client.pods.get("web-0", unchanged)
    assert after.metadata.resource_version == stored.metadata.resource_version
    assert after == stored


@given(case=broken_field())
@BAD_INPUT
async def test_bad_status_values_are_refused_or_ignored_but_never_crash(
    channel: grpc.aio.Channel, client: Client, status_target: str, case: tuple[str, Mutation, Any]
) -> None:
    """UpdateStatus ignores spec changes; whatever comes back is a clear status."""
    _, mutate, value = case
    pod = await client.pods.get("status-target", status_target)
    mutate(pod, value)
    pod.status.phase = str(value)[:40] if isinstance(value, str) else "Bogus"
    result: Rejection = await raw_call(
        channel, method(resources.POD, "UpdateStatus"), pod.SerializeToString()
    )
    assert result.code in (
        grpc.StatusCode.OK,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.NOT_FOUND,
    ), result
    await assert_serving(channel, client, status_target)


@given(
    width=st.integers(1, 500),
    operator=_not_in("In", "NotIn", "Exists", "DoesNotExist"),
    key=st.text(min_size=1, max_size=10),
)
@BAD_INPUT
async def test_a_deployment_selector_with_a_bad_expression_names_it(
    channel: grpc.aio.Channel, unchanged: str, width: int, operator: str, key: str
) -> None:
    """A wide selector (hundreds of expressions), the last one broken: its index is named."""
    deployment = apps_pb2.Deployment(metadata=meta_pb2.ObjectMeta(name="wide", namespace=unchanged))
    selector = deployment.spec.selector
    selector.match_labels["app"] = "web"
    for i in range(width - 1):
        selector.match_expressions.add(key=f"k{i}", operator="Exists")
    selector.match_expressions.add(key="app", operator=operator, values=[key])
    deployment.spec.template.metadata.labels["app"] = "web"
    deployment.spec.template.spec.containers.add(name="web", image="nginx")
    rejection = await raw_call(
        channel, method(resources.DEPLOYMENT, "Create"), deployment.SerializeToString()
    )
    assert_invalid_field(rejection, f"spec.selector.matchExpressions[{width - 1}].operator")

"""NodeRestriction: what a kubelet writes must be its own Node, its own Lease, its own pods'
status, its own mirror pods, and it evicts only its own pods; other users are not its
business."""

from __future__ import annotations

from collections.abc import Awaitable, Iterator
from typing import Any

import grpc
import pytest

from apiserver import errors
from apiserver.admission.node_restriction import MIRROR_POD_ANNOTATION, NodeRestriction
from apiserver.auth.user import NODES_GROUP, UserInfo, reset_current_user, set_current_user
from apiserver.registry.pod.eviction import eviction_attributes
from podplane.api.authentication.v1 import token_request_pb2
from podplane.api.coordination.v1 import lease_pb2
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.api.policy.v1 import policy_pb2
from podplane.api.storage.v1 import csi_pb2
from podplane.apimachinery import resources
from tests.unit.apiserver.admission_calls import admit_create, admit_delete, admit_update

ADMISSION = NodeRestriction()


@pytest.fixture
def as_node_1() -> Iterator[None]:
    token = set_current_user(UserInfo("system:node:node-1", frozenset({NODES_GROUP})))
    yield
    reset_current_user(token)


def pod(node: str, mirror: bool = False) -> core_pb2.Pod:
    p = core_pb2.Pod(metadata=meta_pb2.ObjectMeta(name="web", namespace="default"))
    p.spec.node_name = node
    if mirror:
        p.metadata.annotations[MIRROR_POD_ANNOTATION] = "hash"
    return p


def _with_secret(p: core_pb2.Pod) -> core_pb2.Pod:
    p.spec.volumes.add(name="s").secret.secret_name = "db"
    return p


def _with_claim(p: core_pb2.Pod) -> core_pb2.Pod:
    p.spec.volumes.add(name="d").persistent_volume_claim.claim_name = "data"
    return p


def _with_account(p: core_pb2.Pod) -> core_pb2.Pod:
    p.spec.service_account_name = "robot"
    return p


def node(name: str) -> core_pb2.Node:
    return core_pb2.Node(metadata=meta_pb2.ObjectMeta(name=name))


def csi_node(name: str) -> csi_pb2.CSINode:
    return csi_pb2.CSINode(metadata=meta_pb2.ObjectMeta(name=name))


def lease(name: str) -> lease_pb2.Lease:
    return lease_pb2.Lease(metadata=meta_pb2.ObjectMeta(name=name, namespace="kube-node-lease"))


async def _refusal(call: Awaitable[None]) -> str | None:
    try:
        await call
    except errors.APIError as e:
        assert e.code == grpc.StatusCode.PERMISSION_DENIED
        return e.message
    return None


@pytest.mark.parametrize(
    "what, subresource, old, refusal",
    [
        ("own pod's status", "status", pod("node-1"), None),
        (
            "another node's pod's status",
            "status",
            pod("node-2"),
            'pods "web" is forbidden: node "node-1" can only update pod status for pods with '
            "spec.nodeName set to itself",
        ),
        (
            "a pod's spec",
            "",
            pod("node-1"),
            'pods "web" is forbidden: node "node-1" is not allowed to update pods',
        ),
        ("own node", "", node("node-1"), None),
        ("own node's status", "status", node("node-1"), None),
        (
            "another node",
            "",
            node("node-2"),
            'nodes "node-2" is forbidden: node "node-1" is not allowed to modify node "node-2"',
        ),
        (
            "another node's status",
            "status",
            node("node-2"),
            'nodes "node-2" is forbidden: node "node-1" is not allowed to modify node "node-2"',
        ),
        ("own lease", "", lease("node-1"), None),
        (
            "another node's lease",
            "",
            lease("node-2"),
            'leases.coordination.k8s.io "node-2" is forbidden: can only access node lease with the '
            "same name as the requesting node",
        ),
    ],
)
async def test_updates(
    as_node_1: None, what: str, subresource: str, old: Any, refusal: str | None
) -> None:
    assert await _refusal(admit_update(ADMISSION, subresource, old, old)) == refusal, what


@pytest.mark.parametrize(
    "old, refusal",
    [
        (pod("node-1"), None),
        (
            pod("node-2"),
            'pods "web" is forbidden: node "node-1" can only delete pods with '
            "spec.nodeName set to itself",
        ),
        (
            pod(""),
            'pods "web" is forbidden: node "node-1" can only delete pods with spec.nodeName '
            "set to itself",
        ),
        (
            node("node-2"),
            'nodes "node-2" is forbidden: node "node-1" is not allowed to modify node "node-2"',
        ),
        (csi_node("node-1"), None),
        (
            csi_node("node-2"),
            'csinodes.storage.k8s.io "node-2" is forbidden: can only access CSINode with the '
            "same name as the requesting node",
        ),
    ],
)
async def test_deletes(as_node_1: None, old: Any, refusal: str | None) -> None:
    assert await _refusal(admit_delete(ADMISSION, old)) == refusal


@pytest.mark.parametrize(
    "obj, refusal",
    [
        (pod("node-1", mirror=True), None),
        (
            pod("node-1"),
            f'pods "web" is forbidden: pod does not have "{MIRROR_POD_ANNOTATION}" '
            f'annotation, node "node-1" can only create mirror pods',
        ),
        (
            pod("node-2", mirror=True),
            'pods "web" is forbidden: node "node-1" can only create pods '
            "with spec.nodeName set to itself",
        ),
        (
            _with_secret(pod("node-1", mirror=True)),
            'pods "web" is forbidden: node "node-1" can not create pods that reference secrets',
        ),
        (
            _with_claim(pod("node-1", mirror=True)),
            'pods "web" is forbidden: node "node-1" can not create pods that reference '
            "persistentvolumeclaims",
        ),
        (node("node-1"), None),
        (
            node("node-2"),
            'nodes "node-2" is forbidden: node "node-1" is not allowed to modify node "node-2"',
        ),
        (lease("node-1"), None),
        (
            lease("node-2"),
            'leases.coordination.k8s.io "node-2" is forbidden: can only access node '
            "lease with the same name as the requesting node",
        ),
        (csi_node("node-1"), None),
        (
            csi_node("node-2"),
            'csinodes.storage.k8s.io "node-2" is forbidden: can only access CSINode with the '
            "same name as the requesting node",
        ),
        (
            _with_account(pod("node-1", mirror=True)),
            'pods "web" is forbidden: node "node-1" can not create pods that reference a '
            "service account",
        ),
        (core_pb2.Event(metadata=meta_pb2.ObjectMeta(name="e")), None),
    ],
)
async def test_creates(as_node_1: None, obj: Any, refusal: str | None) -> None:
    try:
        await admit_create(ADMISSION, obj)
        got = None
    except errors.APIError as e:
        got = e.message
    assert got == refusal


async def test_other_users_and_no_user_pass() -> None:
    token = set_current_user(UserInfo("admin", frozenset({"system:masters"})))
    try:
        await admit_update(ADMISSION, "status", pod("node-2"), pod("node-2"))
        await admit_delete(ADMISSION, node("node-2"))
        await admit_create(ADMISSION, pod("node-2"))
    finally:
        reset_current_user(token)
    await admit_delete(ADMISSION, pod("node-2"))  # no authentication configured


def token_request(kind: str = "Pod", uid: str = "uid-web") -> token_request_pb2.TokenRequest:
    request = token_request_pb2.TokenRequest()
    ref = request.spec.bound_object_ref
    ref.api_version, ref.kind, ref.name, ref.uid = "v1", kind, "web", uid
    return request


async def pod_named(name: str) -> core_pb2.Pod:
    if name != "web":
        raise errors.not_found(resources.POD, name)
    bound = pod("node-1")
    bound.metadata.uid = "uid-web"
    return bound


NOT_BOUND = token_request_pb2.TokenRequest()
PREFIX = 'serviceaccounts "robot" is forbidden: '


@pytest.mark.parametrize(
    "request_, refusal",
    [
        (token_request(), None),
        (NOT_BOUND, PREFIX + "node requested token not bound to a pod"),
        (token_request(kind="Secret"), PREFIX + "node requested token not bound to a pod"),
        (token_request(uid=""), PREFIX + "node requested token with a pod binding without a uid"),
        (
            token_request(uid="old"),
            PREFIX + "the UID in the bound object reference (old) does not match the UID in "
            "record. The object might have been deleted and then recreated",
        ),
    ],
)
async def test_a_nodes_token_is_bound_to_its_own_pod(
    as_node_1: None, request_: token_request_pb2.TokenRequest, refusal: str | None
) -> None:
    try:
        await ADMISSION.admit_token_request("robot", request_, pod_named)
        got = None
    except errors.APIError as e:
        assert e.code == grpc.StatusCode.PERMISSION_DENIED
        got = e.message
    assert got == refusal


async def test_a_token_bound_to_another_nodes_pod_is_refused() -> None:
    token = set_current_user(UserInfo("system:node:node-2", frozenset({NODES_GROUP})))
    try:
        with pytest.raises(errors.APIError) as refused:
            await ADMISSION.admit_token_request("robot", token_request(), pod_named)
    finally:
        reset_current_user(token)
    assert refused.value.message == (
        PREFIX + "node requested token bound to a pod scheduled on a different node"
    )
    # Other users' token requests are not this plugin's business.
    await ADMISSION.admit_token_request("robot", NOT_BOUND, pod_named)


async def pod_in(namespace: str, name: str) -> core_pb2.Pod:
    return await pod_named(name)


async def test_a_node_evicts_its_own_pods_and_an_unknown_pod_is_not_found(as_node_1: None) -> None:
    admission = NodeRestriction(pod_in)
    own = policy_pb2.Eviction(metadata=meta_pb2.ObjectMeta(name="web", namespace="default"))
    await admission.admit(eviction_attributes("default", "web", own, dry_run=False))
    unknown = policy_pb2.Eviction(metadata=meta_pb2.ObjectMeta(name="gone", namespace="default"))
    with pytest.raises(errors.APIError) as missing:
        await admission.admit(eviction_attributes("default", "gone", unknown, dry_run=False))
    assert missing.value.reason == "NotFound"


async def test_a_node_may_not_evict_another_nodes_pod() -> None:
    token = set_current_user(UserInfo("system:node:node-2", frozenset({NODES_GROUP})))
    eviction = policy_pb2.Eviction(metadata=meta_pb2.ObjectMeta(name="web", namespace="default"))
    try:
        with pytest.raises(errors.APIError) as refused:
            await NodeRestriction(pod_in).admit(
                eviction_attributes("default", "web", eviction, dry_run=False)
            )
    finally:
        reset_current_user(token)
    assert refused.value.code == grpc.StatusCode.PERMISSION_DENIED
    assert refused.value.message == (
        'pods "web" is forbidden: node node-2 can only evict pods with spec.nodeName set to itself'
    )

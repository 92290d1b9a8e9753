"""Authorization: the static roles (admin, viewer, scheduler, controller-manager), the node
authorizer's limits for kubelets, the attributes read from each request message, Kubernetes'
refusal message, and the interceptor on a real grpc.aio server with an injected identity."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, ClassVar

import grpc
import pytest

from apiserver.auth.authorizer import Attributes, Authorizer, forbidden
from apiserver.auth.node_authorizer import Decision
from apiserver.auth.user import (
    MASTERS_GROUP,
    NODES_GROUP,
    UserInfo,
    reset_current_user,
    set_current_user,
)
from apiserver.endpoints.grpc.interceptors.authorization import AuthorizationInterceptor, attributes
from apiserver.endpoints.grpc.interceptors.request_info import request_info
from podplane.api.core.v1 import core_pb2, services_pb2_grpc
from podplane.api.meta.v1 import meta_pb2
from podplane.componentbase.serving import Server

ADMIN = UserInfo("admin", frozenset({MASTERS_GROUP}))
VIEWER = UserInfo("viewer", frozenset({"viewers"}))
SCHEDULER = UserInfo("system:kube-scheduler")
CONTROLLERS = UserInfo("system:kube-controller-manager")
NODE1 = UserInfo("system:node:node-1", frozenset({NODES_GROUP}))
KUBE_PROXY = UserInfo("system:kube-proxy", frozenset({"system:authenticated"}))
STRANGER = UserInfo("stranger", frozenset({"system:authenticated"}))


def _pod(name: str, node: str, secret: str = "", config_map: str = "") -> core_pb2.Pod:
    pod = core_pb2.Pod(metadata=meta_pb2.ObjectMeta(name=name, namespace="default"))
    pod.spec.node_name = node
    c = pod.spec.containers.add(name="c", image="busybox")
    if secret:
        c.env.add(name="PASSWORD").value_from.secret_key_ref.name = secret
    if config_map:
        pod.spec.volumes.add(name="cfg").config_map.name = config_map
    return pod


def _projected_pod(name: str, node: str) -> core_pb2.Pod:
    """A pod whose projected volume names a config map and a secret."""
    pod = _pod(name, node)
    sources = pod.spec.volumes.add(name="kube-api-access-x").projected.sources
    sources.add().config_map.name = "kube-root-ca.crt"
    sources.add().secret.name = "projected-secret"
    return pod


PODS = [
    _pod("on-1", "node-1", secret="db-password", config_map="settings"),
    _pod("on-2", "node-2", secret="other-secret"),
    _projected_pod("projected-on-1", "node-1"),
]
AUTHORIZER = Authorizer(lambda namespace: PODS if namespace == "default" else [])


@pytest.mark.parametrize(
    "user, verb, resource, sub, ns, name, allowed",
    [
        (ADMIN, "delete", "namespaces", "", "", "default", True),
        (ADMIN, "get", "secrets", "", "default", "s", True),
        (VIEWER, "get", "pods", "", "default", "web", True),
        (VIEWER, "list", "deployments", "", "", "", True),
        (VIEWER, "watch", "nodes", "", "", "", True),
        (VIEWER, "get", "pods", "log", "default", "web", True),
        (VIEWER, "create", "pods", "", "default", "", False),
        (VIEWER, "update", "pods", "", "default", "web", False),
        (VIEWER, "delete", "pods", "", "default", "web", False),
        (VIEWER, "get", "secrets", "", "default", "s", False),
        (VIEWER, "list", "secrets", "", "default", "", False),
        (VIEWER, "create", "pods", "exec", "default", "web", False),
        (SCHEDULER, "create", "pods", "binding", "default", "web", True),
        (SCHEDULER, "update", "pods", "status", "default", "web", True),
        (SCHEDULER, "update", "leases", "", "kube-system", "kube-scheduler", True),
        (SCHEDULER, "update", "leases", "", "kube-system", "kube-controller-manager", False),
        (SCHEDULER, "delete", "namespaces", "", "", "default", False),
        (SCHEDULER, "get", "secrets", "", "default", "s", False),
        (SCHEDULER, "list", "services", "", "", "", True),
        (SCHEDULER, "watch", "statefulsets", "", "", "", True),
        (SCHEDULER, "update", "nodes", "", "", "node-1", False),
        (CONTROLLERS, "create", "pods", "", "default", "", True),
        (CONTROLLERS, "delete", "namespaces", "", "", "gone", True),
        (CONTROLLERS, "update", "deployments", "status", "default", "web", True),
        (CONTROLLERS, "create", "pods", "binding", "default", "web", False),
        (CONTROLLERS, "create", "pods", "exec", "default", "web", False),
        (STRANGER, "get", "pods", "", "default", "web", False),
        # Services: viewers read them, the controller-manager writes their endpoints, nodes
        # (kubelets' environment variables) and kube-proxy (system:node-proxier) read them.
        (VIEWER, "list", "services", "", "", "", True),
        (VIEWER, "get", "endpointslices", "", "default", "web-x", True),
        (VIEWER, "create", "services", "", "default", "", False),
        (CONTROLLERS, "create", "endpointslices", "", "default", "", True),
        (CONTROLLERS, "create", "endpoints", "", "default", "", True),
        (CONTROLLERS, "update", "endpointslices", "", "default", "web-x", True),
        (CONTROLLERS, "create", "services", "", "default", "", False),
        (NODE1, "list", "services", "", "", "", True),
        (NODE1, "create", "services", "", "default", "", False),
        (NODE1, "update", "endpointslices", "", "default", "web-x", False),
        # Nodes are no kube-proxy: their credentials do not read the endpoints.
        (NODE1, "watch", "endpointslices", "", "", "", False),
        (NODE1, "list", "endpoints", "", "", "", False),
        # system:node-proxier, bound to system:kube-proxy as in Kubernetes' bootstrap policy.
        (KUBE_PROXY, "list", "services", "", "", "", True),
        (KUBE_PROXY, "watch", "services", "", "", "", True),
        (KUBE_PROXY, "list", "endpoints", "", "", "", True),
        (KUBE_PROXY, "watch", "endpointslices", "", "", "", True),
        (KUBE_PROXY, "get", "nodes", "", "", "node-1", True),
        (KUBE_PROXY, "watch", "nodes", "", "", "", True),
        (KUBE_PROXY, "create", "events", "", "default", "", True),
        (KUBE_PROXY, "get", "services", "", "default", "web", False),
        (KUBE_PROXY, "update", "endpointslices", "", "default", "web-x", False),
        (KUBE_PROXY, "update", "nodes", "", "", "node-1", False),
        (KUBE_PROXY, "list", "pods", "", "", "", False),
        # The node authorizer.
        (NODE1, "get", "secrets", "", "default", "db-password", True),
        (NODE1, "get", "secrets", "", "default", "other-secret", False),
        (NODE1, "list", "secrets", "", "default", "", False),
        (NODE1, "get", "configmaps", "", "default", "settings", True),
        (NODE1, "get", "configmaps", "", "default", "unrelated", False),
        (NODE1, "get", "configmaps", "", "default", "kube-root-ca.crt", True),
        (NODE1, "get", "secrets", "", "default", "projected-secret", True),
        (NODE1, "update", "leases", "", "kube-node-lease", "node-1", True),
        (NODE1, "create", "leases", "", "kube-node-lease", "", True),
        (NODE1, "update", "leases", "", "kube-node-lease", "node-2", False),
        (NODE1, "update", "leases", "", "kube-system", "node-1", False),
        (NODE1, "list", "leases", "", "kube-node-lease", "", False),
        # authorizeCSINode: its own CSINode (a create's name is NodeRestriction's to check).
        (NODE1, "get", "csinodes", "", "", "node-1", True),
        (NODE1, "create", "csinodes", "", "", "", True),
        (NODE1, "update", "csinodes", "", "", "node-2", False),
        (NODE1, "list", "csinodes", "", "", "", False),
        (NODE1, "watch", "csidrivers", "", "", "", True),
        (NODE1, "get", "volumeattachments", "", "", "va", False),
        (NODE1, "update", "nodes", "status", "", "node-1", True),
        (NODE1, "list", "pods", "", "", "", True),
        (NODE1, "update", "pods", "status", "default", "on-1", True),
        (NODE1, "update", "pods", "", "default", "on-1", False),
        (NODE1, "create", "pods", "binding", "default", "on-1", False),
        (NODE1, "create", "events", "", "default", "", True),
        (NODE1, "delete", "namespaces", "", "", "default", False),
        (NODE1, "create", "deployments", "", "default", "", False),
    ],
)
def test_who_may_do_what(
    user: UserInfo, verb: str, resource: str, sub: str, ns: str, name: str, allowed: bool
) -> None:
    decision = AUTHORIZER.authorize(Attributes(user, verb, resource, sub, ns, name))
    assert decision.allowed is allowed


def test_refusal_reads_as_kubernetes() -> None:
    create = Attributes(VIEWER, "create", "pods", "", "default", "")
    assert forbidden(create).message == (
        'pods is forbidden: User "viewer" cannot create resource "pods" in API group "" in the '
        'namespace "default"'
    )
    attrs = Attributes(NODE1, "get", "secrets", "", "default", "other-secret")
    decision = AUTHORIZER.authorize(attrs)
    err = forbidden(attrs, decision.reason)
    assert err.code == grpc.StatusCode.PERMISSION_DENIED
    assert err.message == (
        'secrets "other-secret" is forbidden: User "system:node:node-1" cannot get resource '
        '"secrets" in API group "" in the namespace "default": no relationship found between '
        "node 'node-1' and this object"
    )
    lease = Attributes(NODE1, "update", "leases", "", "kube-node-lease", "node-2")
    assert forbidden(lease).message.startswith(
        'leases.coordination.k8s.io "node-2" is forbidden: User "system:node:node-1" cannot '
        'update resource "leases" in API group "coordination.k8s.io" in the namespace'
    )
    ns = Attributes(SCHEDULER, "delete", "namespaces", "", "", "default")
    assert forbidden(ns).message.endswith(
        'resource "namespaces" in API group "" at the cluster scope'
    )


@pytest.mark.parametrize(
    "method, request_, expected",
    [
        (
            "/podplane.core.v1.Pods/Create",
            core_pb2.Pod(metadata=meta_pb2.ObjectMeta(name="web")),
            ("create", "", "default", ""),
        ),
        (
            "/podplane.core.v1.Pods/Get",
            meta_pb2.GetRequest(namespace="team", name="web"),
            ("get", "", "team", "web"),
        ),
        ("/podplane.core.v1.Pods/List", meta_pb2.ListRequest(), ("list", "", "", "")),
        (
            "/podplane.core.v1.Pods/Watch",
            meta_pb2.WatchRequest(namespace="a"),
            ("watch", "", "a", ""),
        ),
        (
            "/podplane.core.v1.Pods/UpdateStatus",
            core_pb2.Pod(metadata=meta_pb2.ObjectMeta(name="web", namespace="b")),
            ("update", "status", "b", "web"),
        ),
        (
            "/podplane.core.v1.Pods/Bind",
            core_pb2.Binding(metadata=meta_pb2.ObjectMeta(name="web")),
            ("create", "binding", "default", "web"),
        ),
        (
            "/podplane.core.v1.Pods/Delete",
            meta_pb2.DeleteRequest(name="web"),
            ("delete", "", "default", "web"),
        ),
        (
            "/podplane.core.v1.Pods/Exec",
            core_pb2.PodExecRequest(namespace="c", name="web"),
            ("create", "exec", "c", "web"),
        ),
        (
            "/podplane.core.v1.Nodes/Update",
            core_pb2.Node(metadata=meta_pb2.ObjectMeta(name="node-1", namespace="ignored")),
            ("update", "", "", "node-1"),
        ),
        (  # a watch of one object by name, as a standby leader elector's
            "/podplane.core.v1.Pods/Watch",
            meta_pb2.WatchRequest(namespace="a", field_selector="metadata.name=web"),
            ("watch", "", "a", "web"),
        ),
        (
            "/podplane.core.v1.Pods/List",
            meta_pb2.ListRequest(namespace="a", field_selector="metadata.name=web,spec.nodeName=n"),
            ("list", "", "a", "web"),
        ),
        (  # selecting no one name: the collection
            "/podplane.core.v1.Pods/Watch",
            meta_pb2.WatchRequest(namespace="a", field_selector="metadata.name!=web"),
            ("watch", "", "a", ""),
        ),
    ],
)
def test_attributes_read_from_the_request(
    method: str, request_: Any, expected: tuple[str, str, str, str]
) -> None:
    info = request_info(method)
    assert info is not None
    a = attributes(VIEWER, info, request_)
    assert (a.verb, a.subresource, a.namespace, a.name) == expected


# ------------------------------------------------------------------ the interceptor
class EchoPods(services_pb2_grpc.PodsServicer):  # type: ignore[misc]
    async def Create(self, request: core_pb2.Pod, context: grpc.aio.ServicerContext) -> Any:
        return request

    async def Get(self, request: meta_pb2.GetRequest, context: grpc.aio.ServicerContext) -> Any:
        return core_pb2.Pod(metadata=meta_pb2.ObjectMeta(name=request.name))

    async def Watch(
        self, request: meta_pb2.WatchRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[Any]:
        yield core_pb2.PodWatchEvent(type="ADDED")


class InjectedIdentity(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """A test-only stand-in for authentication: the user named in the call's `x-test-user`
    metadata, set for the call as the real authentication interceptor does."""

    USERS: ClassVar[dict[str, UserInfo]] = {"admin": ADMIN, "viewer": VIEWER}

    async def intercept_service(
        self, continuation: Callable[[Any], Awaitable[Any]], details: grpc.HandlerCallDetails
    ) -> Any:
        handler = await continuation(details)
        names = [v for k, v in details.invocation_metadata or () if k == "x-test-user"]
        user = self.USERS.get(names[0]) if names else None
        if handler is None or handler.unary_unary is None:
            if handler is not None and handler.unary_stream is not None:
                inner_stream = handler.unary_stream

                async def stream(request: Any, context: Any) -> AsyncIterator[Any]:
                    token = set_current_user(user)
                    try:
                        async for item in inner_stream(request, context):
                            yield item
                    finally:
                        reset_current_user(token)

                return grpc.unary_stream_rpc_method_handler(
                    stream,
                    request_deserializer=handler.request_deserializer,
                    response_serializer=handler.response_serializer,
                )
            return handler
        inner = handler.unary_unary

        async def call(request: Any, context: Any) -> Any:
            token = set_current_user(user)
            try:
                return await inner(request, context)
            finally:
                reset_current_user(token)

        return grpc.unary_unary_rpc_method_handler(
            call,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


async def test_interceptor_refuses_and_allows_on_a_real_server() -> None:
    def register(server: object) -> None:
        services_pb2_grpc.add_PodsServicer_to_server(EchoPods(), server)

    server = Server(
        "127.0.0.1:0",
        register,
        ["podplane.core.v1.Pods"],
        interceptors=[InjectedIdentity(), AuthorizationInterceptor(AUTHORIZER)],
    )
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            pods = services_pb2_grpc.PodsStub(channel)
            new = core_pb2.Pod(metadata=meta_pb2.ObjectMeta(name="web"))
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await pods.Create(new, metadata=[("x-test-user", "viewer")])
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert refused.value.details() == (
                'pods is forbidden: User "viewer" cannot create resource "pods" in API group "" '
                'in the namespace "default"'
            )
            got = await pods.Get(
                meta_pb2.GetRequest(name="web"), metadata=[("x-test-user", "viewer")]
            )
            assert got.metadata.name == "web"
            events = [
                e
                async for e in pods.Watch(
                    meta_pb2.WatchRequest(), metadata=[("x-test-user", "viewer")]
                )
            ]
            assert [e.type for e in events] == ["ADDED"]
            created = await pods.Create(new, metadata=[("x-test-user", "admin")])
            assert created.metadata.name == "web"
            # No user (authentication not configured): allowed as before.
            assert (await pods.Create(new)).metadata.name == "web"
    finally:
        await server.stop(0)


def test_a_node_gets_the_claims_of_its_pods_and_the_volumes_bound_to_them() -> None:
    user = _pod("user", "node-1")
    user.spec.volumes.add(name="data").persistent_volume_claim.claim_name = "data"
    claim = core_pb2.PersistentVolumeClaim(
        spec=core_pb2.PersistentVolumeClaimSpec(volume_name="pv-1")
    )
    claims = {("default", "data"): claim}
    authorizer = Authorizer(
        lambda namespace: [user] if namespace in ("default", "") else [],
        lambda namespace, name: claims.get((namespace, name)),
    )

    def allowed(node: UserInfo, verb: str, resource: str, ns: str, name: str) -> bool:
        return authorizer.authorize(Attributes(node, verb, resource, "", ns, name)).allowed

    assert allowed(NODE1, "get", "persistentvolumeclaims", "default", "data")
    assert allowed(NODE1, "get", "persistentvolumes", "", "pv-1")
    assert not allowed(NODE1, "get", "persistentvolumes", "", "pv-2")
    assert not allowed(NODE1, "list", "persistentvolumes", "", "")
    assert not allowed(NODE1, "get", "persistentvolumeclaims", "default", "other")
    node2 = UserInfo("system:node:node-2", frozenset({NODES_GROUP}))
    assert not allowed(node2, "get", "persistentvolumeclaims", "default", "data")
    assert not allowed(node2, "get", "persistentvolumes", "", "pv-1")


def test_a_node_gets_its_pods_ephemeral_claims_and_their_volumes_and_runtime_classes() -> None:
    user = _pod("web", "node-1")
    user.spec.volumes.add(name="scratch", ephemeral=core_pb2.EphemeralVolumeSource())
    claim = core_pb2.PersistentVolumeClaim(
        spec=core_pb2.PersistentVolumeClaimSpec(volume_name="pv-9")
    )
    authorizer = Authorizer(
        lambda namespace: [user] if namespace in ("default", "") else [],
        lambda namespace, name: claim if (namespace, name) == ("default", "web-scratch") else None,
    )

    def allowed(verb: str, resource: str, ns: str, name: str) -> bool:
        return authorizer.authorize(Attributes(NODE1, verb, resource, "", ns, name)).allowed

    assert allowed("get", "persistentvolumeclaims", "default", "web-scratch")
    assert allowed("get", "persistentvolumes", "", "pv-9")
    assert not allowed("get", "persistentvolumeclaims", "default", "scratch")
    assert allowed("get", "runtimeclasses", "", "gvisor")
    assert allowed("watch", "runtimeclasses", "", "")
    assert not allowed("create", "runtimeclasses", "", "")


def test_a_node_creates_tokens_only_for_the_accounts_its_pods_run_as() -> None:
    runner = _pod("runner", "node-1")
    runner.spec.service_account_name = "robot"
    authorizer = Authorizer(lambda namespace: [runner] if namespace == "default" else [])

    def decision(node: UserInfo, verb: str, subresource: str, ns: str, name: str) -> Decision:
        return authorizer.authorize(
            Attributes(node, verb, "serviceaccounts", subresource, ns, name)
        )

    assert decision(NODE1, "create", "token", "default", "robot").allowed
    node2 = UserInfo("system:node:node-2", frozenset({NODES_GROUP}))
    assert decision(node2, "create", "token", "default", "robot") == Decision(
        False, "no relationship found between node 'node-2' and this object"
    )
    assert decision(NODE1, "create", "token", "default", "other") == Decision(
        False, "no relationship found between node 'node-1' and this object"
    )
    assert decision(NODE1, "create", "token", "other-ns", "robot").allowed is False
    assert decision(NODE1, "get", "", "default", "robot") == Decision(
        False, "can only create tokens for individual service accounts"
    )
    assert decision(NODE1, "create", "", "default", "robot") == Decision(
        False, "can only create token subresource of serviceaccount"
    )

"""Authorization: who may do what (k8s.io/apiserver/pkg/authorization). The node authorizer decides
for kubelets, RBAC's static bootstrap roles (apiserver/auth/policy.py) for everyone else, as
kube-apiserver's --authorization-mode=Node,RBAC. An interceptor asks before each call and refuses
with PERMISSION_DENIED in Kubernetes' words.

Without authentication configured there is no user (current_user() is None) and every call is
allowed, as before authentication existed."""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc

from apiserver.endpoints.grpc.interceptors.handler_wrapping import Behavior, WrappingInterceptor, wrap_behaviors
from apiserver import errors
from apiserver.auth.node_authorizer import Decision, NodeAuthorizer, PodsInNamespace
from apiserver.auth.policy import rbac_allows
from apiserver.auth.user import UserInfo, current_user
from apiserver.endpoints.grpc.request_info import RequestInfo, request_info
from podplane.apimachinery import resources

_NAMESPACED = {r.plural for r in resources.ALL if r.namespaced}
_GROUPS = {r.plural: r.api_version.rpartition("/")[0] for r in resources.ALL}


@dataclass(frozen=True)
class Attributes:
    """authorizer.Attributes of a resource request."""
    user: UserInfo
    verb: str
    resource: str
    subresource: str = ""
    namespace: str = ""
    name: str = ""

    @property
    def api_group(self) -> str:
        return _GROUPS.get(self.resource, "")


class Authorizer:
    """Node, then RBAC: the first that allows wins; a node authorizer's reason is kept for the
    refusal (authorizerfactory union)."""

    def __init__(self, pods_in_namespace: PodsInNamespace) -> None:
        self.node = NodeAuthorizer(pods_in_namespace)

    def authorize(self, a: Attributes) -> Decision:
        reason = ""
        node = a.user.node_name
        if node is not None:
            decision = self.node.authorize(node, a.verb, a.resource, a.subresource, a.namespace,
                                           a.name)
            if decision.allowed:
                return decision
            reason = decision.reason
        if rbac_allows(a.user, a.verb, a.resource, a.subresource, a.name):
            return Decision(True)
        return Decision(False, reason)


def forbidden(a: Attributes, reason: str = "") -> errors.APIError:
    """responsewriters.forbiddenMessage inside errors.NewForbidden: `pods "x" is forbidden: User
    "viewer" cannot get resource "pods" in API group "" in the namespace "default"`."""
    resource = f"{a.resource}/{a.subresource}" if a.subresource else a.resource
    where = (f'in the namespace "{a.namespace}"' if a.namespace else "at the cluster scope")
    message = (f'User "{a.user.name}" cannot {a.verb} resource "{resource}" in API group '
               f'"{a.api_group}" {where}')
    if reason:
        message += f": {reason}"
    qualified = f"{a.resource}.{a.api_group}" if a.api_group else a.resource
    subject = f'{qualified} "{a.name}"' if a.name else qualified
    return errors.APIError(grpc.StatusCode.PERMISSION_DENIED, "Forbidden",
                           f"{subject} is forbidden: {message}")


def attributes(user: UserInfo, info: RequestInfo, request: Any) -> Attributes:
    """The namespace and name a request names: an object's metadata (create, update, bind), or the
    request's own fields (get, list, watch, delete, log, exec). A create names no object (POST to
    the collection); an empty namespace is the server's "default" except for list and watch, where
    it means every namespace."""
    verb = info.authorization_verb
    if hasattr(request, "metadata"):
        namespace, name = request.metadata.namespace, request.metadata.name
    else:
        namespace, name = getattr(request, "namespace", ""), getattr(request, "name", "")
    if verb == "create" and not info.subresource:
        name = ""
    if info.resource not in _NAMESPACED:
        namespace = ""
    elif not namespace and verb not in ("list", "watch"):
        namespace = "default"
    return Attributes(user, verb, info.resource, info.subresource, namespace, name)




class AuthorizationInterceptor(WrappingInterceptor):
    """Refuses a call its user may not make. Listed after the authentication interceptor, so its
    check runs inside the call where current_user() is set."""

    def __init__(self, authorizer: Authorizer) -> None:
        super().__init__()
        self.authorizer = authorizer

    async def _check(self, info: RequestInfo, request: Any,
                     context: grpc.aio.ServicerContext) -> None:
        user = current_user()
        if user is None:
            return
        attrs = attributes(user, info, request)
        decision = self.authorizer.authorize(attrs)
        if not decision.allowed:
            err = forbidden(attrs, decision.reason)
            await context.abort(err.code, err.message)

    def _unary(self, behavior: Behavior, info: RequestInfo) -> Callable[..., Awaitable[Any]]:
        async def handle(request: Any, context: grpc.aio.ServicerContext) -> Any:
            await self._check(info, request, context)
            return await behavior(request, context)
        return handle

    def _stream(self, behavior: Behavior, info: RequestInfo) -> Callable[..., AsyncIterator[Any]]:
        async def stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            await self._check(info, request, context)
            async with contextlib.aclosing(behavior(request, context)) as responses:
                async for response in responses:
                    yield response
        return stream

    def wrap_handler(self, method: str, handler: Any) -> Any:
        info = request_info(method)
        if info is None:
            return handler
        return wrap_behaviors(handler, lambda b: self._unary(b, info),
                              lambda b: self._stream(b, info))

"""NodeRestriction (plugin/pkg/admission/noderestriction/admission.go): what a kubelet writes must
be its own. It may create only mirror pods bound to itself, delete and update the status of only
pods bound to itself, write only its own Node, Lease and CSINode, and request only tokens bound to
a pod bound to itself. Other users pass untouched; what a node may not do at all (update a pod's
spec, list secrets) the authorizer has refused already."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import grpc
from google.protobuf.message import Message

from apiserver import errors
from apiserver.admission.attributes import CREATE, DELETE, UPDATE, Attributes
from apiserver.admission.interfaces import Handler
from apiserver.auth.node_authorizer import claim_names, config_map_names, secret_names
from apiserver.auth.user import current_user
from apiserver.objects import object_meta
from podplane.api.authentication.v1 import token_request_pb2
from podplane.api.coordination.v1 import lease_pb2
from podplane.api.core.v1 import core_pb2
from podplane.api.storage.v1 import csi_pb2
from podplane.apimachinery import resources

MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"

# Reads a pod of a namespace (the watch cache's, else storage's); NotFound if there is none.
PodReader = Callable[[str, str], Awaitable[core_pb2.Pod]]


def _forbidden(obj: Message, reason: str) -> errors.APIError:
    r = resources.by_message(obj)
    group = r.api_version.rpartition("/")[0]
    qualified = f"{r.plural}.{group}" if group else r.plural
    return errors.APIError(
        grpc.StatusCode.PERMISSION_DENIED,
        "Forbidden",
        f'{qualified} "{object_meta(obj).name}" is forbidden: {reason}',
    )


def _node() -> str | None:
    user = current_user()
    return user.node_name if user is not None else None


def _mirror_pod_of(node: str, pod: core_pb2.Pod) -> None:
    """A node creates only mirror pods bound to itself, which reach for nothing the node could
    then read through the graph."""
    if MIRROR_POD_ANNOTATION not in pod.metadata.annotations:
        raise _forbidden(
            pod,
            f'pod does not have "{MIRROR_POD_ANNOTATION}" annotation, '
            f'node "{node}" can only create mirror pods',
        )
    if pod.spec.node_name != node:
        raise _forbidden(
            pod, f'node "{node}" can only create pods with spec.nodeName set to itself'
        )
    if any(True for _ in secret_names(pod)):
        raise _forbidden(pod, f'node "{node}" can not create pods that reference secrets')
    if any(True for _ in config_map_names(pod)):
        raise _forbidden(pod, f'node "{node}" can not create pods that reference configmaps')
    if any(True for _ in claim_names(pod)):
        raise _forbidden(
            pod, f'node "{node}" can not create pods that reference persistentvolumeclaims'
        )
    if pod.spec.service_account_name:
        raise _forbidden(pod, f'node "{node}" can not create pods that reference a service account')


class NodeRestriction(Handler):
    """Of creates, updates and deletes by a node; in the mutating phase, as Kubernetes' plugin
    implements Admit (it changes nothing)."""

    def __init__(self, pods: PodReader | None = None) -> None:
        super().__init__(CREATE, UPDATE, DELETE)
        self._pods = pods

    async def admit(self, attrs: Attributes) -> None:
        node = attrs.user_info.node_name if attrs.user_info is not None else None
        if node is None:
            return
        if attrs.operation == CREATE and attrs.subresource == "eviction":
            await self._evict(node, attrs)
        elif attrs.operation == CREATE and attrs.object is not None:
            self._create(node, attrs.object)
        elif attrs.operation == UPDATE and attrs.old_object is not None:
            self._update(node, attrs.subresource, attrs.old_object)
        elif attrs.operation == DELETE and attrs.old_object is not None:
            self._delete(node, attrs.old_object)

    def _create(self, node: str, obj: Message) -> None:
        if isinstance(obj, core_pb2.Pod):
            _mirror_pod_of(node, obj)
        self._own(node, obj)

    async def _evict(self, node: str, attrs: Attributes) -> None:
        """admitPodEviction: a node evicts only pods bound to itself."""
        # The pod named by the URL, else by the Eviction.
        name = attrs.name or (object_meta(attrs.object).name if attrs.object is not None else "")
        if not name:
            raise errors.forbidden(
                resources.POD, "Unknown", "could not determine pod from request data"
            )
        if self._pods is None:
            return
        pod = await self._pods(attrs.namespace, name)  # NotFound as it is
        if pod.spec.node_name != node:
            raise errors.forbidden(
                resources.POD,
                name,
                f"node {node} can only evict pods with spec.nodeName set to itself",
            )

    def _update(self, node: str, subresource: str, old: Message) -> None:
        if isinstance(old, core_pb2.Pod):
            if subresource != "status":
                raise _forbidden(old, f'node "{node}" is not allowed to update pods')
            if old.spec.node_name != node:
                raise _forbidden(
                    old,
                    f'node "{node}" can only update pod status for pods with '
                    f"spec.nodeName set to itself",
                )
        self._own(node, old)

    def _delete(self, node: str, old: Message) -> None:
        if isinstance(old, core_pb2.Pod) and old.spec.node_name != node:
            raise _forbidden(
                old, f'node "{node}" can only delete pods with spec.nodeName set to itself'
            )
        self._own(node, old)

    async def admit_token_request(
        self,
        account: str,
        request: token_request_pb2.TokenRequest,
        pod: Callable[[str], Awaitable[core_pb2.Pod]],
    ) -> None:
        """admitServiceAccount: a node's token must be bound, by uid, to a pod bound to it.
        `pod(name)` reads the pod of the request's namespace (NotFound if there is none)."""
        node = _node()
        if node is None:
            return

        def refused(reason: str) -> errors.APIError:
            return errors.APIError(
                grpc.StatusCode.PERMISSION_DENIED,
                "Forbidden",
                f'serviceaccounts "{account}" is forbidden: {reason}',
            )

        ref = request.spec.bound_object_ref
        if ref.api_version != "v1" or ref.kind != "Pod" or not ref.name:
            raise refused("node requested token not bound to a pod")
        if not ref.uid:
            raise refused("node requested token with a pod binding without a uid")
        bound = await pod(ref.name)
        if bound.metadata.uid != ref.uid:
            raise refused(
                f"the UID in the bound object reference ({ref.uid}) does not match the UID in "
                "record. The object might have been deleted and then recreated"
            )
        if bound.spec.node_name != node:
            raise refused("node requested token bound to a pod scheduled on a different node")

    @staticmethod
    def _own(node: str, obj: Message) -> None:
        """A node's Node, Lease and CSINode are the ones named after it."""
        name = object_meta(obj).name
        if isinstance(obj, core_pb2.Node) and name != node:
            raise _forbidden(obj, f'node "{node}" is not allowed to modify node "{name}"')
        if isinstance(obj, lease_pb2.Lease) and name != node:
            raise _forbidden(
                obj, "can only access node lease with the same name as the requesting node"
            )
        if isinstance(obj, csi_pb2.CSINode) and name != node:
            raise _forbidden(
                obj, "can only access CSINode with the same name as the requesting node"
            )

"""The node authorizer (plugin/pkg/auth/authorizer/node/node_authorizer.go): a kubelet
(system:node:<name> in system:nodes) gets the system:node role's rules, and for secrets,
configmaps, persistent volume claims and volumes and leases only what its own node needs: a secret,
configmap or claim one of the pods bound to it references, the volume such a claim is bound to
(Kubernetes' graph, looked up here from the watch cache's pods and claims), its own lease in
kube-node-lease, its own CSINode, and tokens (serviceaccounts/token) only for the service
accounts its pods run as. What depends on the object written (its own Node, status of its own
pods, mirror pods) is NodeRestriction admission's (apiserver/admission/node_restriction.py)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from apiserver.auth.policy import NODE_RULES, rules_allow
from apiserver.objects import pod_containers
from podplane.api.core.v1 import core_pb2
from podplane.volume import ephemeral

NODE_LEASE_NAMESPACE = "kube-node-lease"
_NODE_RULES = NODE_RULES
# Whether no rule of system:node names objects (then what it allows depends on the verb and
# resource alone, and is decided once for each).
_NODE_RULES_NAME_FREE = not any(r.resource_names for r in _NODE_RULES)
_LEASE_VERBS = ("get", "create", "update", "patch", "delete")
_CSI_NODE_VERBS = _LEASE_VERBS

# The pods stored in a namespace (the watch cache's copies).
PodsInNamespace = Callable[[str], Iterable[core_pb2.Pod]]
# A claim by namespace and name (the watch cache's copy), None if there is none.
ClaimGetter = Callable[[str, str], core_pb2.PersistentVolumeClaim | None]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""


def secret_names(pod: core_pb2.Pod) -> Iterator[str]:
    """Secrets a pod references (podutil.VisitPodSecretNames): pull secrets, secret volumes, env
    and envFrom of every container."""
    spec = pod.spec
    yield from (ref.name for ref in spec.image_pull_secrets)
    yield from (v.secret.secret_name for v in spec.volumes if v.HasField("secret"))
    yield from (s.secret.name for v in spec.volumes for s in v.projected.sources if s.secret.name)
    for c in pod_containers(spec):
        yield from (e.secret_ref.name for e in c.env_from if e.HasField("secret_ref"))
        yield from (
            e.value_from.secret_key_ref.name
            for e in c.env
            if e.value_from.HasField("secret_key_ref")
        )


def config_map_names(pod: core_pb2.Pod) -> Iterator[str]:
    """ConfigMaps a pod references (podutil.VisitPodConfigmapNames): volumes, env, envFrom."""
    spec = pod.spec
    yield from (v.config_map.name for v in spec.volumes if v.HasField("config_map"))
    yield from (
        s.config_map.name for v in spec.volumes for s in v.projected.sources if s.config_map.name
    )
    for c in pod_containers(spec):
        yield from (e.config_map_ref.name for e in c.env_from if e.HasField("config_map_ref"))
        yield from (
            e.value_from.config_map_key_ref.name
            for e in c.env
            if e.value_from.HasField("config_map_key_ref")
        )


def claim_names(pod: core_pb2.Pod) -> Iterator[str]:
    """Persistent volume claims a pod's volumes use, ephemeral volumes' included."""
    return ephemeral.pod_claim_names(pod)


_REFERENCES: dict[str, Callable[[core_pb2.Pod], Iterator[str]]] = {
    "secrets": secret_names,
    "configmaps": config_map_names,
    "persistentvolumeclaims": claim_names,
}


@functools.lru_cache(maxsize=1024)
def _node_role_allows(verb: str, resource: str, subresource: str) -> Decision:
    """The system:node role's decision, made once per verb and resource (a kubelet's status
    updates and reads repeat a few)."""
    return Decision(rules_allow(_NODE_RULES, verb, resource, subresource, ""))


class NodeAuthorizer:
    def __init__(
        self, pods_in_namespace: PodsInNamespace, claims: ClaimGetter | None = None
    ) -> None:
        self._pods_in_namespace = pods_in_namespace
        self._claims = claims

    def authorize(
        self, node: str, verb: str, resource: str, subresource: str, namespace: str, name: str
    ) -> Decision:
        if resource in _REFERENCES and not subresource:
            return self._read_referenced(node, verb, resource, namespace, name)
        if resource == "persistentvolumes" and not subresource:
            return self._read_volume(node, verb, name)
        if resource == "leases":
            return self._lease(node, verb, namespace, name)
        if resource == "csinodes":
            return self._csi_node(node, verb, subresource, name)
        if resource == "serviceaccounts":
            return self._create_token(node, verb, subresource, namespace, name)
        if _NODE_RULES_NAME_FREE:
            return _node_role_allows(verb, resource, subresource)
        return Decision(rules_allow(_NODE_RULES, verb, resource, subresource, name))

    def _read_referenced(
        self, node: str, verb: str, resource: str, namespace: str, name: str
    ) -> Decision:
        if verb != "get" or not name:
            return Decision(False, "can only get individual resources of this type")
        references = _REFERENCES[resource]
        for pod in self._pods_in_namespace(namespace):
            if pod.spec.node_name == node and name in set(references(pod)):
                return Decision(True)
        return Decision(False, f"no relationship found between node '{node}' and this object")

    def _read_volume(self, node: str, verb: str, name: str) -> Decision:
        """A volume is the node's when a claim one of its pods uses is bound to it."""
        if verb != "get" or not name:
            return Decision(False, "can only get individual resources of this type")
        if self._claims is not None:
            # Every pod of every namespace: a volume is cluster-scoped; its claim is not.
            for pod in self._pods_in_namespace(""):
                if pod.spec.node_name != node:
                    continue
                for claim_name in claim_names(pod):
                    claim = self._claims(pod.metadata.namespace, claim_name)
                    if claim is not None and claim.spec.volume_name == name:
                        return Decision(True)
        return Decision(False, f"no relationship found between node '{node}' and this object")

    def _create_token(
        self, node: str, verb: str, subresource: str, namespace: str, name: str
    ) -> Decision:
        """authorizeCreateToken: a token for an account one of the node's pods runs as (which
        pod it is bound to, NodeRestriction checks)."""
        if verb != "create" or not name:
            return Decision(False, "can only create tokens for individual service accounts")
        if subresource != "token":
            return Decision(False, "can only create token subresource of serviceaccount")
        for pod in self._pods_in_namespace(namespace):
            if pod.spec.node_name == node and pod.spec.service_account_name == name:
                return Decision(True)
        return Decision(False, f"no relationship found between node '{node}' and this object")

    @staticmethod
    def _csi_node(node: str, verb: str, subresource: str, name: str) -> Decision:
        """authorizeCSINode: the kubelet registers its node's CSI drivers in the CSINode named
        after it."""
        if verb not in _CSI_NODE_VERBS:
            return Decision(False, "can only get, create, update, patch, or delete a CSINode")
        if subresource:
            return Decision(False, "cannot authorize CSINode subresources")
        # A create names its object in the body: NodeRestriction checks it.
        if verb != "create" and name != node:
            return Decision(
                False, "can only access CSINode with the same name as the requesting node"
            )
        return Decision(True)

    @staticmethod
    def _lease(node: str, verb: str, namespace: str, name: str) -> Decision:
        if verb not in _LEASE_VERBS:
            return Decision(False, "can only get, create, update, patch, or delete a node lease")
        if namespace != NODE_LEASE_NAMESPACE:
            return Decision(
                False, f"can only access leases in the {NODE_LEASE_NAMESPACE} namespace"
            )
        # A create names its object in the body: NodeRestriction checks it.
        if verb != "create" and name != node:
            return Decision(
                False, "can only access node lease with the same name as the requesting node"
            )
        return Decision(True)

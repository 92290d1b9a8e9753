"""The cache indexes that more than one controller asks of the shared informers. An index is
shared with the informer, so each name has one function, defined here (the namespace index is
podplane.client.informer's)."""

from __future__ import annotations

from podplane.api.core.v1 import core_pb2
from podplane.volume import ephemeral

# Pods by the claims they use (namespace/claim).
CLAIMS_INDEX = "claims"
# Bound pods by their node's name.
NODE_INDEX = "node"


def pod_node_name(pod: core_pb2.Pod) -> list[str]:
    """The NODE_INDEX function: a bound pod's node."""
    node = pod.spec.node_name
    return [node] if node else []


def pod_claim_keys(pod: core_pb2.Pod) -> list[str]:
    """The CLAIMS_INDEX function: namespace/name of each claim the pod's volumes use, ephemeral
    volumes' included."""
    if not pod.spec.volumes:
        return []
    namespace = pod.metadata.namespace
    return [f"{namespace}/{name}" for name in ephemeral.pod_claim_names(pod)]

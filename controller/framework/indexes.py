"""The cache indexes that more than one controller asks of the shared informers. An index is
shared with the informer, so each name has one function, defined here (the namespace index is
podplane.client.informer's)."""

from __future__ import annotations

from podplane.api.core.v1 import core_pb2
from podplane.volume import ephemeral

# Pods by the claims they use (namespace/claim).
CLAIMS_INDEX = "claims"


def pod_claim_keys(pod: core_pb2.Pod) -> list[str]:
    """The CLAIMS_INDEX function: namespace/name of each claim the pod's volumes use, ephemeral
    volumes' included."""
    return [f"{pod.metadata.namespace}/{name}" for name in ephemeral.pod_claim_names(pod)]

"""The node's CSINode (pkg/volume/csi/nodeinfomanager): the kubelet makes the CSINode named
after its node once the Node is registered, owned by the Node (so it goes when the Node goes),
with the CSI drivers registered on the node in spec.drivers. podplane's kubelet registers no CSI
driver plugins yet, so the list is empty, as Kubernetes' is on a node without one; and it
migrates no in-tree plugin to CSI, so the CSINode carries no migrated-plugins annotation."""

from __future__ import annotations

import asyncio
import logging

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.api.storage.v1 import csi_pb2
from podplane.client.clientset import ResourceClient, is_already_exists, is_not_found

log = logging.getLogger(__name__)

# First retry after 0.5 s, doubling to at most 30 s (Kubernetes retries with back-off too).
_FIRST_DELAY = 0.5
_MAX_DELAY = 30.0


def new_csi_node(node: core_pb2.Node) -> csi_pb2.CSINode:
    """CreateCSINode's object: named after the node, owned by it, no drivers."""
    return csi_pb2.CSINode(
        api_version="storage.k8s.io/v1",
        kind="CSINode",
        metadata=meta_pb2.ObjectMeta(
            name=node.metadata.name,
            owner_references=[
                meta_pb2.OwnerReference(
                    api_version="v1", kind="Node", name=node.metadata.name, uid=node.metadata.uid
                )
            ],
        ),
        spec=csi_pb2.CSINodeSpec(),
    )


class CSINodeInfo:
    """Makes sure the node's CSINode exists (InitializeCSINodeWithAnnotation)."""

    def __init__(self, csi_nodes: ResourceClient[csi_pb2.CSINode]) -> None:
        self._csi_nodes = csi_nodes

    async def ensure(self, node: core_pb2.Node) -> csi_pb2.CSINode:
        """The node's CSINode: the stored one, else one created now."""
        try:
            return await self._csi_nodes.get(node.metadata.name)
        except Exception as e:
            if not is_not_found(e):
                raise
        try:
            created = await self._csi_nodes.create(new_csi_node(node))
            log.info("created CSINode %s", node.metadata.name)
            return created
        except Exception as e:
            if not is_already_exists(e):  # made by a kubelet that just restarted: fine
                raise
            return await self._csi_nodes.get(node.metadata.name)

    async def ensure_until_done(self, node: core_pb2.Node) -> None:
        delay = _FIRST_DELAY
        while True:
            try:
                await self.ensure(node)
                return
            except Exception as e:  # noqa: BLE001 - retried with back-off
                log.warning(
                    "initializing CSINode %s failed: %s; retrying in %.1fs",
                    node.metadata.name,
                    e,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, _MAX_DELAY)
